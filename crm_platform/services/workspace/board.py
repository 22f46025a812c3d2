"""A form's records as a kanban board: one column per option of a select field (the sales
pipeline's stages), plus one for records with none; each column with its count, the sum
of a chosen money or number field, and its first cards — all through the same finding as
the list, so the board shows what the list would."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func

from crm_platform.auth.principal import Principal
from crm_platform.errors import invalid
from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope
from crm_platform.services.forms.definitions import now_in
from crm_platform.services.records import query as record_query
from crm_platform.services.records.finding import Found, find_records
from crm_platform.services.storage.data_fields import data_field
from crm_platform.services.storage.filters import plan_filter
from form_engine.compiled import CompiledField, CompiledForm
from form_engine.field_types.rollup import result_of

CARDS = 50
SUMMABLE = ("currency", "number", "percent", "rollup")


@dataclass(frozen=True)
class BoardColumn:
    value: str | None        # the option's value; None: the column of records with none
    label: Any
    colour: str | None
    count: int
    total: Decimal | None    # the sum of the board's money field over the column
    cards: list[Record]


@dataclass(frozen=True)
class Board:
    group: CompiledField
    total_field: CompiledField | None
    columns: list[BoardColumn]
    found: Found


def groupable(form: CompiledForm) -> list[CompiledField]:
    """The fields a board can be grouped by: single-choice selects."""
    return [item for item in form.fields if item.type == "select"]


def summable(form: CompiledForm) -> list[CompiledField]:
    return [item for item in form.fields if item.type in SUMMABLE and (
        item.type != "rollup" or result_of(item.spec) == "number")]   # not a latest date


def board(scope: TenantScope, actor: Principal, form: Form, group_key: str | None,
          total_key: str | None, filter_node: Any = None, search: str | None = None
          ) -> Board:
    """The board of `form` grouped by `group_key` (default: its first select field)."""
    found = find_records(scope, actor, form, filter_node, search)
    choices = groupable(found.form)
    group = next((item for item in choices if item.key == group_key),
                 choices[0] if choices and not group_key else None)
    if group is None:
        raise invalid("by", "not_groupable", value=group_key or "")
    numbers = summable(found.form)
    total = next((item for item in numbers if item.key == total_key),
                 None if total_key == "" else (numbers[0] if numbers and not total_key
                                               else None))
    sort = record_query.parse_sort(found.form, "-updated_at")
    columns = []
    for option in [*group.spec.get("options", []), None]:
        value = option["value"] if option else None
        condition = ({"field": group.key, "op": "eq", "value": value} if option
                     else {"field": group.key, "op": "is_empty"})
        listing = found.listing.narrowed(plan_filter(found.form, condition, now_in(scope)))
        statement = listing.select(scope).with_only_columns(
            func.count(), func.sum(data_field(total.key, "number")) if total else func.count())
        count, summed = scope.session.execute(statement).one()
        if option is None and not count:
            continue  # no "none" column unless some record has no value
        cards, _next = record_query.page(scope, listing, sort, CARDS, None)
        columns.append(BoardColumn(value, option.get("label", value) if option else None,
                                   option.get("colour") if option else None, count,
                                   Decimal(summed) if total and summed is not None else None,
                                   cards))
    return Board(group, total, columns, found)
