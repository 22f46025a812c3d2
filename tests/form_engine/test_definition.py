"""Form definitions, as a specification: what a designer may save, and how mistakes come back.

`check_definition(definition, known_forms=None)` returns every problem at once, each a
`Problem(path, code, params)` whose path is a JSON path into the definition
(`fields[3].options[1].value`) and whose message names what is wrong, in English and Chinese.
An empty list means the form can be saved and compiled; `compile_form` refuses anything else
with a `DefinitionError` carrying the same problems.

A test marked `xfail(strict=True)` describes the correct behaviour of a known engine bug.
"""

from __future__ import annotations

from typing import Any

import pytest

from form_engine.checks import check_definition
from form_engine.compiled import CompiledForm
from form_engine.compiler import compile_form
from form_engine.definition import options_of
from form_engine.errors import DefinitionError, Problem
from form_engine.field_types import FIELD_TYPES
from tests.form_engine.conftest import APP_FORMS

ORDER_LINES = 5  # index of the `lines` subtable in the sales order fixture


def paths_and_codes(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(problem.path, problem.code) for problem in problems}


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def form(*fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": "lead", "label": {"en": "Lead", "zh": "线索"}, "fields": list(fields),
            **extra}


def text(key: str, **options: Any) -> dict[str, Any]:
    return {"key": key, "type": "text", **options}


# -- valid forms -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["customer_definition", "order_definition",
                                  "enrollment_definition", "ticket_definition"])
def test_a_valid_form_has_no_problems(name: str, request: pytest.FixtureRequest) -> None:
    definition = request.getfixturevalue(name)
    assert check_definition(definition) == []
    assert check_definition(definition, known_forms=APP_FORMS) == []


def test_a_valid_form_compiles(order_definition: dict[str, Any]) -> None:
    compiled = compile_form(order_definition)
    assert isinstance(compiled, CompiledForm)
    assert [field.key for field in compiled.computed] == ["total", "payable"]
    assert [field.key for field in compiled.autonumbers] == ["number"]


def test_the_smallest_form_is_a_key_and_one_field() -> None:
    assert check_definition({"key": "memo", "fields": [text("body")]}) == []


def test_a_label_may_be_plain_text_or_english_and_chinese() -> None:
    assert check_definition(form(text("name", label="Name"),
                                 text("city", label={"en": "City", "zh": "城市"}))) == []


def test_formulas_may_read_each_other_without_a_cycle() -> None:
    assert check_definition(form(
        {"key": "net", "type": "formula", "expression": "gross - tax"},
        {"key": "gross", "type": "number"},
        {"key": "tax", "type": "formula", "expression": "gross * 0.13"})) == []


def test_a_row_formula_may_read_the_main_forms_fields(order_definition: dict[str, Any]
                                                      ) -> None:
    lines = order_definition["fields"][ORDER_LINES]["fields"]
    lines[3]["expression"] = "qty * price * (100 - discount) / 100"
    assert check_definition(order_definition) == []


def test_a_count_rollup_needs_no_column(ticket_definition: dict[str, Any]) -> None:
    assert "column" not in ticket_definition["fields"][-1]
    assert check_definition(ticket_definition) == []


def test_the_builder_can_ask_which_options_a_type_takes() -> None:
    options = options_of("phone")
    assert {"region", "required", "visible_if", "unique"} <= set(options)
    assert "max_length" not in options
    assert "required" not in options_of("formula")


# -- the shape of a definition -----------------------------------------------------------------

def test_an_unknown_type_is_named_with_the_known_ones() -> None:
    problem = only(check_definition(form(text("name"), {"key": "phone", "type": "telephone"})))
    assert (problem.path, problem.code) == ("fields[1].type", "unknown_type")
    assert problem.params["name"] == "telephone"
    assert "phone" in problem.params["known"]
    assert "'telephone'" in problem.message("en")
    assert "“telephone”" in problem.message("zh")


