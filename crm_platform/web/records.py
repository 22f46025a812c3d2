"""A form's records as a list: columns, filter builder, search, sort, pages, the column
chooser, and bulk delete / transfer / export. Everything is found through the same service
as the API's list (`records.finding`), so a page never shows what the API would not."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

from crm_platform.auth.principal import Principal
from crm_platform.errors import FieldError, LoomError, ValidationFailed
from crm_platform.http_downloads import export_response
from crm_platform.http_errors import error_body
from crm_platform.i18n import render_error
from crm_platform.models import User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import form_in_app
from crm_platform.services.records import operations as record_service
from crm_platform.services.records import owners
from crm_platform.services.records import query as record_query
from crm_platform.services.records.finding import Found, find_records
from crm_platform.services.workspace.references import Names, active_people, names_for
from crm_platform.web import web
from crm_platform.web.cells import cell_maker
from crm_platform.web.formatting import Formats
from crm_platform.web.list_query import ListQuery
from crm_platform.web.saved_views import opened_view, views_context
from crm_platform.web.signed_in import same_site_path, signed_in
from crm_platform.web.strings import ui_text
from form_engine.compiled import CompiledField, CompiledForm
from form_engine.messages import label_text
from form_engine.titles import record_title

PAGE_SIZE = 50
PICKED = 20  # choices a lookup picker offers at once
NUMERIC = ("currency", "number", "percent", "rollup")  # right-aligned columns
DEFAULT_COLUMNS = 6
_CONDITION = re.compile(r"^filter(?:\.and\[(\d+)\])?")


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    item: CompiledField | None  # None: a system column (owner, updated_at)


def _listable(form: CompiledForm) -> list[CompiledField]:
    return [item for item in form.fields if item.kind != "layout"]


def _columns(form: CompiledForm, chosen: tuple[str, ...]) -> list[Column]:
    fields = {item.key: item for item in _listable(form)}
    system = {"owner": Column("owner", None, None),
              "updated_at": Column("updated_at", None, None)}
    first = [item.key for item in _listable(form) if item.rows is None][:DEFAULT_COLUMNS]
    keys = [key for key in chosen if key in fields or key in system] or [
        *first, "owner", "updated_at"]
    return [Column(key, fields[key].label, fields[key]) if key in fields else system[key]
            for key in keys]


def _filter_errors(error: ValidationFailed, query: ListQuery, form: CompiledForm,
                   locale: str) -> list[dict[str, Any]]:
    """Each problem's message, naming the field of its filter row as the user knows it (not
    the filter's JSON path), with the row's index on the page."""
    errors = []
    for problem in error.fields:
        match = _CONDITION.match(problem.path)
        row = int(match.group(1) or 0) if match else 0
        key = query.conditions[row].field if row < len(query.conditions) else ""
        item = form.by_key.get(key)
        named = FieldError(problem.path, problem.code, {
            **problem.params, "field": label_text(item.label, locale) if item else key})
        message = render_error(ValidationFailed(fields=[named]), locale)["fields"][0]["message"]
        errors.append({"message": message, "row": row})
    return errors


@web.get("/apps/<app>/<form>")
@signed_in
def record_list(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    query, view = opened_view(scope, principal, row)
    errors: list[dict[str, Any]] = []
    records: list[Any] = []
    next_cursor = None
    try:
        found = find_records(scope, principal, row, query.filter(), query.search)
        sort = record_query.parse_sort(found.form, query.sort or None)
        records, next_cursor = record_query.page(scope, found.listing, sort, PAGE_SIZE,
                                                 query.cursor)
    except ValidationFailed as error:
        found = find_records(scope, principal, row)
        errors = _filter_errors(error, query, found.form, principal.locale)
    columns = _columns(found.form, query.columns)
    if query.columns:  # links carry the columns shown, never a key the form does not show
        query = replace(query, columns=tuple(column.key for column in columns))
    names = names_for(scope, principal, row, found.form, [r.data for r in records],
                      [r.owner_id for r in records])
    fmt = Formats(principal.locale, principal.timezone)
    context = {
        "app_key": app, "form_row": row, "form": found.form, "query": query,
        "columns": columns, "all_columns": _column_choices(found.form),
        "records": records, "next_cursor": next_cursor,
        "errors": errors, "error_rows": {item["row"] for item in errors}, "access": found.access,
        "rows": _table_rows(records, columns, found, names, fmt, principal.locale,
                            url_for("web.record_list", app=app, form=form)),
        "filterable": [item for item in _listable(found.form) if item.field_type.operators],
        "base": url_for("web.record_list", app=app, form=form),
        "owners": active_people(scope) if found.access.update != "none" else [],
        "has_board": any(item.type == "select" for item in found.form.fields),
        **views_context(scope, principal, row), "view": view,
    }
    template = ("records/_results.html" if request.headers.get("HX-Request")
                and request.headers.get("HX-Target") == "results" else "records/list.html")
    return render_template(template, **context), 422 if errors else 200


def _column_choices(form: CompiledForm) -> list[Column]:
    return [Column(item.key, item.label, item) for item in _listable(form)] + [
        Column("owner", None, None), Column("updated_at", None, None)]


def _column_label(column: Column, locale: str) -> str:
    if column.item is not None:
        return label_text(column.label, locale)
    return ui_text("owner" if column.key == "owner" else "updated_at", locale)


def _table_rows(records: list[Any], columns: list[Column], found: Found, names: Names,
                fmt: Formats, locale: str, base: str) -> Markup:
    """The table's rows, made in one Python loop of plain strings: a page of 50 rows by 20
    columns is a thousand cells, and a template step (or a Markup operation) for each
    costs more than the rest of the page. Every text is escaped here, as the template
    would."""
    openings = ["<td data-label=\"{}\"{}>".format(
        html.escape(_column_label(column, locale)),
        ' class="number"' if column.item and column.item.type in NUMERIC else "")
        for column in columns]
    base = html.escape(base)
    makers = [_column_text(column, names, fmt, locale) for column in columns]
    rows = []
    for record in records:
        title = record_title(found.form, record.data, found.access.hidden) or f"#{record.id}"
        texts = [html.escape(text(record)) for text in makers]
        if texts:
            texts[0] = f'<a href="{base}/{record.id}">{texts[0] or html.escape(title)}</a>'
        label = html.escape(ui_text("select_record", locale, title=title))
        cells = "".join(f"{opening}{text}</td>" for opening, text in zip(openings, texts,
                                                                          strict=True))
        rows.append(f'<tr><td class="pick"><input type="checkbox" name="id" '
                    f'value="{record.id}" aria-label="{label}"></td>{cells}</tr>')
    return Markup("\n".join(rows))  # every part escaped above


def _column_text(column: Column, names: Names, fmt: Formats, locale: str
                 ) -> Callable[[Any], str]:
    """The record → cell text function of a column, chosen once per page."""
    if column.key == "owner" and column.item is None:
        return lambda record: names.users.get(record.owner_id, "") if record.owner_id else ""
    if column.item is None:
        return lambda record: fmt.datetime(record.updated_at)
    text, key = cell_maker(column.item, fmt, locale, names), column.key
    return lambda record: text(record.data.get(key))


@web.get("/apps/<app>/<form>/count")
@signed_in
def record_count(principal: Principal, scope: TenantScope, app: str, form: str):
    """How many records the list's filters find, capped: asked for by the list after it
    has shown its first page (counting is the slowest part of a list)."""
    row = form_in_app(scope, app, form)
    query, _view = opened_view(scope, principal, row)
    try:
        found = find_records(scope, principal, row, query.filter(), query.search)
    except ValidationFailed:
        return "", 204  # the list itself names what is wrong with the filter
    count, exact = record_query.count(scope.session, found.listing.select(scope))
    return ui_text("count_exact" if exact else "count_more", principal.locale, count=count)


@web.get("/apps/<app>/<form>/export")
@signed_in
def record_export(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    query = ListQuery.from_args(request.args)
    found: Found = find_records(scope, principal, row, query.filter(), query.search)
    file_format = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    return export_response(found, found.listing.select(scope), f"{app}-{form}", file_format,
                           principal.locale)


@web.post("/apps/<app>/<form>/bulk")
@signed_in
def record_bulk(principal: Principal, scope: TenantScope, app: str, form: str):
    row = form_in_app(scope, app, form)
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()][:PAGE_SIZE]
    back = same_site_path(request.form.get("back")) or url_for("web.record_list", app=app,
                                                                 form=form)
    action = request.form.get("action")
    locale = principal.locale
    if not ids:
        flash(ui_text("nothing_selected", locale), "error")
        return redirect(back)
    if action == "export":
        return redirect(ListQuery(ids=tuple(ids)).url(
            url_for("web.record_export", app=app, form=form), format="xlsx"))
    if action == "delete" and request.form.get("confirmed") != "yes":
        return render_template("records/confirm_delete.html", app_key=app, form_row=row,
                               ids=ids, back=back)
    owner = None
    if action == "transfer":
        chosen = request.form.get("owner", "")
        owner = scope.find(User, int(chosen)) if chosen.isdigit() else None
        if owner is None:
            flash(ui_text("choose_owner", locale), "error")
            return redirect(back)
    done, failed = 0, []
    for record_id in ids:
        try:
            with scope.session.begin_nested():
                if action == "delete":
                    record_service.delete_record(scope, principal, row, record_id)
                elif action == "transfer":
                    owners.transfer_record(scope, principal, row, record_id,
                                                   owner.id)
                else:
                    break
            done += 1
        except LoomError as error:
            failed.append((record_id, error_body(error, locale)["error"]["message"]))
    if done:
        flash(ui_text("done_deleted" if action == "delete" else "done_transferred", locale,
                      count=done, name=owner.name if owner else ""), "done")
    if failed:
        flash(ui_text("not_done", locale, count=len(failed)) + " " + "; ".join(
            f"#{record_id}: {message}" for record_id, message in failed[:10]), "error")
    return redirect(back)


@web.get("/apps/<app>/<form>/pick")
@signed_in
def record_pick(principal: Principal, scope: TenantScope, app: str, form: str):
    """A lookup picker's choices: the records of `form` the reader may read that match
    `q` (its search), or the one record `id` — as `<option>`s of id and title."""
    row = form_in_app(scope, app, form)
    record_id = request.args.get("id", type=int)
    search = request.args.get("q", "").strip()[:200]
    node = {"field": "id", "op": "eq", "value": record_id} if record_id is not None else None
    found = find_records(scope, principal, row, node, search or None)
    sort = record_query.parse_sort(found.form, "-updated_at")
    records, _next = record_query.page(scope, found.listing, sort, PICKED, None)
    return render_template("records/_picks.html", choices=[
        (record.id, record_title(found.form, record.data, found.access.hidden)
         or f"#{record.id}") for record in records])
