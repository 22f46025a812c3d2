"""The language switch in the page header: a signed-in user's choice is saved as their own
setting (the same as `PATCH /api/v1/me`); a visitor's is kept in their session."""

from __future__ import annotations

from flask import g, redirect, request, session, url_for

from crm_platform.db import request_session
from crm_platform.i18n import LOCALES
from crm_platform.scoping import TenantScope
from crm_platform.services.identity.users import update_own_settings
from crm_platform.web import web
from crm_platform.web.signed_in import same_site_path


@web.post("/preferences/language")
def switch_language():
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        principal = g.get("principal")
        if principal is not None:
            update_own_settings(TenantScope(request_session(), principal.tenant_id),
                                principal, {"locale": locale})
        session["locale"] = locale
    return redirect(same_site_path(request.form.get("next")) or url_for("web.home"))

