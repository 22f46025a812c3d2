"""Signing in and out of the web pages (session cookie, CSRF-protected forms)."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for

from crm_platform.auth.login import authenticate, session_fingerprint, signed_in_user
from crm_platform.db import database, request_session, utcnow
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_body, request_locale
from crm_platform.web import web
from crm_platform.web.signed_in import same_site_path


@web.get("/login")
def login_form():
    if g.get("principal") is not None:
        return redirect(url_for("web.home"))
    return render_template("auth/login.html", form={
        "tenant": request.args.get("tenant", ""),
        "next": same_site_path(request.args.get("next")) or ""})


@web.post("/login")
def login():
    form = {name: request.form.get(name, "").strip() for name in ("tenant", "email", "next")}
    password = request.form.get("password", "")
    try:
        user_key = authenticate(database(), current_app.extensions["loom.throttler"],
                                form["tenant"], form["email"], password, request.remote_addr)
        user = signed_in_user(request_session(), user_key)
    except LoomError as error:
        body = error_body(error, request_locale())
        response = current_app.make_response(
            (render_template("auth/login.html", form=form, error=body["error"]),
             error.status))
        response.headers.update(error.headers)
        return response
    session.clear()
    session.update(user_id=user.id, tenant_id=user.tenant_id,
                   fp=session_fingerprint(user.id, user.password_hash),
                   iat=int(utcnow().timestamp()))
    session.permanent = True
    return redirect(same_site_path(form["next"]) or url_for("web.home"))


@web.post("/logout")
def logout():
    locale = request_locale()
    session.clear()
    session["locale"] = locale  # the sign-in page stays in the language just used
    return redirect(url_for("web.login_form"))
