"""Server-rendered pages (see ../shared/UI.md): one module per feature, each with its own
template folder, like `api/`. Views are thin: they parse the request, call a service and
render; no query or rule lives here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, g

from crm_platform.http_errors import request_locale
from crm_platform.web.formatting import Formats
from crm_platform.web.strings import ui_text

web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static")


@web.app_context_processor
def _template_helpers() -> dict[str, Any]:
    from crm_platform.web.shell import Shell

    locale = request_locale()
    principal = g.get("principal")
    return {
        "t": lambda key, **params: ui_text(key, locale, **params),
        "locale": locale,
        "fmt": Formats(locale, principal.timezone if principal else "UTC"),
        "label": lambda value: _label(value, locale),
        "shell": Shell(principal) if principal is not None else None,
    }


def _label(value: Any, locale: str) -> str:
    from form_engine.messages import label_text

    return label_text(value, locale)


def init_app(app: Flask) -> None:
    from crm_platform.web import (  # noqa: F401  (modules register their routes)
        api_docs,
        approvals,
        auth,
        board,
        design,
        design_new,
        design_publish,
        entry,
        gallery,
        home,
        imports,
        notifications,
        preferences,
        record_page,
        records,
        saved_views,
    )

    app.register_blueprint(web)
