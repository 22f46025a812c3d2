"""The generated validator (`form_engine.specialised`) agrees with the general pipeline.

For every record Hypothesis generates — valid ones, and ones with a few values replaced by
anything at all — the generated function either hands the record back (None) or returns
exactly what the general pipeline returns: the same data, value for value and type for type
(1 and Decimal('1') differ), in the same key order, and the same visible / required /
read-only flags; and then the general pipeline finds no error. The form uses every branch
the generator writes: inline checks, coercers it calls, defaults (values and expressions),
conditions, read-only fields, rules, subtable formulas, rollups and formulas.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from form_engine.compiler import compile_form
from form_engine.context import ValidationContext
from form_engine.validation import _Run, validate

DEFINITION = {
    "key": "deal",
    "fields": [
        {"key": "name", "type": "text", "required": True, "min_length": 2, "max_length": 12},
        {"key": "code", "type": "text", "pattern": "^[A-Z]{2}[0-9]+$"},
        {"key": "memo", "type": "textarea", "max_length": 20},
        {"key": "stage", "type": "select", "default": "new",
         "options": [{"value": "new"}, {"value": "won"}, {"value": "lost"}]},
        {"key": "tags", "type": "multiselect", "default": ["x"],
         "options": [{"value": "x"}, {"value": "y"}]},
        {"key": "qty", "type": "number", "kind": "integer", "min": 0, "max": 100},
        {"key": "ratio", "type": "number", "precision": 2, "min": -5, "max": 5},
        {"key": "price", "type": "currency", "min": 0, "max": 10000},
        {"key": "discount", "type": "percent", "min": 0, "max": 100,
         "visible_if": "stage != 'lost'", "required_if": "stage == 'won'"},
        {"key": "paid", "type": "boolean", "readonly_if": "stage == 'lost'"},
        {"key": "signed", "type": "date", "min": "2020-01-01", "max": "2030-12-31"},
        {"key": "due", "type": "date", "default_expression": "add_days(signed, 30)"},
        {"key": "stars", "type": "rating", "max": 3},
        {"key": "phone", "type": "phone"},
        {"key": "email", "type": "email"},
        {"key": "source", "type": "text", "read_only": True, "default": "web"},
        {"key": "lines", "type": "subtable", "max_rows": 4, "fields": [
            {"key": "item", "type": "text", "required": True, "max_length": 8},
            {"key": "count", "type": "number", "kind": "integer", "min": 1},
            {"key": "each", "type": "currency", "min": 0},
            {"key": "note", "type": "text", "visible_if": "count and count > 2",
             "required_if": "count and count > 3"},
            {"key": "sub", "type": "formula", "expression": "count * each", "precision": 2},
            {"key": "share", "type": "formula", "expression": "sub / qty if qty else None",
             "precision": 4}]},
        {"key": "total", "type": "rollup", "function": "sum", "subtable": "lines",
         "column": "sub", "precision": 2},
        {"key": "average", "type": "rollup", "function": "avg", "subtable": "lines",
         "column": "each"},
        {"key": "line_count", "type": "rollup", "function": "count", "subtable": "lines"},
        {"key": "net", "type": "formula",
         "expression": "total * (100 - (discount or 0)) / 100", "precision": 2},
        {"key": "days", "type": "formula", "expression": "days_between(signed, due)"},
        {"key": "label", "type": "formula", "result": "text",
         "expression": "name + ' / ' + stage"},
    ],
    "rules": [
        {"key": "paid_needs_lines", "error_if": "paid and not lines", "field": "paid",
         "message": "A paid deal has lines"},
        {"key": "ratio_sign", "error_if": "ratio and ratio < 0 and stage == 'won'",
         "field": "ratio", "message": "Won deals have a positive ratio"},
    ],
}
FORM = compile_form(DEFINITION)
# the same form without its generated validators
GENERAL = replace(FORM, specialised=None, specialised_input=None)


def typed(value: Any) -> Any:
    """A value with its type written in, so 1 == Decimal('1') no longer holds."""
    if isinstance(value, dict):
        return ("dict", [(key, typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item) for item in value])
    return (type(value).__name__, str(value) if isinstance(value, Decimal) else value)


junk = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 200), st.text(max_size=4),
    st.sampled_from(["", " ", "2024-02-30", "2024-1-5", "+8613812345678", "new", "x",
                     Decimal("NaN"), Decimal("Infinity"), Decimal("1.005"), Decimal("1e30"),
                     Decimal("2.50"), 10**30, 1.5, [], {}, [{}], ["x", "x"]]))


def decimals(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    scale = 10**places
    return st.integers(low * scale - 2, high * scale + 2).map(lambda n: Decimal(n) / scale)


LINE = st.fixed_dictionaries({"item": st.text(min_size=1, max_size=8)}, optional={
    "count": st.one_of(st.integers(0, 5), junk),
    "each": st.one_of(decimals(2, 0, 50), st.integers(0, 9), junk),
    "note": st.one_of(st.text(max_size=3), junk),
    "sub": st.integers(0, 2),
    "extra": st.integers()})
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(st.text(max_size=14), junk),
    "code": st.one_of(st.from_regex(r"\A[A-Z]{2}[0-9]{1,3}\Z"), st.text(max_size=4), junk),
    "memo": st.one_of(st.text(max_size=22), junk),
    "stage": st.one_of(st.sampled_from(["new", "won", "lost", "New"]), junk),
    "tags": st.one_of(st.lists(st.sampled_from(["x", "y", "z"]), max_size=3), junk),
    "qty": st.one_of(st.integers(-1, 101), decimals(1, 0, 3), junk),
    "ratio": st.one_of(decimals(3, -6, 6), st.integers(-6, 6), junk),
    "price": st.one_of(decimals(2, -1, 10001), st.integers(0, 10), junk),
    "discount": st.one_of(decimals(2, -1, 101), junk),
    "paid": st.one_of(st.booleans(), junk),
    "signed": st.one_of(st.dates(date(2015, 1, 1), date(2035, 1, 1)).map(date.isoformat),
                        junk),
    "due": st.one_of(st.dates().map(date.isoformat), junk),
    "stars": st.one_of(st.integers(-1, 4), junk),
    "phone": st.one_of(st.sampled_from(["+8613812345678", "+8613800000000", "+14155552671",
                                        "+861381234567", "+4420", "13812345678"]), junk),
    "email": st.one_of(st.sampled_from(["ann@example.com", "Li@Example.CN", "a@b", "x@y.test",
                                        "no-at.example.com"]), junk),
    "source": st.one_of(st.sampled_from(["web", "phone"]), junk),
    "lines": st.one_of(st.lists(st.one_of(LINE, junk), max_size=5), junk),
    "total": st.integers(),
    "unknown": st.integers(),
}
VALID: dict[str, st.SearchStrategy[Any]] = {
    "name": st.text(min_size=2, max_size=12),
    "stage": st.sampled_from(["new", "won", "lost"]),
    "qty": st.integers(0, 100),
    "price": decimals(2, 0, 100),
    "discount": decimals(2, 0, 100),
    "paid": st.booleans(),
    "signed": st.dates(date(2020, 1, 1), date(2030, 12, 31)).map(date.isoformat),
    "stars": st.integers(1, 3),
    "phone": st.just("+8613812345678"),
    "email": st.just("ann@example.com"),
    "lines": st.lists(st.fixed_dictionaries(
        {"item": st.text(min_size=1, max_size=8), "count": st.integers(1, 3),
         "each": decimals(2, 0, 50)}), max_size=4),
}


@st.composite
def records(draw: Any) -> dict[str, Any]:
    """A mostly valid record, then zero to three values replaced by anything at all."""
    record = {key: draw(strategy) for key, strategy in VALID.items()
              if key == "name" or draw(st.booleans())}
    for key in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True)):
        record[key] = draw(VALUES[key])
    return record


def both(record: Any, mode: str = "json") -> tuple[Any, Any]:
    generated = FORM.specialised if mode == "json" else FORM.specialised_input
    fast = generated(record, _Run(FORM, ValidationContext(mode=mode)))
    return fast, validate(GENERAL, record, ValidationContext(mode=mode))


def typed_text(value: Any, draw: Any) -> Any:
    """A value as someone types it into a sheet: text, in one of the ways people write it."""
    if isinstance(value, bool):
        return draw(st.sampled_from(["是", "否", "yes", "no", "TRUE", "0"]))
    if isinstance(value, Decimal | int):
        return draw(st.sampled_from([str(value), f"{value:,}", f" {value} ", f"¥{value}",
                                     f"{value}%"]))
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return draw(st.sampled_from([value, f"{day.year}年{day.month}月{day.day}日",
                                     f"{day.year}/{day.month}/{day.day}"]))
    if isinstance(value, str):  # spaces around and inside, as pasted from a sheet
        return draw(st.sampled_from([value, f"  {value}\t", value.replace(" ", "   "),
                                     f"{value}\n"]))
    return value


@st.composite
def typed_records(draw: Any) -> dict[str, Any]:
    record = draw(records())
    for key in list(record):
        if key != "lines" and draw(st.booleans()):
            record[key] = typed_text(record[key], draw)
    if draw(st.integers(0, 4)) == 0:
        record[draw(st.sampled_from(sorted(VALUES)))] = draw(st.sampled_from(
            ["", "   ", "1,2,3", "Won", "十", "2024-13-01"]))
    return record


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(records())
def test_the_generated_validator_returns_what_the_pipeline_returns(record: dict[str, Any]
                                                                    ) -> None:
    fast, general = both(record)
    if fast is None:
        return  # handed back: validate() runs the general pipeline, nothing to compare
    assert general.ok, general.messages()
    data, visible, required, read_only = fast
    assert typed(data) == typed(general.data)
    assert (visible, required, read_only) == (general.visible, general.required,
                                              general.read_only)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(typed_records())
def test_the_generated_input_validator_returns_what_the_pipeline_returns(
        record: dict[str, Any]) -> None:
    fast, general = both(record, "input")
    if fast is None:
        return
    assert general.ok, general.messages()
    data, visible, required, read_only = fast
    assert typed(data) == typed(general.data)
    assert (visible, required, read_only) == (general.visible, general.required,
                                              general.read_only)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries(VALID))
def test_valid_records_take_the_generated_path(record: dict[str, Any]) -> None:
    general = validate(GENERAL, record, ValidationContext())
    fast, _ = both(record)
    assert (fast is not None) == general.ok, general.messages()


def test_validate_gives_the_same_result_with_and_without_it() -> None:
    record = {"name": "Acme", "stage": "won", "discount": Decimal("10"), "qty": 4,
              "signed": "2024-01-05", "phone": "+8613812345678",
              "lines": [{"item": "A", "count": 3, "each": Decimal("9.90"), "note": "n"}]}
    ours, general = validate(FORM, record), validate(GENERAL, record)
    assert ours.ok and general.ok
    assert typed(ours.data) == typed(general.data)
    assert ours.data["total"] == Decimal("29.70") and ours.data["net"] == Decimal("26.73")
    assert ours.data["due"] == date(2024, 2, 4) and ours.data["days"] == 30
    assert ours.data["lines"][0]["share"] == Decimal("7.4250")
    assert ours.data["source"] == "web" and ours.data["tags"] == ["x"]


def test_errors_come_from_the_pipeline_unchanged() -> None:
    record = {"name": "A", "stage": "won", "lines": [{"item": "A", "count": 5}],
              "source": "phone"}
    assert FORM.specialised(record, _Run(FORM, ValidationContext())) is None
    ours, general = validate(FORM, record), validate(GENERAL, record)
    assert ours.messages() == general.messages()
    assert {p.path for p in ours.errors} == {"name", "discount", "lines[0].note", "source"}


def test_only_creates_use_it() -> None:
    record = {"name": "Acme", "signed": "2024年1月5日"}
    assert FORM.specialised(record, _Run(FORM, ValidationContext())) is None  # not JSON
    assert FORM.specialised_input(record, _Run(FORM, ValidationContext(mode="input")))
    assert validate(FORM, record, ValidationContext(mode="input")).ok
    existing = validate(FORM, {"name": "Acme"}).data
    update = validate(FORM, {"memo": "hi"}, ValidationContext(existing=existing))
    assert update.ok and update.data["name"] == "Acme"


def test_a_default_list_is_a_new_list_for_every_record() -> None:
    first, second = validate(FORM, {"name": "Acme"}), validate(FORM, {"name": "Bcme"})
    first.data["tags"].append("y")
    assert second.data["tags"] == ["x"]


def test_a_total_too_large_to_round_stays_blank_instead_of_failing() -> None:
    form = compile_form({"key": "big", "fields": [
        {"key": "amount", "type": "number"},
        {"key": "scaled", "type": "formula", "expression": "amount * 10**25",
         "precision": 2}]})
    for compiled in (form, replace(form, specialised=None)):
        result = validate(compiled, {"amount": Decimal("1e19")})
        assert result.ok and result.data["scaled"] is None
