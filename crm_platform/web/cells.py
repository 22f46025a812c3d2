"""A record's values as a page shows them, in the reader's language: money and numbers by
Babel, dates in the reader's zone, options by their labels, people, departments and
looked-up records by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_platform.services.workspace.references import Names
from crm_platform.web.formatting import Formats
from crm_platform.web.strings import ui_text
from form_engine.compiled import CompiledField
from form_engine.field_types.rollup import result_of

_NUMBERS = ("number", "rollup", "rating")


def cell_text(item: CompiledField, value: Any, fmt: Formats, locale: str, names: Names
              ) -> str:
    return cell_maker(item, fmt, locale, names)(value)


def cell_maker(item: CompiledField, fmt: Formats, locale: str, names: Names
               ) -> Callable[[Any], str]:
    """The field's value → text function, chosen once per column of a list, not per cell."""
    text = _text_of(item, fmt, locale, names)

    def cell(value: Any) -> str:
        return "" if value is None or value == "" or value == [] else text(value)

    return cell


def _text_of(item: CompiledField, fmt: Formats, locale: str, names: Names
             ) -> Callable[[Any], str]:
    kind = item.type
    if kind == "currency":
        currency = item.spec.get("currency", "CNY")
        return lambda value: fmt.money(value, currency)
    if kind == "percent":
        return lambda value: f"{fmt.number(value)}%"
    if kind == "rollup" and result_of(item.spec) != "number":
        kind = result_of(item.spec)   # the earliest / latest of a date column
    if kind in _NUMBERS or (kind == "formula" and item.spec.get("result", "number") ==
                            "number"):
        return fmt.number
    if kind == "date":
        return fmt.date
    if kind == "datetime":
        return fmt.datetime
    if kind == "user":
        return lambda value: names.users.get(value) or f"#{value}"
    if kind == "department":
        return lambda value: names.departments.get(value) or f"#{value}"
    if kind == "lookup":
        target = item.spec["form"]
        return lambda value: names.records.get((target, value)) or f"#{value}"
    if item.rows is not None:
        return lambda value: ui_text("rows_count", locale, count=len(value))
    return lambda value: item.field_type.display(item.spec, value, locale)