def test_an_unknown_option_is_named_with_its_type() -> None:
    problem = only(check_definition(form({"key": "phone", "type": "phone", "regoin": "CN"})))
    assert (problem.path, problem.code) == ("fields[0].regoin", "unknown_option")
    assert problem.message("en") == "Field type phone has no option 'regoin'."
    assert problem.message("zh") == "字段类型 phone 没有选项“regoin”。"


def test_an_option_of_another_type_is_unknown_here() -> None:
    problem = only(check_definition(form(text("name", options=[{"value": "a"}]))))
    assert (problem.path, problem.params["type"]) == ("fields[0].options", "text")


def test_computed_fields_take_no_input_options() -> None:
    problems = check_definition(form(
        {"key": "total", "type": "formula", "expression": "1", "required": True,
         "default": 0}))
    assert paths_and_codes(problems) == {("fields[0].required", "unknown_option"),
                                         ("fields[0].default", "unknown_option")}


def test_a_missing_required_option_is_named() -> None:
    problem = only(check_definition(form({"key": "level", "type": "select"})))
    assert (problem.path, problem.code, problem.params["name"]) == (
        "fields[0].options", "missing", "options")


def test_a_field_key_must_be_a_lower_case_identifier() -> None:
    problem = only(check_definition(form(text("Customer Name"))))
    assert (problem.path, problem.code) == ("fields[0].key", "schema")


def test_an_unknown_top_level_property_is_named() -> None:
    problem = only(check_definition(form(text("name"), colour="red")))
    assert (problem.path, problem.code, problem.params["name"]) == (
        "colour", "unknown_property", "colour")


def test_a_definition_that_is_not_an_object_is_one_problem() -> None:
    assert only(check_definition(["name"])).code == "schema"
    assert only(check_definition(None)).code == "schema"


def test_a_form_needs_at_least_one_field() -> None:
    assert only(check_definition(form())).path == "fields"


def test_every_shape_problem_is_reported_at_once() -> None:
    problems = check_definition(form(
        text("name"),
        {"key": "phone", "type": "telephone"},
        {"key": "email", "type": "email", "colour": "blue"},
        {"key": "level", "type": "select"},
        text("city", max_length=0),
        {"type": "text"},
        rules=[{"key": "cap", "error_if": "1 > 0"}],
        colour="red"))
    assert paths_and_codes(problems) == {
        ("fields[1].type", "unknown_type"),
        ("fields[2].colour", "unknown_option"),
        ("fields[3].options", "missing"),
        ("fields[4].max_length", "schema"),
        ("fields[5].key", "missing"),
        ("rules[0].message", "missing"),
        ("colour", "unknown_property"),
    }


def test_shape_and_meaning_problems_are_reported_in_one_pass() -> None:
    problems = check_definition(form(
        text("name"), text("name"), {"key": "phone", "type": "telephone"},
        layout=[{"fields": ["ghost"]}]))
    assert paths_and_codes(problems) == {
        ("fields[1].key", "duplicate_key"),
        ("fields[2].type", "unknown_type"),
        ("layout[0].fields[0]", "unknown_layout_field"),
    }


# -- keys --------------------------------------------------------------------------------------

def test_a_key_used_twice_is_reported_at_the_second_use() -> None:
    problem = only(check_definition(form(text("name"), text("city"), text("name"))))
    assert (problem.path, problem.code, problem.params["key"]) == (
        "fields[2].key", "duplicate_key", "name")
    assert problem.message("zh") == "字段标识“name”重复。"


def test_a_column_key_used_twice_in_a_subtable_is_reported_inside_it(
        order_definition: dict[str, Any]) -> None:
    lines = order_definition["fields"][ORDER_LINES]["fields"]
    lines.append({"key": "qty", "type": "number"})
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == (f"fields[{ORDER_LINES}].fields[4].key",
                                            "duplicate_key")


