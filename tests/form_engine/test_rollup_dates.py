"""Rollups of dates: the earliest or the latest of a date (date-time) column — the last
visit in a subtable, the last follow-up among related records — is a date, shown,
filtered and stored as one; a total or an average of dates is refused when the form is
saved, with a message saying why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from form_engine.checks import check_definition
from form_engine.compiler import compile_form
from form_engine.field_types import FIELD_TYPES
from form_engine.validation import validate
from workflow_engine.automations import check_automation, value_types

VISITS = {"key": "visits", "type": "subtable", "fields": [
    {"key": "day", "type": "date"}, {"key": "at", "type": "datetime"},
    {"key": "hours", "type": "number"}]}


def form(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"key": "account", "fields": [{"key": "name", "type": "text"}, VISITS, *fields]}


def codes(definition: dict[str, Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.code) for problem in check_definition(
        definition, known_forms={"account", "follow_up"})]


def test_the_latest_and_earliest_day_of_a_subtable() -> None:
    definition = form(
        {"key": "last_visit", "type": "rollup", "function": "max", "subtable": "visits",
         "column": "day", "result": "date"},
        {"key": "first_visit", "type": "rollup", "function": "min", "subtable": "visits",
         "column": "day", "result": "date"},
        {"key": "last_seen", "type": "rollup", "function": "max", "subtable": "visits",
         "column": "at", "result": "datetime"})
    assert codes(definition) == []
    compiled = compile_form(definition)
    result = validate(compiled, {"name": "A", "visits": [
        {"day": "2026-03-01", "at": "2026-03-01T09:00:00+00:00"},
        {"day": "2026-12-03", "at": "2026-02-01T18:30:00+08:00"},
        {"day": None, "hours": 2}]})
    assert result.ok, result.errors
    assert (result.data["last_visit"], result.data["first_visit"]) == (
        date(2026, 12, 3), date(2026, 3, 1))
    assert result.data["last_seen"] == datetime(2026, 3, 1, 9, tzinfo=UTC)
    empty = validate(compiled, {"name": "B", "visits": []})
    assert empty.data["last_visit"] is None


def test_a_date_rollup_presents_as_a_date() -> None:
    rollup = FIELD_TYPES["rollup"]
    latest = {"key": "last", "type": "rollup", "function": "max", "column": "day",
              "result": "date", "related": {"form": "follow_up", "link_field": "account"}}
    assert rollup.json_schema(latest) == {"type": "string", "format": "date"}
    assert rollup.display(latest, "2026-12-03", "zh") == "2026年12月3日"
    assert rollup.display(latest, date(2026, 12, 3), "en") == "2026-12-03"
    assert rollup.to_json(date(2026, 12, 3)) == "2026-12-03"
    assert rollup.json_schema({**latest, "result": "datetime"})["format"] == "date-time"
    total = {"key": "n", "type": "rollup", "function": "sum", "subtable": "visits",
             "column": "hours"}
    assert rollup.json_schema(total) == {"type": "number"}


def test_a_total_or_average_of_dates_is_refused() -> None:
    for function in ("sum", "avg"):
        assert codes(form({"key": "x", "type": "rollup", "function": function,
                           "subtable": "visits", "column": "day"})) == [
            ("fields[2].function", "rollup_of_dates")]
        related = {"key": "x", "type": "rollup", "function": function, "column": "day",
                   "result": "date",
                   "related": {"form": "follow_up", "link_field": "account"}}
        problems = check_definition(form(related), known_forms={"follow_up"})
        assert [(p.path, p.code) for p in problems] == [("fields[2].function",
                                                         "rollup_of_dates")]
        assert "only be min (the earliest) or max (the latest)" in problems[0].message("en")


def test_a_min_of_a_date_column_declares_a_date_result() -> None:
    assert codes(form({"key": "x", "type": "rollup", "function": "min",
                       "subtable": "visits", "column": "day"})) == [
        ("fields[2].result", "rollup_result_is_date")]
    assert codes(form({"key": "x", "type": "rollup", "function": "max",
                       "subtable": "visits", "column": "hours", "result": "date"})) == [
        ("fields[2].result", "rollup_result_not_date")]


def test_a_date_valued_rollup_or_formula_can_time_a_rule() -> None:
    compiled = compile_form(form(
        {"key": "last_visit", "type": "rollup", "function": "max", "subtable": "visits",
         "column": "day", "result": "date"},
        {"key": "visits_count", "type": "rollup", "function": "count", "subtable": "visits"},
        {"key": "due", "type": "formula", "expression": "add_days(last_visit, 30)",
         "result": "date"}))
    fields = {item.key: item.type for item in compiled.fields}
    values = value_types(compiled.fields)

    def problems(field: str) -> list[str]:
        rule = {"key": "r", "form": "account",
                "trigger": {"on": "date_relative", "field": field, "days": 30},
                "actions": [{"type": "release_to_pool"}]}
        return [p.code for p in check_automation(rule, fields, values)]

    assert problems("last_visit") == [] and problems("due") == []
    assert problems("visits_count") == ["flow_not_a_date_field"]
    assert problems("name") == ["flow_not_a_date_field"]
