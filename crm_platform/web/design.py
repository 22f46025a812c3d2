"""The form builder: a form's draft edited in place — a palette of every field type,
the canvas (sections, columns, fields, by drag or by keyboard), the property panel of the
selected field, undo and redo, and a live preview rendered by the same renderer as the
workspace. Each change is one step of `services.forms.design`: saved as it is made, on the
revision the page last saw (a second designer's newer change is a conflict, never a
silent overwrite), and refused — with the reason, and nothing saved — when it would leave
the form invalid. Designers only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from crm_platform.web.design_fields import (
    COLOURS,
    EXPRESSIONS,
    Unreadable,
    default_value,
    glyph,
    palette,
    panel,
    parsed,
    type_name,
    widget_of,
)
from crm_platform.web.form_input import typed_data
from crm_platform.web.signed_in import signed_in
from crm_platform.web.strings import ui_text
from form_engine import editing
from form_engine.checks import check_definition
from form_engine.context import ValidationContext
from form_engine.expressions.functions import FUNCTIONS
from form_engine.field_types import FIELD_TYPES
from form_engine.messages import render
from form_engine.metaschema import field_options
from form_engine.rendering import render_form
from form_engine.validation import validate

Edit = Callable[[Mapping[str, Any]], dict[str, Any]]


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
    return {
        "app_key": app, "form_row": row, "definition": definition, "fields": fields,
        "selected": item, "panel": panel(item, design.published_keys(scope, row), definition,
                                         _other_forms(scope, row)) if item else None,
        "palette": palette(principal.locale), "type_name": type_name, "glyph": glyph,
        "undo_depth": undo_depth, "redo_depth": redo_depth,
        "status": status, "error": error, "other_forms": _other_forms(scope, row),
        "functions": sorted(FUNCTIONS), "colours": COLOURS, "column_types": COLUMN_TYPES,
    }


def _other_forms(scope: TenantScope, row: Form) -> list[str]:
    app = scope.get(App, row.app_id, "app")
    return sorted(app_form_keys(scope, app) - {row.key})


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
            edit, selected = _edit(op, values, row, scope, selected)
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


def _edit(op: str, values: Mapping[str, str], row: Form, scope: TenantScope,
          selected: str | None) -> tuple[Edit, str | None]:
    """The edit `op` names, and the field selected once it is made."""
    key = values.get("key", "")
    section = _number(values.get("section"))
    index = _number(values.get("index"))
    if op == "add":
        type_ = values.get("type", "")
        label = {"en": type_name(type_, "en"), "zh": type_name(type_, "zh")}
        forms = _other_forms(scope, row)
        trial, new_key = editing.add_field(row.draft, type_, after=values.get("after") or None,
                                           section=section, index=index, label=label,
                                           forms=forms)
        return (lambda _draft: trial), new_key
    if op == "move":
        return (lambda draft: editing.move_field(draft, key, section or 0, index or 0)), key
    if op == "step":
        direction = -1 if values.get("direction") == "up" else 1
        return (lambda draft: editing.step_field(draft, key, direction)), key
    if op == "to_section":
        return (lambda draft: editing.move_field(draft, key, section or 0, 10**6)), key
    if op == "remove":
        return (lambda draft: editing.remove_field(draft, key)), None
    if op == "set":
        renamed = values.get("option") == "key" and values.get("value", "").strip()
        return _set(values, row, scope), renamed or key
    if op.startswith("option_"):
        return _option_edit(op, values), key
    if op.startswith("column_"):
        return _column_edit(op, values), key
    if op == "section_add":
        return (lambda draft: editing.add_section(draft, section)), selected
    if op == "section_set":
        columns = _number(values.get("columns"))
        return (lambda draft: editing.set_section(draft, section or 0, label={
            "en": values.get("en", ""), "zh": values.get("zh", "")}, columns=columns)), None
    if op == "section_move":
        direction = -1 if values.get("direction") == "up" else 1
        return (lambda draft: editing.move_section(draft, section or 0, direction)), None
    if op == "section_remove":
        return (lambda draft: editing.remove_section(draft, section or 0)), None
    if op == "form_set":
        option = values.get("option", "")
        if option in ("label", "description"):
            value: Any = parsed("label", values)
        elif option == "dedup":
            chosen = [key for key in values.getlist("value") if key]  # type: ignore[attr-defined]
            value = [chosen] if chosen else None
        elif option == "title":
            value = "{" + values["value"] + "}" if values.get("value") else None
        else:
            value = values.get("value", "").strip() or None
        return (lambda draft: editing.set_form_option(draft, option, value)), selected
    if op.startswith("rule_"):
        return _rule_edit(op, values), selected
    raise LoomError("bad_request").with_status(400)


def _set(values: Mapping[str, str], row: Form, scope: TenantScope) -> Edit:
    key, option = values.get("key", ""), values.get("option", "")
    item = next((item for item in row.draft.get("fields", []) if item["key"] == key), None)
    if item is None:
        raise editing.EditRefused("no_such_field", value=key)
    schema = field_options(FIELD_TYPES[item["type"]]).get(option)
    if schema is None or option in ("type", "options", "fields"):
        raise editing.EditRefused("not_a_form_option", value=option)
    widget, _choices = widget_of(option, schema)
    if option == "key":
        new = values.get("value", "").strip()
        if key in design.published_keys(scope, row) and new != key:
            raise editing.EditRefused("key_is_published", value=key)
        return lambda draft: editing.set_option(draft, key, "key", new)
    value = (default_value(item["type"], values.get("value", "")) if option == "default"
             else parsed(widget, values))
    return lambda draft: editing.set_option(draft, key, option, value)


COLUMN_TYPES = ("text", "number", "currency", "percent", "date", "email", "phone")


def _column_edit(op: str, values: Mapping[str, str]) -> Edit:
    """A subtable's columns: add one of a simple type, relabel it, make it required,
    remove it."""
    key = values.get("key", "")
    index = _number(values.get("index")) or 0

    def change(draft: Mapping[str, Any]) -> dict[str, Any]:
        result = editing.normalized(draft)
        item = next((item for item in result["fields"] if item["key"] == key), None)
        if item is None or item["type"] != "subtable":
            raise editing.EditRefused("no_such_field", value=key)
        columns = item["fields"]
        if op == "column_add":
            type_ = values.get("type", "text")
            if type_ not in COLUMN_TYPES:
                raise editing.EditRefused("unknown_type", name=type_,
                                          known=", ".join(COLUMN_TYPES))
            label = {"en": type_name(type_, "en"), "zh": type_name(type_, "zh")}
            columns.append({"key": editing.new_key(label["en"], editing.field_keys(result)),
                            "type": type_, "label": label})
        elif not 0 <= index < len(columns):
            raise editing.EditRefused("no_such_field", value=f"{key}[{index}]")
        elif op == "column_remove":
            del columns[index]
        elif op == "column_set":
            column = columns[index]
            column["label"] = parsed("label", values) or column.get("label") or column["key"]
            if values.get("required"):
                column["required"] = True
            else:
                column.pop("required", None)
        return result

    return change


def _rule_edit(op: str, values: Mapping[str, str]) -> Edit:
    """The form's rules: "error if <expression>", a message in both languages, and the
    field it points at."""
    index = _number(values.get("index")) or 0

    def change(draft: Mapping[str, Any]) -> dict[str, Any]:
        rules = [dict(rule) for rule in draft.get("rules", [])]
        if op == "rule_add":
            taken = {rule["key"] for rule in rules}
            rules.append({"key": editing.new_key(f"rule_{len(rules) + 1}", taken),
                          "error_if": "false", "message": {"en": "This record is not "
                                                                 "valid.",
                                                           "zh": "此记录不符合规则。"}})
        elif not 0 <= index < len(rules):
            raise editing.EditRefused("no_such_field", value=f"rules[{index}]")
        elif op == "rule_remove":
            del rules[index]
        elif op == "rule_set":
            rule = rules[index]
            rule["error_if"] = values.get("error_if", "").strip() or rule["error_if"]
            rule["message"] = parsed("label", values) or rule["message"]
            if values.get("target"):
                rule["field"] = values["target"]
            else:
                rule.pop("field", None)
        return editing.set_form_option(draft, "rules", rules)

    return change


def _option_edit(op: str, values: Mapping[str, str]) -> Edit:
    """A choice's options: add one, change its value, labels or colour, move or remove it."""
    key = values.get("key", "")
    index = _number(values.get("index")) or 0

    def change(draft: Mapping[str, Any]) -> dict[str, Any]:
        result = editing.normalized(draft)
        item = next((item for item in result["fields"] if item["key"] == key), None)
        if item is None or "options" not in item:
            raise editing.EditRefused("no_such_field", value=key)
        options = item["options"]
        if op == "option_add":
            taken = {option["value"] for option in options}
            value = editing.new_key(f"option_{len(options) + 1}", taken)
            number = len(options) + 1
            options.append({"value": value, "label": {"en": f"Option {number}",
                                                      "zh": f"选项 {number}"}})
        elif not 0 <= index < len(options):
            raise editing.EditRefused("no_such_field", value=f"{key}[{index}]")
        elif op == "option_remove":
            del options[index]
        elif op == "option_move":
            target = index + (-1 if values.get("direction") == "up" else 1)
            if 0 <= target < len(options):
                options[index], options[target] = options[target], options[index]
        elif op == "option_set":
            option = options[index]
            option["value"] = values.get("value", option["value"]).strip() or option["value"]
            label = parsed("label", values)
            if label:
                option["label"] = label
            else:
                option.pop("label", None)
            colour = values.get("colour", "").strip()
            if colour:
                option["colour"] = colour
            else:
                option.pop("colour", None)
        return result

    return change


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None