def test_a_column_may_share_a_key_with_a_main_form_field(order_definition: dict[str, Any]
                                                         ) -> None:
    order_definition["fields"][ORDER_LINES]["fields"].append({"key": "owner", "type": "user"})
    assert check_definition(order_definition) == []


# -- expressions -------------------------------------------------------------------------------

def test_formulas_that_depend_on_each_other_in_a_cycle_are_reported() -> None:
    problem = only(check_definition(form(
        {"key": "price", "type": "formula", "expression": "total / qty"},
        {"key": "qty", "type": "number"},
        {"key": "total", "type": "formula", "expression": "price * qty"})))
    assert problem.code == "formula_cycle"
    assert problem.params["cycle"] == "price → total → price"
    assert problem.message("en") == (
        "Calculated fields depend on each other in a cycle: price → total → price.")


def test_a_formula_that_reads_itself_is_a_cycle() -> None:
    problem = only(check_definition(form(
        {"key": "balance", "type": "formula", "expression": "balance + 1"})))
    assert (problem.code, problem.params["cycle"]) == ("formula_cycle", "balance → balance")


def test_a_formula_cycle_inside_a_subtable_is_reported_at_the_subtable(
        order_definition: dict[str, Any]) -> None:
    lines = order_definition["fields"][ORDER_LINES]["fields"]
    lines[1] = {"key": "qty", "type": "formula", "expression": "subtotal / price"}
    problem = only(check_definition(order_definition))
    assert problem.code == "formula_cycle"
    assert problem.path.startswith(f"fields[{ORDER_LINES}]")


def test_a_syntax_error_in_a_condition_is_reported_with_its_column() -> None:
    problem = only(check_definition(form(
        text("level"), text("budget", visible_if="level == 'a' and"))))
    assert (problem.path, problem.code) == ("fields[1].visible_if", "syntax_error")
    assert problem.params["column"] >= 1
    assert f"column {problem.params['column']}" in problem.message("en")
    assert f"第 {problem.params['column']} 列" in problem.message("zh")


def test_a_syntax_error_in_a_formula_is_reported_with_its_column() -> None:
    problem = only(check_definition(form(
        {"key": "qty", "type": "number"}, {"key": "price", "type": "currency"},
        {"key": "subtotal", "type": "formula", "expression": "qty * (price"})))
    assert (problem.path, problem.code) == ("fields[2].expression", "syntax_error")
    assert problem.params["column"] == 7


def test_a_syntax_error_in_a_row_formula_is_reported_with_its_column(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][ORDER_LINES]["fields"][3]["expression"] = "qty * * price"
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == (f"fields[{ORDER_LINES}].fields[3].expression",
                                            "syntax_error")


@pytest.mark.parametrize("option", ["visible_if", "required_if", "readonly_if",
                                    "default_expression"])
def test_an_unknown_field_in_a_field_expression_is_named_with_its_column(option: str) -> None:
    problem = only(check_definition(form(text("level"), text("budget", **{option: "levle"}))))
    assert (problem.path, problem.code, problem.params["name"], problem.params["column"]) == (
        f"fields[1].{option}", "unknown_name", "levle", 1)


def test_an_unknown_field_in_a_formula_is_named_with_its_column() -> None:
    problem = only(check_definition(form(
        {"key": "qty", "type": "number"},
        {"key": "subtotal", "type": "formula", "expression": "qty * prcie"})))
    assert (problem.path, problem.params["name"], problem.params["column"]) == (
        "fields[1].expression", "prcie", 7)
    assert problem.message("en") == "Unknown name 'prcie' at column 7."


def test_an_unknown_function_is_named_with_its_column() -> None:
    problem = only(check_definition(form(
        {"key": "amount", "type": "number"},
        {"key": "rounded", "type": "formula", "expression": "roundup(amount)"})))
    assert (problem.code, problem.params["name"]) == ("unknown_function", "roundup")


def test_a_row_formula_sees_its_own_columns_and_nothing_else(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][ORDER_LINES]["fields"][3]["expression"] = "qty * cost"
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.params["name"]) == (
        f"fields[{ORDER_LINES}].fields[3].expression", "cost")


