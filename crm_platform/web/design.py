"""The form builder: a form's draft edited in place — a palette of every field type,
the canvas (sections, columns, fields, by drag or by keyboard), the property panel of the
selected field, undo and redo, and a live preview rendered by the same renderer as the
workspace. Each change is one step of `services.forms.design`: saved as it is made, on the
revision the page last saw (a second designer's newer change is a conflict, never a
silent overwrite), and refused — with the reason, and nothing saved — when it would leave
the form invalid. Designers only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from crm_platform.auth.principal import Principal
from crm_platform.db import write_from_here
from crm_platform.errors import LoomError
from crm_platform.http_errors import error_text
from crm_platform.models import App, Form
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import design
from crm_platform.services.forms.definitions import (
    app_form_keys,
    compiled_draft,
    form_in_app,
    type_env,
)
from crm_platform.web import web
from crm_platform.web.design_edits import COLUMN_TYPES, edit_for, other_forms
from crm_platform.web.design_fields import (
    COLOURS,
    EXPRESSIONS,
    Unreadable,
    glyph,
    palette,
    panel,
    type_name,
)
from crm_platform.web.form_input import typed_data
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import ui_text
from form_engine import editing
from form_engine.checks import check_definition
from form_engine.context import ValidationContext
from form_engine.expressions.functions import FUNCTIONS
from form_engine.messages import render
from form_engine.rendering import render_form
from form_engine.validation import validate


def designed_form(scope: TenantScope, principal: Principal, app: str, form: str) -> Form:
    """The form a designer works on (anyone else: 403); a change takes SQLite's write
    lock before reading it."""
    principal.require_designer()
    if request.method == "POST":
        write_from_here(scope.session)
    return form_in_app(scope, app, form)


@web.get("/apps/<app>/<form>/design")
@signed_in
def design_page(principal: Principal, scope: TenantScope, app: str, form: str):
    row = designed_form(scope, principal, app, form)
    return render_template("design/page.html", **_context(scope, principal, app, row))


def _context(scope: TenantScope, principal: Principal, app: str, row: Form,
             selected: str | None = None, status: str = "", error: str = "") -> dict[str, Any]:
    definition = editing.normalized(row.draft)
    fields = {item["key"]: item for item in definition["fields"]}
    chosen = selected if selected is not None else request.values.get("field", "")
    item = fields.get(chosen)
    undo_depth, redo_depth = design.history_depth(scope, row)
    forms = other_forms(scope, row)
    return {
        "app_key": app, "form_row": row, "definition": definition, "fields": fields,
        "selected": item, "panel": panel(item, design.published_keys(scope, row), definition,
                                         forms) if item else None,
        "palette": palette(principal.locale), "type_name": type_name, "glyph": glyph,
        "undo_depth": undo_depth, "redo_depth": redo_depth,
        "status": status, "error": error, "other_forms": forms,
        "functions": sorted(FUNCTIONS), "colours": COLOURS, "column_types": COLUMN_TYPES,
    }


@web.post("/apps/<app>/<form>/design/step")
@signed_in
def design_step(principal: Principal, scope: TenantScope, app: str, form: str):
    """One change, named by `op`, on the draft as of `revision`."""
    row = designed_form(scope, principal, app, form)
    values = request.form
    op = values.get("op", "")
    selected = values.get("key") or values.get("field") or None
    try:
        try:
            edit, selected = edit_for(op, values, row, scope, selected)
        except editing.EditRefused as refused:
            raise design.refused_edit(refused, principal.locale, values.get("option", "")) \
                from None
        with scope.session.begin_nested():
            design.edit_draft(scope, principal, row, _revision(values), edit,
                              path=values.get("option", ""))
    except (LoomError, Unreadable) as problem:
        return _refused(scope, principal, app, row, problem)
    return _answer(scope, principal, app, row, selected, ui_text("design_saved",
                                                                 principal.locale))


@web.post("/apps/<app>/<form>/design/<any(undo, redo):which>")
@signed_in
def design_history(principal: Principal, scope: TenantScope, app: str, form: str,
                   which: str):
    row = designed_form(scope, principal, app, form)
    action = design.undo if which == "undo" else design.redo
    try:
        with scope.session.begin_nested():
            action(scope, principal, row, _revision(request.form))
    except LoomError as problem:
        return _refused(scope, principal, app, row, problem)
    done = {"undo": "design_undone", "redo": "design_redone"}[which]
    return _answer(scope, principal, app, row, request.form.get("field") or None,
                   ui_text(done, principal.locale))


@web.post("/apps/<app>/<form>/design/check")
@signed_in
def design_check(principal: Principal, scope: TenantScope, app: str, form: str):
    """The live check of an expression being typed: what the draft's check says of it,
    with the fields and functions it may use. Nothing is saved."""
    row = designed_form(scope, principal, app, form)
    key, option = request.form.get("key", ""), request.form.get("option", "")
    text = request.form.get("value", "")
    if option not in EXPRESSIONS:
        return "", 204
    try:
        trial = editing.set_option(row.draft, key, option, text or None)
    except editing.EditRefused as refused:
        return render_template("design/_check.html", problems=[
            render(refused.code, principal.locale, refused.params)], fields=[], functions=[])
    app_row = scope.get(App, row.app_id, "app")
    problems = [problem.message(principal.locale) for problem in check_definition(
        trial, known_forms=app_form_keys(scope, app_row), env=type_env(scope))
        if option in problem.path and _is_field(trial, key, problem.path)]
    fields = [(item["key"], item.get("label")) for item in editing.normalized(row.draft)[
        "fields"] if item["key"] != key]
    return render_template("design/_check.html", problems=problems, fields=fields,
                           functions=sorted(FUNCTIONS), ok=bool(text) and not problems)


@web.get("/apps/<app>/<form>/design/preview")
@signed_in
def design_preview(principal: Principal, scope: TenantScope, app: str, form: str):
    """The draft as a working form, in the chosen language and width: typing runs its
    conditions and checks (`/design/preview` POST); nothing is saved."""
    row = designed_form(scope, principal, app, form)
    return _preview(scope, row, app, request.args.get("lang", principal.locale),
                    request.args.get("width", "desktop"), MultiDict())


@web.post("/apps/<app>/<form>/design/preview")
@signed_in
def design_preview_check(principal: Principal, scope: TenantScope, app: str, form: str):
    row = designed_form(scope, principal, app, form)
    return _preview(scope, row, app, request.form.get("lang", principal.locale),
                    request.form.get("width", "desktop"), request.form, checked=True)


def _preview(scope: TenantScope, row: Form, app: str, lang: str, width: str,
             posted: MultiDict[str, str], checked: bool = False) -> Any:
    lang = "zh" if lang == "zh" else "en"
    compiled = compiled_draft(scope, row)
    data = typed_data(compiled, posted) if checked else {}
    result = validate(compiled, data, ValidationContext(mode="input"))
    html = render_form(compiled, result.data if checked else {}, result.errors if checked
                       else [], lang, visible=result.visible)
    return render_template("design/_preview.html", form_html=Markup(html),  # escaped by it
                           lang=lang,
                           width="phone" if width == "phone" else "desktop",
                           app_key=app, form_row=row, checked=checked,
                           problems=len(result.errors) if checked else 0)


def _is_field(definition: Mapping[str, Any], key: str, path: str) -> bool:
    keys = [item["key"] for item in definition.get("fields", [])]
    return key in keys and path.startswith(f"fields[{keys.index(key)}]")


def _revision(values: Mapping[str, str]) -> int | None:
    text = values.get("revision", "")
    return int(text) if text.isdigit() else None


def _answer(scope: TenantScope, principal: Principal, app: str, row: Form,
            selected: str | None, status: str) -> Any:
    if not request.headers.get("HX-Request"):
        return redirect(url_for("web.design_page", app=app, form=row.key,
                                field=selected or None))
    return render_template("design/_builder.html",
                           **_context(scope, principal, app, row, selected, status))


def _refused(scope: TenantScope, principal: Principal, app: str, row: Form,
             problem: Exception) -> Any:
    """The reason, where the builder says whether its changes are saved; the page is
    left as it is, so what was typed stays in its input."""
    message = (render(problem.code, principal.locale, {}) if isinstance(problem, Unreadable)
               else error_text(problem, principal.locale))
    status = getattr(problem, "status", 422)
    if not request.headers.get("HX-Request"):
        context = _context(scope, principal, app, row, request.form.get("key"),
                           error=message)
        return render_template("design/page.html", **context), status
    response = make_response(render_template("design/_status.html", error=message,
                                             conflict=status == 409, form_row=row), status)
    response.headers["HX-Retarget"] = "#design-status"
    response.headers["HX-Reswap"] = "outerHTML"
    response.headers["HX-Reselect"] = "#design-status"
    return response
