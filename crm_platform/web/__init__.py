"""Server-rendered pages: sign-in, sign-out and the home page."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from crm_platform.auth.login import authenticate, session_fingerprint, signed_in_user
from crm_platform.db import database, request_session, utcnow
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_body, request_locale
from crm_platform.models import Tenant, User
from crm_platform.web.strings import ui_text

web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static")


@web.app_context_processor
def _template_helpers():
    locale = request_locale()
    return {"t": lambda key, **params: ui_text(key, locale, **params), "locale": locale}


@web.get("/login")
def login_form():
    if g.get("principal") is not None:
        return redirect(url_for("web.home"))
    return render_template("login.html", form={"tenant": request.args.get("tenant", "")})


@web.post("/login")
def login():
    form = {name: request.form.get(name, "").strip() for name in ("tenant", "email")}
    password = request.form.get("password", "")
    try:
        user_key = authenticate(database(), current_app.extensions["loom.throttler"],
                                form["tenant"], form["email"], password, request.remote_addr)
        user = signed_in_user(request_session(), user_key)
    except LoomError as error:
        body = error_body(error, request_locale())
        response = current_app.make_response(
            (render_template("login.html", form=form, error=body["error"]), error.status))
        response.headers.update(error.headers)
        return response
    session.clear()
    session.update(user_id=user.id, tenant_id=user.tenant_id, fp=session_fingerprint(user),
                   iat=int(utcnow().timestamp()))
    session.permanent = True
    return redirect(url_for("web.home"))


@web.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("web.login_form"))


@web.get("/")
def home():
    principal = g.get("principal")
    if principal is None:
        return redirect(url_for("web.login_form"))
    db_session = request_session()
    user = db_session.get(User, (principal.tenant_id, principal.user_id))
    tenant = db_session.get(Tenant, principal.tenant_id)
    return render_template("home.html", user=user, tenant=tenant, principal=principal)


def init_app(app: Flask) -> None:
    app.register_blueprint(web)