def test_the_main_form_cannot_read_a_subtable_column_by_name(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][8]["expression"] = "qty * 2"
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.params["name"]) == ("fields[8].expression", "qty")


def test_an_unknown_field_in_a_rule_is_named_in_its_condition_and_its_target() -> None:
    problems = check_definition(form(
        {"key": "budget", "type": "currency"},
        rules=[{"key": "cap", "error_if": "budgte > 5000000", "field": "budgte",
                "message": "Too much"}]))
    assert paths_and_codes(problems) == {("rules[0].error_if", "unknown_name"),
                                         ("rules[0].field", "unknown_field_ref")}


def test_every_expression_problem_is_reported_at_once() -> None:
    problems = check_definition(form(
        text("level"),
        text("budget", visible_if="levl == 'a'", required_if="level ==",
             readonly_if="locked()"),
        {"key": "score", "type": "formula", "expression": "budget / nope"},
        rules=[{"key": "r", "error_if": "amont > 1", "message": "x"}]))
    assert paths_and_codes(problems) == {
        ("fields[1].visible_if", "unknown_name"),
        ("fields[1].required_if", "syntax_error"),
        ("fields[1].readonly_if", "unknown_function"),
        ("fields[2].expression", "unknown_name"),
        ("rules[0].error_if", "unknown_name"),
    }


def test_expressions_cannot_read_a_section_which_holds_no_value() -> None:
    problems = check_definition(form({"key": "basics", "type": "section", "label": "Basics"},
                                     text("name", visible_if="basics"), title="{basics}"))
    assert paths_and_codes(problems) == {("fields[1].visible_if", "unknown_name"),
                                         ("title", "bad_title")}


# -- layout, title, dedup ----------------------------------------------------------------------

def test_layout_may_only_place_fields_of_the_form_and_each_once() -> None:
    problems = check_definition(form(
        text("name"), text("city"),
        layout=[{"section": "Basics", "fields": ["name", "ghost"]},
                {"section": "More", "fields": ["city", "name"]}]))
    assert paths_and_codes(problems) == {("layout[0].fields[1]", "unknown_layout_field"),
                                         ("layout[1].fields[1]", "layout_repeats")}
    assert problems[0].message("en") == "Layout places 'ghost', which is not a field."


def test_a_title_may_only_use_fields_of_the_form() -> None:
    problem = only(check_definition(form(text("name"), title="{name} ({nmae})")))
    assert (problem.path, problem.code, problem.params["name"]) == ("title", "bad_title", "nmae")
    assert problem.message("en") == "The title template uses {nmae}, which is not a field."


def test_duplicate_detection_may_only_use_fields_the_user_enters() -> None:
    problems = check_definition(form(
        text("name"), {"key": "score", "type": "formula", "expression": "1"},
        dedup=[["phone"], ["name", "score"]]))
    assert paths_and_codes(problems) == {("dedup[0][0]", "unknown_field_ref"),
                                         ("dedup[1][1]", "unknown_field_ref")}


def test_duplicate_detection_cannot_use_a_subtable(order_definition: dict[str, Any]) -> None:
    order_definition["dedup"] = [["customer", "lines"]]
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == ("dedup[0][1]", "unknown_field_ref")


# -- options that do not fit -------------------------------------------------------------------

def test_an_invalid_pattern_is_reported_with_the_reason() -> None:
    problem = only(check_definition(form(text("code", pattern="(SN-[0-9]+"))))
    assert (problem.path, problem.code) == ("fields[0].pattern", "bad_pattern")
    assert "missing )" in problem.message("en")


def test_a_pattern_whose_program_is_too_large_is_refused() -> None:
    """`(.*a){500}` is ten characters, but 5 500 instructions: 0.6 s per 100 000 characters."""
    problem = only(check_definition(form(text("code", pattern="(.*a){500}"))))
    assert (problem.path, problem.code) == ("fields[0].pattern", "pattern_too_complex")


