"""A record's values as a page shows them, in the reader's language: money and numbers by
Babel, dates in the reader's zone, options by their labels, people, departments and
looked-up records by name."""

from __future__ import annotations

from typing import Any

from crm_platform.services.workspace.references import Names
from crm_platform.web.formatting import Formats
from crm_platform.web.strings import ui_text
from form_engine.compiled import CompiledField

_NUMBERS = ("number", "rollup", "rating")


def cell_text(item: CompiledField, value: Any, fmt: Formats, locale: str, names: Names
              ) -> str:
    if value is None or value == "" or value == []:
        return ""
    kind = item.type
    if kind == "currency":
        return fmt.money(value, item.spec.get("currency", "CNY"))
    if kind == "percent":
        return f"{fmt.number(value)}%"
    if kind in _NUMBERS or (kind == "formula" and item.spec.get("result", "number") ==
                            "number"):
        return fmt.number(value)
    if kind == "date":
        return fmt.date(value)
    if kind == "datetime":
        return fmt.datetime(value)
    if kind == "user":
        return names.users.get(value) or f"#{value}"
    if kind == "department":
        return names.departments.get(value) or f"#{value}"
    if kind == "lookup":
        return names.records.get((item.spec["form"], value)) or f"#{value}"
    if item.rows is not None:
        return ui_text("rows_count", locale, count=len(value))
    return item.field_type.display(item.spec, value, locale)
