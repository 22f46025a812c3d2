"""Rendering a form version to HTML with Jinja2 (autoescaped: a label of
`<script>alert(1)</script>` is shown as text).

`render_form(form, values, errors, locale)` returns an HTML fragment — sections, a grid of
columns, one widget per field type, required marks, help, current values and inline
errors — for the platform's pages to place inside their own `<form>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader

from form_engine.compiled import CompiledForm
from form_engine.errors import Problem
from form_engine.messages import label_text
from form_engine.schema_export import layout_of

WORDS = {
    "required": ("required", "必填"),
    "add_row": ("Add line", "添加一行"),
    "remove_row": ("Remove", "删除"),
    "computed": ("calculated", "自动计算"),
    "choose": ("— choose —", "— 请选择 —"),
    "province": ("Province", "省"),
    "city": ("City", "市"),
    "district": ("District", "区"),
    "detail": ("Address", "详细地址"),
    "yes": ("Yes", "是"),
    "no": ("No", "否"),
}


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("form_engine", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["text"] = label_text
    env.filters["input_value"] = input_value
    return env


def input_value(value: Any) -> str:
    """A stored value as an HTML input's value attribute."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_form(form: CompiledForm, values: Mapping[str, Any] | None = None,
                errors: list[Problem] | None = None, locale: str = "en",
                visible: Mapping[str, bool] | None = None, prefix: str = "data") -> str:
    """The form's fields as HTML, with `values` filled in and `errors` shown inline."""
    by_path: dict[str, list[str]] = {}
    for problem in errors or []:
        by_path.setdefault(problem.path, []).append(problem.message(locale))
    template = environment().get_template("form.html")
    return template.render(
        form=form, sections=layout_of(form), values=values or {}, errors=by_path,
        locale=locale, visible=visible or {}, prefix=prefix,
        words={key: pair[1] if locale == "zh" else pair[0] for key, pair in WORDS.items()},
        form_errors=by_path.get("", []),
    )