def test_a_pattern_bounds_how_long_its_text_may_be() -> None:
    from form_engine.field_types.strings import PATTERN_BUDGET, compile_pattern

    longest = PATTERN_BUDGET // compile_pattern("(.*a){60}").programsize
    problem = only(check_definition(form({"key": "note", "type": "textarea",
                                          "pattern": "(.*a){60}", "max_length": 100_000})))
    assert (problem.path, problem.code) == ("fields[0].max_length", "pattern_text_too_long")
    assert str(longest) in problem.message("en")
    assert check_definition(form({"key": "note", "type": "textarea", "pattern": "(.*a){60}",
                                  "max_length": longest})) == []


def test_an_invalid_pattern_reason_reads_as_plain_text() -> None:
    problem = only(check_definition(form(text("code", pattern="(SN-[0-9]+"))))
    assert "b'" not in problem.message("en")


@pytest.mark.parametrize(("field", "path"), [
    ({"key": "qty", "type": "number", "min": 10, "max": 1}, "fields[0].min"),
    ({"key": "price", "type": "currency", "min": 100, "max": 0}, "fields[0].min"),
    ({"key": "code", "type": "text", "min_length": 10, "max_length": 5},
     "fields[0].min_length"),
    ({"key": "due", "type": "date", "min": "2024-12-31", "max": "2024-01-01"}, "fields[0].min"),
    ({"key": "tags", "type": "multiselect", "options": [{"value": "a"}], "min_items": 3,
      "max_items": 2}, "fields[0].min_items"),
])
def test_a_minimum_above_its_maximum_is_reported(field: dict[str, Any], path: str) -> None:
    problem = only(check_definition(form(field)))
    assert (problem.path, problem.code) == (path, "min_above_max")
    assert problem.message("zh").startswith("最小值")


def test_an_option_value_listed_twice_is_reported_at_the_repeat() -> None:
    problem = only(check_definition(form(
        {"key": "level", "type": "select",
         "options": [{"value": "a", "label": "A"}, {"value": "b"}, {"value": "a", "label": "AA"}]}
    )))
    assert (problem.path, problem.code, problem.params["value"]) == (
        "fields[0].options[2].value", "duplicate_option", "a")


def test_a_date_limit_that_is_not_a_date_is_reported() -> None:
    problem = only(check_definition(form({"key": "due", "type": "date", "min": "2024-02-30"})))
    assert (problem.path, problem.code) == ("fields[0].min", "bad_date")


def test_an_autonumber_pattern_needs_exactly_one_sequence() -> None:
    problems = check_definition(form(
        {"key": "number", "type": "autonumber", "pattern": "SO-{YYYY}"},
        {"key": "other", "type": "autonumber", "pattern": "{seq}-{seq:3}"}))
    assert paths_and_codes(problems) == {("fields[0].pattern", "bad_autonumber_pattern"),
                                         ("fields[1].pattern", "bad_autonumber_pattern")}


@pytest.mark.parametrize(("field", "detail"), [
    ({"key": "status", "type": "select", "options": [{"value": "open"}], "default": "opne"},
     "not one of the options"),
    ({"key": "qty", "type": "number", "kind": "integer", "default": "many"}, "must be a number"),
    ({"key": "qty", "type": "number", "kind": "integer", "default": 1.5}, "whole number"),
    ({"key": "price", "type": "currency", "default": 9.999}, "decimal place"),
    ({"key": "due", "type": "date", "default": "2024/1/5"}, "must be a date"),
    ({"key": "vip", "type": "boolean", "default": "yes"}, "yes or no"),
    ({"key": "phone", "type": "phone", "default": "13812345678"}, "needs its country code"),
])
def test_a_default_that_does_not_fit_the_field_is_reported(field: dict[str, Any], detail: str
                                                           ) -> None:
    problem = only(check_definition(form(field)))
    assert (problem.path, problem.code) == ("fields[0].default", "bad_default")
    assert detail in problem.message("en")


