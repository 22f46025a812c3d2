"""The JSON Schema export and the compiled validator agree (strict JSON mode).

Hypothesis generates records — valid values, wrong types, out-of-range numbers, too long
text, unknown options, unknown keys, computed fields, broken rows — and both the compiled
validator and a reused `Draft202012Validator` on the export (format checker on) must accept
or reject each one alike. Only what JSON Schema can express is generated: phone numbers are
either valid or not phone-shaped, decimals respect the field's precision, e-mails are either
valid or lack an @ (JSON Schema's `email` format is the checker's definition).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import simplejson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from form_engine.compiler import compile_form
from form_engine.context import ValidationContext
from form_engine.json_schema import Validator as Draft202012Validator
from form_engine.schema_export import input_schema
from form_engine.validation import validate

DEFINITION = {
    "key": "everything",
    "fields": [
        {"key": "name", "type": "text", "required": True, "max_length": 20},
        {"key": "code", "type": "text", "pattern": "^[A-Z]{2}-[0-9]+$", "min_length": 4},
        {"key": "memo", "type": "textarea", "max_length": 50},
        {"key": "qty", "type": "number", "kind": "integer", "min": 0, "max": 1000},
        {"key": "ratio", "type": "number", "precision": 3, "min": -5, "max": 5},
        {"key": "price", "type": "currency", "min": 0},
        {"key": "discount", "type": "percent", "max": 100},
        {"key": "paid", "type": "boolean"},
        {"key": "ordered", "type": "date", "required": True},
        {"key": "shipped_at", "type": "datetime"},
        {"key": "slot", "type": "time"},
        {"key": "level", "type": "select", "options": [{"value": "a"}, {"value": "b"}]},
        {"key": "tags", "type": "multiselect", "max_items": 2,
         "options": [{"value": "x"}, {"value": "y"}, {"value": "z"}]},
        {"key": "email", "type": "email"},
        {"key": "phone", "type": "phone"},
        {"key": "site", "type": "url"},
        {"key": "stars", "type": "rating", "max": 5},
        {"key": "owner", "type": "user"},
        {"key": "team", "type": "department"},
        {"key": "parent", "type": "lookup", "form": "everything"},
        {"key": "address", "type": "address"},
        {"key": "lines", "type": "subtable", "max_rows": 3, "fields": [
            {"key": "item", "type": "text", "required": True, "max_length": 10},
            {"key": "count", "type": "number", "kind": "integer", "min": 1},
            {"key": "each", "type": "currency"},
            {"key": "sub", "type": "formula", "expression": "count * each"}]},
        {"key": "total", "type": "rollup", "function": "sum", "subtable": "lines",
         "column": "sub"},
        {"key": "double", "type": "formula", "expression": "qty * 2 if qty else None"},
    ],
}
FORM = compile_form(DEFINITION)
SCHEMA = Draft202012Validator(input_schema(FORM),
                              format_checker=Draft202012Validator.FORMAT_CHECKER)
CONTEXT = ValidationContext()

junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                      st.integers(), max_size=2))


def decimals(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    scale = 10**places
    return st.integers(low * scale - 3, high * scale + 3).map(
        lambda n: Decimal(n) / scale)


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(st.text(max_size=25), junk),
    "code": st.one_of(st.from_regex(r"\A[A-Z]{2}-[0-9]{1,4}\Z"), st.text(max_size=6), junk),
    "memo": st.one_of(st.text(max_size=60), junk),
    "qty": st.one_of(st.integers(-3, 1003), decimals(1, -1, 2), junk),
    "ratio": st.one_of(decimals(3, -6, 6), st.integers(-7, 7), junk),
    "price": st.one_of(decimals(2, -1, 10**4), junk),
    "discount": st.one_of(decimals(2, -1, 101), junk),
    "paid": st.one_of(st.booleans(), junk),
    "ordered": st.one_of(st.dates().map(lambda d: d.isoformat()), st.text(max_size=10), junk),
    "shipped_at": st.one_of(st.datetimes(timezones=st.timezones()).map(
        lambda d: d.isoformat(timespec="seconds")), st.sampled_from(["2024-01-05", "x"]), junk),
    "slot": st.one_of(st.times().map(lambda t: t.isoformat(timespec="minutes")),
                      st.sampled_from(["25:00", "9:30", "12:00:00"]), junk),
    "level": st.one_of(st.sampled_from(["a", "b", "c", ""]), junk),
    "tags": st.one_of(st.lists(st.sampled_from(["x", "y", "z", "w"]), max_size=3), junk),
    "email": st.one_of(st.sampled_from(["ann@example.com", "li.lei@example.cn",
                                        "no-at-sign.example.com", ""]), junk),
    "phone": st.one_of(st.sampled_from(["+8613812345678", "+14155552671", "138-1234",
                                        "+86 138-1234-5678",
                                        "phone", ""]), junk),
    "site": st.one_of(st.sampled_from(["https://example.com/a", "http://x.cn", "HTTP://X.CN",
                                       "ftp://example.com", "example.com", ""]), junk),
    "stars": st.one_of(st.integers(-1, 7), junk),
    "owner": st.one_of(st.integers(-1, 10**6), junk),
    "team": st.one_of(st.integers(-1, 10), junk),
    "parent": st.one_of(st.integers(0, 10), junk),
    "address": st.one_of(st.fixed_dictionaries({}, optional={
        "province": st.text(max_size=4), "city": st.text(max_size=4),
        "detail": st.text(max_size=6)}), junk),
    "lines": st.one_of(st.lists(st.one_of(
        st.fixed_dictionaries({}, optional={
            "item": st.one_of(st.text(max_size=12), junk),
            "count": st.one_of(st.integers(-1, 5), junk),
            "each": st.one_of(decimals(2, 0, 100), junk),
            "sub": st.integers(0, 3)}),
        junk), max_size=4), junk),
    "total": st.integers(),
    "double": st.integers(),
    "unknown_key": st.integers(),
}
VALID: dict[str, st.SearchStrategy[Any]] = {
    "name": st.text(min_size=1, max_size=20),
    "ordered": st.dates().map(lambda d: d.isoformat()),
    "qty": st.integers(0, 1000),
    "price": decimals(2, 0, 100),
    "level": st.sampled_from(["a", "b"]),
    "phone": st.just("+8613812345678"),
    "lines": st.lists(st.fixed_dictionaries({"item": st.text(min_size=1, max_size=10),
                                             "count": st.integers(1, 9)}), max_size=3),
}


@st.composite
def records(draw: Any) -> dict[str, Any]:
    """A valid record, then zero to three fields set to anything at all."""
    record = {key: draw(strategy) for key, strategy in VALID.items()
              if key in ("name", "ordered") or draw(st.booleans())}
    for key in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True)):
        record[key] = draw(VALUES[key])
    if draw(st.integers(0, 9)) == 0:
        record.pop(draw(st.sampled_from(["name", "ordered"])), None)
    return record


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(records())
def test_the_export_accepts_exactly_what_the_validator_accepts(record: dict[str, Any]) -> None:
    # Both read the same JSON text: Loom with exact decimals (as the API parses bodies),
    # jsonschema with Python's defaults.
    text = simplejson.dumps(record, use_decimal=True)
    ours = validate(FORM, json.loads(text, parse_float=Decimal), CONTEXT)
    theirs = list(SCHEMA.iter_errors(json.loads(text)))
    assert ours.ok == (not theirs), (
        f"validator: {[(p.path, p.code) for p in ours.errors]}; "
        f"JSON Schema: {[(list(e.absolute_path), e.message[:80]) for e in theirs]}")


def test_a_typical_valid_record_is_valid_for_both() -> None:
    record = {"name": "Acme", "ordered": "2024-01-05", "phone": "+8613812345678",
              "lines": [{"item": "A", "count": 2, "each": Decimal("9.90")}]}
    assert validate(FORM, record, CONTEXT).ok
    assert SCHEMA.is_valid(record)
