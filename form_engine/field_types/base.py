"""The field-type contract, documented once.

A field type is a small class registered under its `name` (the `type` of a field in a
definition). It declares:

- `options`: JSON Schema properties of the options it adds to the common ones (required,
  default, visible_if …); anything else in a field of this type is an unknown option.
- `kind`: "value" (the user enters it), "computed" (formula, rollup, autonumber: the engine
  fills it) or "layout" (section, note: no value at all).
- `check(field)`: problems a schema cannot see (min above max, duplicate options), with
  paths relative to the field.
- `coercer(field, lenient, env)`: a function from a raw value to the stored value, raising
  `CoercionError(code, **params)`; strict (`lenient=False`) for the JSON API — it agrees
  with `json_schema` — lenient for form input and import.
- `json_schema(field)`: the JSON Schema (draft 2020-12) of a stored value.
- `display(field, value, locale)`: the value as a person reads it.
- `operators`: the filter operators the query language offers for it.
- `widget`: the Jinja2 macro that renders it.
- `strict_source(field, constant)` (optional): Python source lines that check and convert a
  strict JSON value held in `v` exactly as the strict coercer does, ending with `v` holding
  the stored value (None for a blank one, such as empty text), or executing `return None`
  when the value is not simply valid (the
  general pipeline then reports it). The specialised validator (`form_engine.specialised`)
  inlines them; `constant(value)` names a value the lines may use. None: call the coercer.

Stored values are plain Python data: `str`, `bool`, exact `Decimal`, `int` ids, `date`,
`datetime`, `time`, lists and dicts of those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, ClassVar

from form_engine.errors import CoercionError, Problem

Coercer = Callable[[Any], Any]
# Names a value for generated source: constant(Decimal('0.5')) -> '_k3'.
Constant = Callable[[Any], str]


@dataclass(frozen=True)
class TypeEnv:
    """Tenant-wide settings a coercer may need: default phone region and time zone."""

    region: str = "CN"
    timezone: tzinfo = UTC

EQUALITY = ("eq", "ne", "in", "not_in", "is_empty", "not_empty")
ORDERED = (*EQUALITY, "lt", "lte", "gt", "gte", "between")
TEXTUAL = (*EQUALITY, "contains", "starts_with")
DATES = (*ORDERED, "today", "this_week", "this_month", "last_n_days", "next_n_days")


class FieldType:
    name: ClassVar[str]
    kind: ClassVar[str] = "value"
    options: ClassVar[dict[str, Any]] = {}
    required_options: ClassVar[tuple[str, ...]] = ()
    operators: ClassVar[tuple[str, ...]] = EQUALITY
    widget: ClassVar[str] = "text"
    # May appear inside a subtable row.
    in_subtable: ClassVar[bool] = True

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        return iter(())

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        raise NotImplementedError

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        """Python lines for the generated validator (form_engine.specialised) that check a
        strict JSON value `v` in place, as the strict coercer would, and leave the stored
        value in `v` — or `return None` to hand the record to the general pipeline. None:
        the coercer is called."""
        return None

    def lenient_source(self, field: Mapping[str, Any], constant: Constant
                       ) -> tuple[str, list[str]] | None:
        """For typed input (forms, imports): (a test on `v`, lines run when it holds)
        doing what the lenient coercer does with the common values, as `strict_source`
        does; other values go to the coercer. None: the coercer is always called."""
        return None

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        return "" if value is None else str(value)

    def to_json(self, value: Any) -> Any:
        """The value as JSON-ready data (dates as ISO text; Decimals stay exact)."""
        return value


def check_min_max(field: Mapping[str, Any], low: str = "min", high: str = "max"
                  ) -> Iterator[Problem]:
    if field.get(low) is not None and field.get(high) is not None and field[low] > field[high]:
        yield Problem(low, "min_above_max", {"min": field[low], "max": field[high]})


def reject(code: str, **params: Any) -> CoercionError:
    return CoercionError(code, **params)