def test_a_bad_default_is_explained_in_chinese_to_a_chinese_designer() -> None:
    problem = only(check_definition(form(
        {"key": "qty", "type": "number", "label": {"en": "Quantity", "zh": "数量"},
         "default": "many"})))
    assert problem.message("zh") == "默认值与字段不符：数量应为数字，而不是“many”。"


def test_a_default_in_a_subtable_column_is_checked(order_definition: dict[str, Any]) -> None:
    order_definition["fields"][ORDER_LINES]["fields"][1]["default"] = 0
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == (f"fields[{ORDER_LINES}].fields[1].default",
                                            "bad_default")


# -- rollups, subtables and lookups ------------------------------------------------------------

def test_a_rollup_over_a_field_that_is_not_a_subtable_is_reported(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][6]["subtable"] = "customer"
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code, problem.params["name"]) == (
        "fields[6].subtable", "not_a_subtable", "customer")
    assert problem.message("en") == "'customer' is not a subtable of this form."


def test_a_rollup_over_a_missing_subtable_is_reported() -> None:
    problem = only(check_definition(form(
        {"key": "total", "type": "rollup", "function": "sum", "subtable": "lines",
         "column": "qty"})))
    assert (problem.path, problem.code) == ("fields[0].subtable", "not_a_subtable")


def test_a_rollup_of_a_missing_column_is_reported(order_definition: dict[str, Any]) -> None:
    order_definition["fields"][6]["column"] = "amount"
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == ("fields[6].column", "not_a_subtable_column")
    assert problem.message("zh") == "“amount”不是子表“lines”的列。"


def test_a_sum_rollup_needs_a_column(order_definition: dict[str, Any]) -> None:
    del order_definition["fields"][6]["column"]
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == ("fields[6].column", "not_a_subtable_column")


def test_a_related_sum_needs_the_column_it_sums(customer_definition: dict[str, Any]) -> None:
    del customer_definition["fields"][9]["column"]
    problem = only(check_definition(customer_definition))
    assert (problem.path, problem.code) == ("fields[9].column", "missing")


@pytest.mark.parametrize("default", ["nonsense", [{"qty": "many", "colour": "red"}]])
def test_a_subtable_default_that_does_not_fit_is_reported(order_definition: dict[str, Any],
                                                          default: Any) -> None:
    order_definition["fields"][ORDER_LINES]["default"] = default
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code) == (f"fields[{ORDER_LINES}].default", "bad_default")


@pytest.mark.parametrize("inner", ["subtable", "rollup", "autonumber", "section", "note"])
def test_a_subtable_cannot_hold_subtables_rollups_autonumbers_or_layout(
        inner: str, order_definition: dict[str, Any]) -> None:
    column: dict[str, Any] = {"key": "inner", "type": inner}
    column.update({"subtable": {"fields": [text("serial")]},
                   "rollup": {"function": "count", "subtable": "lines"}}.get(inner, {}))
    order_definition["fields"][ORDER_LINES]["fields"].append(column)
    problem = only(check_definition(order_definition))
    assert (problem.path, problem.code, problem.params["type"]) == (
        f"fields[{ORDER_LINES}].fields[4].type", "nested_subtable", inner)


def test_a_lookup_to_a_form_the_app_does_not_have_is_reported(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][1]["form"] = "cusotmer"
    problem = only(check_definition(order_definition, known_forms=APP_FORMS))
    assert (problem.path, problem.code, problem.params["name"]) == (
        "fields[1].form", "unknown_form_ref", "cusotmer")
    assert problem.message("en") == "'cusotmer' is not a form of this app."


def test_lookups_are_not_checked_when_the_apps_forms_are_not_given(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][1]["form"] = "cusotmer"
    assert check_definition(order_definition) == []


