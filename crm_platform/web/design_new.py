"""Starting from nothing: a new app, and a new form in an app — a name in English and
Chinese (the key is made from it, and may be typed), then straight into the builder with a
first "Name" field to build on; or a form proposed from a spreadsheet's columns, whose
rows are imported once it is published. Designers only; the same services as the API."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.models import App
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.apps import app_by_key, create_app_record
from crm_platform.services.forms.definitions import app_form_keys, create_form, type_env
from crm_platform.services.forms.from_sheet import propose_form
from crm_platform.services.imports.files import read_sheet
from crm_platform.services.imports.wizard import keep_for_new_form
from crm_platform.web import web
from crm_platform.web.signed_in import signed_in
from form_engine.editing import KEY, new_key


def _names() -> dict[str, str]:
    return {language: request.form.get(language, "").strip()[:200] for language in ("en", "zh")}


def _key(names: dict[str, str], taken: set[str], kind: str) -> str:
    typed = request.form.get("key", "").strip()
    return typed if typed else new_key(names["en"] or kind, taken)


@web.route("/apps/new", methods=["GET", "POST"])
@signed_in
def new_app(principal: Principal, scope: TenantScope):
    principal.require_designer()
    error = ""
    if request.method == "POST":
        names = _names()
        name: Any = {language: text for language, text in names.items() if text}
        try:
            if not name:
                raise LoomError("name_required")
            key = _key(names, set(), "app")
            with scope.session.begin_nested():
                app = create_app_record(scope, principal, {"key": _checked_key(key),
                                                           "name": name})
        except LoomError as problem:
            error = error_text(problem, principal.locale)
        else:
            return redirect(url_for("web.new_form", app=app.key))
    return render_template("design/new.html", kind="app", error=error,
                           values=request.form), 422 if error else 200


@web.route("/apps/<app>/forms/new", methods=["GET", "POST"])
@signed_in
def new_form(principal: Principal, scope: TenantScope, app: str):
    principal.require_designer()
    row = app_by_key(scope, app)
    error = ""
    if request.method == "POST":
        names = _names()
        label = {language: text for language, text in names.items() if text}
        upload = request.files.get("sheet")
        try:
            if not label:
                raise LoomError("name_required")
            key = _checked_key(_key(names, app_form_keys(scope, row), "form"))
            with scope.session.begin_nested():
                if upload is not None and upload.filename:
                    _from_sheet(scope, principal, row, key, label, upload)
                else:
                    create_form(scope, principal, row, {
                        "key": key, "label": label, "title": "{name}",
                        "fields": [{"key": "name", "type": "text", "required": True,
                                    "label": {"en": "Name", "zh": "名称"}}]})
        except LoomError as problem:
            error = error_text(problem, principal.locale)
        else:
            return redirect(url_for("web.design_page", app=app, form=key,
                                    field=None if upload and upload.filename else "name"))
    return render_template("design/new.html", kind="form", app_row=row, error=error,
                           values=request.form), 422 if error else 200


def _from_sheet(scope: TenantScope, principal: Principal, app: App, key: str,
                label: dict[str, str], upload: Any) -> None:
    """A form proposed from the spreadsheet's columns, and the spreadsheet kept to be
    imported once the form is published."""
    content = upload.read()
    sheet = read_sheet(content, upload.filename)
    definition = propose_form(key, label, sheet.headers, sheet.rows,
                              type_env(scope).region)
    form = create_form(scope, principal, app, definition)
    keep_for_new_form(scope, principal, form, content, upload.filename, sheet)


def _checked_key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise LoomError("bad_key", value=key)
    return key