def test_a_lookup_inside_a_subtable_to_an_unknown_form_is_reported(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][ORDER_LINES]["fields"][0]["form"] = "prodcut"
    problems = check_definition(order_definition, known_forms=APP_FORMS)
    assert paths_and_codes(problems) == {
        (f"fields[{ORDER_LINES}].fields[0].form", "unknown_form_ref")}


def test_a_related_rollup_over_a_form_the_app_does_not_have_is_reported(
        customer_definition: dict[str, Any]) -> None:
    customer_definition["fields"][9]["related"]["form"] = "orders"
    problem = only(check_definition(customer_definition, known_forms=APP_FORMS))
    assert (problem.path, problem.code) == ("fields[9].related.form", "unknown_form_ref")


# -- all at once, and compiling ----------------------------------------------------------------

def test_every_problem_of_a_broken_order_form_is_reported_at_once(
        order_definition: dict[str, Any]) -> None:
    fields = order_definition["fields"]
    fields[1]["form"] = "cusotmer"                                  # lookup
    fields[4]["options"].append({"value": "draft"})                 # duplicate option
    fields[ORDER_LINES]["fields"][1]["min"] = 1000                   # min above (new) max
    fields[ORDER_LINES]["fields"][1]["max"] = 10
    fields[6]["column"] = "amount"                                  # rollup column
    fields[7]["default"] = 150                                      # default above max
    fields[9]["visible_if"] = "stauts == 'shipped'"                 # unknown name
    fields.append(text("owner"))                                    # duplicate key
    order_definition["rules"][0]["field"] = "discont"               # rule target
    order_definition["layout"][0]["fields"].append("ghost")         # layout
    order_definition["title"] = "{number} {custmer}"                # title
    problems = check_definition(order_definition, known_forms=APP_FORMS)
    assert paths_and_codes(problems) == {
        ("fields[1].form", "unknown_form_ref"),
        ("fields[4].options[3].value", "duplicate_option"),
        (f"fields[{ORDER_LINES}].fields[1].min", "min_above_max"),
        ("fields[6].column", "not_a_subtable_column"),
        ("fields[7].default", "bad_default"),
        ("fields[9].visible_if", "unknown_name"),
        ("fields[12].key", "duplicate_key"),
        ("rules[0].field", "unknown_field_ref"),
        ("layout[0].fields[4]", "unknown_layout_field"),
        ("title", "bad_title"),
    }


def test_every_problem_has_a_message_in_english_and_chinese(
        order_definition: dict[str, Any]) -> None:
    order_definition["fields"][6]["column"] = "amount"
    order_definition["fields"][4]["options"].append({"value": "draft"})
    order_definition["title"] = "{custmer}"
    for problem in check_definition(order_definition):
        english, chinese = problem.message("en"), problem.message("zh")
        assert english != problem.code and chinese != problem.code
        assert english != chinese
        assert "{" not in english.replace("{custmer}", "")


def test_compiling_an_invalid_form_raises_with_every_problem() -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_form(form(text("name"), text("name"), {"key": "x", "type": "formula",
                                                       "expression": "nope"}))
    assert paths_and_codes(caught.value.problems) == {("fields[1].key", "duplicate_key"),
                                                      ("fields[2].expression", "unknown_name")}
    assert str(caught.value) == "2 problem(s) in the definition"


def test_compiling_an_unknown_type_raises_a_definition_error_not_a_key_error() -> None:
    with pytest.raises(DefinitionError) as caught:
        compile_form(form({"key": "x", "type": "signature"}))
    assert caught.value.problems[0].code == "unknown_type"


def test_problems_are_plain_data_for_the_api() -> None:
    problem = only(check_definition(form(text("name"), text("name"))))
    assert problem.as_dict("zh") == {"path": "fields[1].key", "code": "duplicate_key",
                                     "message": "字段标识“name”重复。"}


def test_the_meta_schema_knows_every_registered_type() -> None:
    for name in FIELD_TYPES:
        problems = check_definition(form({"key": "x", "type": name}))
        assert all(problem.code != "unknown_type" for problem in problems), name
