"""Validating records, as a specification: what a user saving a record gets back.

`validate(form, data, context)` never raises for bad data. It returns the normalized data
(exact Decimals, dates, computed fields filled in) and every error at once, each a `Problem`
with a path (`lines[2].qty`), a code, and a message in the reader's language that uses the
field's label. The platform answers database questions through a `Resolver`; here a fake
one (`FakeResolver` in conftest.py) stands in for it — the engine itself is never mocked.

A test marked `xfail(strict=True)` describes the correct behaviour of a known engine bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from form_engine.compiled import CompiledForm
from form_engine.compiler import compile_form
from form_engine.context import ValidationContext
from form_engine.errors import Problem
from form_engine.field_types import TypeEnv
from form_engine.validation import ValidationResult, validate
from tests.form_engine.conftest import NOW, FakeResolver

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 01:00 on Saturday 6 January in Beijing, still Friday 5 January in UTC.
AFTER_MIDNIGHT_IN_BEIJING = datetime(2024, 1, 5, 17, 0, tzinfo=UTC)

# Five order lines: (product, quantity, unit price) and the subtotal each must come to.
FIVE_LINES = [(11, 2, "9.90", "19.80"), (12, 1, "120.00", "120.00"), (13, 3, "0.10", "0.30"),
              (11, 10, "3.33", "33.30"), (12, 7, "19.99", "139.93")]


def context(**options: Any) -> ValidationContext:
    """A context with a fixed clock, as the platform passes one on every save."""
    return ValidationContext(**{"clock": lambda: NOW, **options})


def line(product: int, qty: Any, price: Any) -> dict[str, Any]:
    return {"product": product, "qty": qty,
            "price": Decimal(price) if isinstance(price, str) else price}


def order(**changes: Any) -> dict[str, Any]:
    """A valid new order: one customer, two widgets at 9.90."""
    return {"customer": 1, "lines": [line(11, 2, "9.90")], **changes}


def errors(result: ValidationResult) -> list[tuple[str, str]]:
    return [(problem.path, problem.code) for problem in result.errors]


def only(result: ValidationResult) -> Problem:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


@pytest.fixture
def order_form(order_definition: dict[str, Any]) -> CompiledForm:
    return compile_form(order_definition)


@pytest.fixture
def customer_form(customer_definition: dict[str, Any]) -> CompiledForm:
    return compile_form(customer_definition)


@pytest.fixture
def enrollment_form(enrollment_definition: dict[str, Any]) -> CompiledForm:
    return compile_form(enrollment_definition)


@pytest.fixture
def ticket_form(ticket_definition: dict[str, Any]) -> CompiledForm:
    return compile_form(ticket_definition)


@pytest.fixture
def saved_order(order_form: CompiledForm) -> dict[str, Any]:
    """An order as it was stored: numbered, with remarks, since shipped and not yet paid."""
    result = validate(order_form, order(status="confirmed", remarks="Fragile: glass"),
                      context(resolver=FakeResolver(), assign_numbers=True))
    assert result.ok, result.errors
    return {**result.data, "status": "shipped", "ship_date": date(2024, 1, 6), "paid": False}


# -- a good record -----------------------------------------------------------------------------

def test_a_good_order_has_no_errors(order_form: CompiledForm) -> None:
    result = validate(order_form, order(), context())
    assert result.ok
    assert result.errors == []


def test_line_subtotals_and_the_order_total_are_exact_decimals(order_form: CompiledForm
                                                                ) -> None:
    lines = [line(product, qty, price) for product, qty, price, _ in FIVE_LINES]
    result = validate(order_form, order(lines=lines), context())
    assert result.ok, result.errors
    assert [str(row["subtotal"]) for row in result.data["lines"]] == [
        subtotal for *_, subtotal in FIVE_LINES]
    assert str(result.data["total"]) == "313.33"


def test_money_sent_as_json_floats_is_still_exact(order_form: CompiledForm) -> None:
    result = validate(order_form, order(lines=[line(13, 3, 0.1)]), context())
    assert result.data["lines"][0]["subtotal"] == Decimal("0.30")
    assert result.data["total"] == Decimal("0.30")


def test_a_formula_reads_a_rollup_and_rounds_half_up(order_form: CompiledForm) -> None:
    lines = [line(product, qty, price) for product, qty, price, _ in FIVE_LINES]
    result = validate(order_form, order(lines=lines, discount=Decimal("12.5")), context())
    # 313.33 × 87.5 % = 274.16375
    assert result.data["payable"] == Decimal("274.16")


def test_an_enrollment_counts_the_sessions_remaining(enrollment_form: CompiledForm) -> None:
    result = validate(enrollment_form, {"student": "Xiao Ming", "course": "math",
                                        "sessions_bought": 20, "sessions_used": 5}, context())
    assert result.ok, result.errors
    assert result.data["sessions_remaining"] == 15
    assert result.data["renewal_due"] is False


def test_an_enrollment_is_due_for_renewal_with_three_sessions_or_fewer_left(
        enrollment_form: CompiledForm) -> None:
    result = validate(enrollment_form, {"student": "Xiao Ming", "course": "math",
                                        "sessions_bought": 20, "sessions_used": 17}, context())
    assert result.data["sessions_remaining"] == 3
    assert result.data["renewal_due"] is True


def test_an_enrollment_is_due_for_renewal_when_its_period_ends_within_30_days(
        enrollment_form: CompiledForm) -> None:
    result = validate(enrollment_form, {"student": "Xiao Ming", "course": "math",
                                        "sessions_bought": 20, "period_end": "2024-01-31"},
                      context())
    assert result.data["renewal_due"] is True


def test_a_count_rollup_counts_the_lines(ticket_form: CompiledForm) -> None:
    result = validate(ticket_form, {"customer": 1, "parts": [{"part": 21}, {"part": 21}]},
                      context())
    assert result.data["parts_count"] == 2


def test_a_rollup_over_no_lines_sums_to_zero_and_counts_zero(ticket_form: CompiledForm,
                                                             order_form: CompiledForm) -> None:
    assert validate(ticket_form, {"customer": 1}, context()).data["parts_count"] == 0
    assert validate(order_form, order(lines=[]), context()).data["total"] == Decimal(0)


def test_a_rollup_with_a_precision_rounds_half_up(order_definition: dict[str, Any]) -> None:
    order_definition["fields"].append({"key": "average_price", "type": "rollup",
                                       "function": "avg", "subtable": "lines",
                                       "column": "price", "precision": 2})
    result = validate(compile_form(order_definition),
                      order(lines=[line(11, 1, "0.12"), line(12, 1, "0.13")]), context())
    assert result.data["average_price"] == Decimal("0.13")


# -- every error at once, with its path, code and message --------------------------------------

def test_every_error_is_reported_at_once_with_its_path(order_form: CompiledForm) -> None:
    result = validate(order_form, {
        "customer": 1, "status": "cancelled", "discount": 120, "bogus": True,
        "lines": [line(11, 2, "9.90"),
                  line(12, 0, 10.005),
                  {"product": 13, "qty": 1.5, "price": "abc"},
                  {"qty": 1, "price": 1}]}, context())
    assert sorted(errors(result)) == sorted([
        ("bogus", "unknown_field"),
        ("status", "not_an_option"),
        ("discount", "too_large"),
        ("lines[1].qty", "too_small"),
        ("lines[1].price", "too_many_decimals"),
        ("lines[2].qty", "not_an_integer"),
        ("lines[2].price", "not_a_number"),
        ("lines[3].product", "required"),
    ])


def test_a_refused_cell_is_reported_once_not_also_as_missing(order_form: CompiledForm) -> None:
    result = validate(order_form, order(lines=[line(11, "two", "9.90")]), context())
    assert errors(result) == [("lines[0].qty", "not_a_number")]


def test_a_refused_required_field_is_reported_once(order_form: CompiledForm) -> None:
    result = validate(order_form, order(customer="Acme"), context())
    assert errors(result) == [("customer", "bad_reference")]


def test_messages_use_the_fields_label_in_english(order_form: CompiledForm) -> None:
    result = validate(order_form, order(lines=[line(11, 0, "9.90")], discount=120), context())
    assert sorted(result.messages("en"), key=lambda message: message["path"]) == [
        {"path": "discount", "code": "too_large", "message": "Discount must be at most 100."},
        {"path": "lines[0].qty", "code": "too_small",
         "message": "Quantity must be at least 1."},
    ]


def test_messages_use_the_fields_label_in_chinese(order_form: CompiledForm) -> None:
    result = validate(order_form, order(lines=[line(11, 0, "9.90")], discount=120), context())
    assert sorted(result.messages("zh"), key=lambda message: message["path"]) == [
        {"path": "discount", "code": "too_large", "message": "折扣不能大于 100。"},
        {"path": "lines[0].qty", "code": "too_small", "message": "数量不能小于 1。"},
    ]


def test_a_missing_required_field_is_named_in_both_languages(order_form: CompiledForm) -> None:
    problem = only(validate(order_form, {"lines": [line(11, 1, "1")]}, context()))
    assert (problem.path, problem.code) == ("customer", "required")
    assert problem.message("en") == "Customer is required."
    assert problem.message("zh") == "客户为必填项。"


def test_a_field_without_a_label_is_named_by_its_key() -> None:
    form = compile_form({"key": "memo", "fields": [{"key": "body", "type": "text",
                                                    "required": True}]})
    assert only(validate(form, {}, context())).message("en") == "body is required."


@pytest.mark.parametrize("data", [["customer", 1], None, "customer=1", 42])
def test_a_record_that_is_not_an_object_is_one_error(order_form: CompiledForm, data: Any
                                                     ) -> None:
    result = validate(order_form, data, context())
    problem = only(result)
    assert (problem.path, problem.code) == ("", "not_an_object")
    assert problem.message("en") == "The record must be an object of field values."
    assert problem.message("zh") == "记录应为字段值组成的对象。"
    assert result.data == {}


# -- what may be sent --------------------------------------------------------------------------

def test_an_unknown_field_is_refused_by_name(order_form: CompiledForm) -> None:
    problem = only(validate(order_form, order(colour="red"), context()))
    assert (problem.path, problem.code) == ("colour", "unknown_field")
    assert problem.message("en") == "colour is not a field of this form."
    assert problem.message("zh") == "colour不是此表单的字段。"


def test_an_unknown_column_in_a_line_is_refused_at_its_line(order_form: CompiledForm) -> None:
    lines = [line(11, 1, "1"), {**line(12, 1, "1"), "colour": "red"}]
    assert errors(validate(order_form, order(lines=lines), context())) == [
        ("lines[1].colour", "unknown_field")]


def test_a_section_holds_no_value_and_cannot_be_sent() -> None:
    form = compile_form({"key": "memo", "fields": [
        {"key": "basics", "type": "section", "label": "Basics"},
        {"key": "body", "type": "text"}]})
    assert errors(validate(form, {"basics": "x", "body": "hi"}, context())) == [
        ("basics", "unknown_field")]


@pytest.mark.parametrize("key", ["total", "payable", "number"])
def test_a_computed_field_cannot_be_set(order_form: CompiledForm, key: str) -> None:
    problem = only(validate(order_form, order(**{key: 1}), context()))
    assert (problem.path, problem.code) == (key, "computed")


def test_a_computed_field_cannot_be_set_even_by_the_system(order_form: CompiledForm) -> None:
    assert errors(validate(order_form, order(total=1), context(system=True))) == [
        ("total", "computed")]


def test_a_line_subtotal_cannot_be_set(order_form: CompiledForm) -> None:
    problem = only(validate(order_form, order(lines=[{**line(11, 2, "9.90"), "subtotal": 1}]),
                            context()))
    assert (problem.path, problem.code) == ("lines[0].subtotal", "computed")
    assert problem.message("en") == "Subtotal is calculated and cannot be set."
    assert problem.message("zh") == "小计为自动计算字段，不能填写。"


def test_lines_must_be_a_list_of_objects(order_form: CompiledForm) -> None:
    assert errors(validate(order_form, order(lines={"qty": 1}), context())) == [
        ("lines", "wrong_type")]
    assert errors(validate(order_form, order(lines=[line(11, 1, "1"), "two"]), context())) == [
        ("lines[1]", "wrong_type")]


def test_an_order_allows_at_most_five_lines(order_form: CompiledForm) -> None:
    problem = only(validate(order_form, order(lines=[line(11, 1, "1")] * 6), context()))
    assert (problem.path, problem.code, problem.params["limit"]) == ("lines", "too_many_rows", 5)
    assert problem.message("zh") == "明细最多 5 行。"


@pytest.mark.parametrize("lines", [[], None])
def test_an_order_needs_at_least_one_line(order_form: CompiledForm, lines: Any) -> None:
    problem = only(validate(order_form, order(lines=lines), context()))
    assert (problem.path, problem.code) == ("lines", "too_few_rows")
    assert problem.message("en") == "Lines needs at least 1 line(s)."


def test_an_order_left_without_its_lines_needs_at_least_one(order_form: CompiledForm) -> None:
    assert errors(validate(order_form, {"customer": 1}, context())) == [("lines", "too_few_rows")]


# -- strict JSON and lenient input -------------------------------------------------------------

TYPED = [  # field, what a person types, what is stored
    ("customer", "1", 1),
    ("order_date", "2024年1月5日", date(2024, 1, 5)),
    ("order_date", "2024/1/5", date(2024, 1, 5)),
    ("status", "已确认", "confirmed"),
    ("status", "Confirmed", "confirmed"),
    ("discount", " 12.5 ", Decimal("12.5")),
]


@pytest.mark.parametrize(("key", "typed", "stored"), TYPED)
def test_a_form_or_import_reads_what_people_type(order_form: CompiledForm, key: str,
                                                 typed: str, stored: Any) -> None:
    result = validate(order_form, order(**{key: typed}), context(mode="input"))
    assert result.ok, result.errors
    assert result.data[key] == stored


@pytest.mark.parametrize(("key", "typed", "stored"), TYPED)
def test_the_api_takes_only_canonical_json(order_form: CompiledForm, key: str, typed: str,
                                           stored: Any) -> None:
    assert [path for path, _ in errors(validate(order_form, order(**{key: typed}),
                                                context()))] == [key]


def test_typed_line_cells_are_read_too(order_form: CompiledForm) -> None:
    cells = {"product": "11", "qty": "1,000", "price": "1,234.50"}
    result = validate(order_form, order(lines=[cells]), context(mode="input"))
    assert result.ok, result.errors
    assert result.data["lines"][0]["subtotal"] == Decimal("1234500.00")
    assert errors(validate(order_form, order(lines=[cells]), context())) == [
        ("lines[0].product", "bad_reference"), ("lines[0].qty", "not_a_number"),
        ("lines[0].price", "not_a_number")]


def test_blank_typed_text_counts_as_empty_only_in_a_form(customer_form: CompiledForm) -> None:
    assert errors(validate(customer_form, {"name": "   "}, context(mode="input"))) == [
        ("name", "required")]
    assert errors(validate(customer_form, {"name": ""}, context())) == [("name", "required")]


def test_typed_text_is_tidied_in_a_form_and_kept_as_sent_by_the_api(
        customer_form: CompiledForm) -> None:
    sent = {"name": "  Acme   Trading  "}
    assert validate(customer_form, sent, context(mode="input")).data["name"] == "Acme Trading"
    assert validate(customer_form, sent, context()).data["name"] == "  Acme   Trading  "


def test_a_typed_phone_number_is_stored_in_e164(customer_form: CompiledForm) -> None:
    result = validate(customer_form, {"name": "Acme", "phone": "138 1234 5678"},
                      context(mode="input"))
    assert result.data["phone"] == "+8613812345678"


def test_an_invalid_phone_is_reported_with_the_region(customer_form: CompiledForm) -> None:
    problem = only(validate(customer_form, {"name": "Acme", "phone": "12345"},
                            context(mode="input")))
    assert problem.message("en") == ("Phone is not a valid phone number for China, "
                                     "e.g. 131 2345 6789.")
    assert problem.message("zh") == "电话不是有效的中国电话号码，例如 131 2345 6789。"


def test_a_pattern_mismatch_shows_the_designers_own_message() -> None:
    form = compile_form({"key": "machine", "fields": [
        {"key": "serial", "type": "text", "label": {"en": "Serial no.", "zh": "序列号"},
         "pattern": "^SN-[0-9]{5}$",
         "pattern_message": {"en": "Use the form SN-00042", "zh": "格式应为 SN-00042"}},
        {"key": "model", "type": "text", "label": {"en": "Model", "zh": "型号"},
         "pattern": "^[A-Z0-9-]+$"}]})
    result = validate(form, {"serial": "42", "model": "x 1"}, context())
    assert [(problem.message("en"), problem.message("zh")) for problem in result.errors] == [
        ("Use the form SN-00042", "格式应为 SN-00042"),
        ("Model does not have the expected format.", "型号的格式不正确。")]


# -- defaults ----------------------------------------------------------------------------------

def test_a_new_record_gets_default_values(order_form: CompiledForm) -> None:
    result = validate(order_form, order(), context())
    assert (result.data["status"], result.data["discount"]) == ("draft", Decimal(0))


def test_a_new_record_gets_defaults_computed_from_the_clock(order_form: CompiledForm,
                                                            ticket_form: CompiledForm) -> None:
    assert validate(order_form, order(), context()).data["order_date"] == date(2024, 1, 5)
    assert validate(ticket_form, {"customer": 1}, context()).data["opened_at"] == NOW


def test_a_default_expression_may_compute_a_later_date(enrollment_form: CompiledForm) -> None:
    result = validate(enrollment_form, {"student": "Xiao Ming", "course": "math",
                                        "sessions_bought": 20}, context())
    assert (result.data["period_start"], result.data["period_end"]) == (
        date(2024, 1, 5), date(2025, 1, 5))


def test_today_is_the_tenants_day_not_utcs(order_definition: dict[str, Any]) -> None:
    form = compile_form(order_definition, env=TypeEnv(timezone=SHANGHAI))
    result = validate(form, order(), context(clock=lambda: AFTER_MIDNIGHT_IN_BEIJING))
    assert result.data["order_date"] == date(2024, 1, 6)


def test_a_value_sent_wins_over_the_default(order_form: CompiledForm) -> None:
    result = validate(order_form, order(status="confirmed", order_date="2023-12-30"), context())
    assert (result.data["status"], result.data["order_date"]) == ("confirmed", date(2023, 12, 30))


def test_a_field_cleared_on_purpose_stays_blank(order_form: CompiledForm) -> None:
    assert validate(order_form, order(status=None), context()).data["status"] is None


def test_an_update_does_not_apply_defaults(order_form: CompiledForm,
                                           saved_order: dict[str, Any]) -> None:
    existing = {**saved_order, "status": None, "order_date": None, "discount": None}
    result = validate(order_form, {"remarks": "Call first"}, context(existing=existing))
    assert (result.data["status"], result.data["order_date"], result.data["discount"]) == (
        None, None, None)


def test_an_empty_line_cell_takes_its_columns_default(order_definition: dict[str, Any]) -> None:
    order_definition["fields"][5]["fields"][1]["default"] = 1
    result = validate(compile_form(order_definition),
                      order(lines=[{"product": 11, "price": Decimal("9.90")}]), context())
    assert result.data["lines"][0]["qty"] == 1
    assert result.data["lines"][0]["subtotal"] == Decimal("9.90")


def test_default_lines_are_completed_like_lines_that_were_sent(
        order_definition: dict[str, Any]) -> None:
    # (a definition is JSON read with exact decimals, as the API reads it)
    order_definition["fields"][5]["default"] = [{"product": 11, "qty": 2,
                                                 "price": Decimal("9.90")}]
    result = validate(compile_form(order_definition), {"customer": 1}, context())
    assert result.data["lines"] == [{"product": 11, "qty": 2, "price": Decimal("9.90"),
                                     "subtotal": Decimal("19.80")}]
    assert result.data["total"] == Decimal("19.80")


# -- conditions --------------------------------------------------------------------------------

def test_a_hidden_field_is_not_required(order_form: CompiledForm) -> None:
    result = validate(order_form, order(status="draft"), context())
    assert result.ok
    assert (result.visible["ship_date"], result.required["ship_date"]) == (False, False)


def test_a_field_shown_by_its_condition_becomes_required_with_it(order_form: CompiledForm
                                                                 ) -> None:
    result = validate(order_form, order(status="shipped"), context())
    assert errors(result) == [("ship_date", "required")]
    assert result.errors[0].message("zh") == "发货日期为必填项。"
    assert (result.visible["ship_date"], result.required["ship_date"]) == (True, True)


def test_a_key_accounts_budget_is_shown_and_required(customer_form: CompiledForm) -> None:
    regular = validate(customer_form, {"name": "Acme", "level": "b"}, context())
    key_account = validate(customer_form, {"name": "Acme", "level": "a"}, context())
    assert regular.ok and regular.visible["budget"] is False
    assert errors(key_account) == [("budget", "required")]


def test_required_if_makes_a_field_required_when_it_holds(ticket_form: CompiledForm) -> None:
    open_ticket = validate(ticket_form, {"customer": 1, "status": "open"}, context())
    closed = validate(ticket_form, {"customer": 1, "status": "closed"}, context())
    assert open_ticket.ok and open_ticket.required["resolution"] is False
    assert errors(closed) == [("resolution", "required")]
    assert closed.required["resolution"] is True


def test_a_condition_inside_a_line_is_checked_per_line() -> None:
    form = compile_form({"key": "repair", "fields": [{"key": "items", "type": "subtable",
                                                      "fields": [
        {"key": "kind", "type": "select", "options": [{"value": "part"}, {"value": "labour"}]},
        {"key": "part_no", "type": "text", "label": {"en": "Part no.", "zh": "配件号"},
         "visible_if": "kind == 'part'", "required_if": "kind == 'part'"}]}]})
    result = validate(form, {"items": [{"kind": "labour"}, {"kind": "part"}]}, context())
    assert errors(result) == [("items[1].part_no", "required")]
    assert result.errors[0].message("en") == "Part no. is required."


def test_readonly_if_locks_a_field_once_its_condition_holds(order_form: CompiledForm,
                                                            saved_order: dict[str, Any]) -> None:
    result = validate(order_form, {"remarks": "Leave at the door"},
                      context(existing=saved_order))
    assert errors(result) == [("remarks", "read_only")]
    assert result.errors[0].message("zh") == "备注为只读字段。"
    assert result.read_only["remarks"] is True


def test_a_locked_field_may_be_sent_back_unchanged(order_form: CompiledForm,
                                                   saved_order: dict[str, Any]) -> None:
    assert validate(order_form, {"remarks": saved_order["remarks"]},
                    context(existing=saved_order)).ok


def test_a_field_is_editable_while_its_readonly_if_does_not_hold(
        order_form: CompiledForm, saved_order: dict[str, Any]) -> None:
    draft = {**saved_order, "status": "draft", "ship_date": None}
    result = validate(order_form, {"remarks": "Leave at the door"}, context(existing=draft))
    assert result.ok, result.errors
    assert result.read_only["remarks"] is False


# -- read-only fields --------------------------------------------------------------------------

def test_a_read_only_field_cannot_be_set_on_create(order_form: CompiledForm) -> None:
    problem = only(validate(order_form, order(paid=True), context()))
    assert (problem.path, problem.code) == ("paid", "read_only")
    assert problem.message("en") == "Paid is read-only."


def test_a_read_only_field_may_be_sent_with_its_default_on_create(ticket_form: CompiledForm
                                                                  ) -> None:
    result = validate(ticket_form, {"customer": 1, "sla_hours": 2}, context())
    assert result.ok, result.errors


def test_a_read_only_field_with_a_default_cannot_be_set_to_another_value(
        ticket_form: CompiledForm) -> None:
    result = validate(ticket_form, {"customer": 1, "sla_hours": 48}, context())
    assert errors(result) == [("sla_hours", "read_only")]


def test_a_read_only_field_cannot_be_changed_on_update(order_form: CompiledForm,
                                                       saved_order: dict[str, Any]) -> None:
    assert errors(validate(order_form, {"paid": True}, context(existing=saved_order))) == [
        ("paid", "read_only")]


def test_a_read_only_field_may_be_sent_back_unchanged(order_form: CompiledForm,
                                                      saved_order: dict[str, Any]) -> None:
    assert validate(order_form, {"paid": False}, context(existing=saved_order)).ok


def test_the_system_may_write_read_only_fields(order_form: CompiledForm,
                                               saved_order: dict[str, Any]) -> None:
    created = validate(order_form, order(paid=True), context(system=True))
    updated = validate(order_form, {"paid": True, "remarks": "Paid by transfer"},
                       context(existing=saved_order, system=True))
    assert created.ok and created.data["paid"] is True
    assert updated.ok and (updated.data["paid"], updated.data["remarks"]) == (
        True, "Paid by transfer")


# -- rules -------------------------------------------------------------------------------------

def test_a_rule_refuses_the_record_at_its_field_in_english_and_chinese(
        order_form: CompiledForm) -> None:
    result = validate(order_form, order(lines=[line(11, 1000, "200.00")], discount=40),
                      context())
    problem = only(result)
    assert (problem.path, problem.code, problem.params["rule"]) == (
        "discount", "rule", "discount_cap")
    assert problem.message("en") == "Orders above 100,000 take at most 30% discount"
    assert problem.message("zh") == "订单金额超过10万时折扣不能超过30%"


def test_a_rule_that_does_not_hold_lets_the_record_through(order_form: CompiledForm) -> None:
    assert validate(order_form, order(lines=[line(11, 1000, "200.00")], discount=30),
                    context()).ok


def test_more_sessions_used_than_bought_is_refused(enrollment_form: CompiledForm) -> None:
    problem = only(validate(enrollment_form, {"student": "Xiao Ming", "course": "math",
                                              "sessions_bought": 20, "sessions_used": 21},
                            context()))
    assert problem.path == "sessions_used"
    assert problem.message("zh") == "已上课时不能超过购买课时"


def test_rules_are_checked_along_with_field_errors(ticket_form: CompiledForm) -> None:
    result = validate(ticket_form, {"customer": 1, "status": "closed", "satisfaction": 5},
                      context())
    assert errors(result) == [("resolution", "required"), ("satisfaction", "rule")]
    assert result.errors[1].message("en") == "A low score needs a resolution note"


def test_a_rule_that_cannot_be_evaluated_refuses_the_record() -> None:
    form = compile_form({"key": "memo", "fields": [{"key": "code", "type": "text"}],
                         "rules": [{"key": "code_limit", "field": "code",
                                    "error_if": "code > 5", "message": "Code too high"}]})
    problem = only(validate(form, {"code": "ABC"}, context()))
    assert (problem.path, problem.code) == ("code", "expression_failed")
    assert problem.message("en").startswith("code_limit: the expression could not be evaluated")


# -- references, through the platform's resolver -----------------------------------------------

def test_references_to_missing_records_are_reported_where_they_are(
        order_form: CompiledForm, resolver: FakeResolver) -> None:
    result = validate(order_form, order(customer=9, owner=99,
                                        lines=[line(11, 1, "1"), line(99, 1, "1")]),
                      context(resolver=resolver))
    messages = {problem.path: (problem.code, problem.message("en"), problem.message("zh"))
                for problem in result.errors}
    assert messages == {
        "customer": ("no_such_record", "Customer: there is no customer record 9.",
                     "客户：customer 中不存在记录 9。"),
        "owner": ("no_such_user", "Owner: user 99 does not exist.", "负责人：用户 99 不存在。"),
        "lines[1].product": ("no_such_record", "Product: there is no product record 99.",
                             "产品：product 中不存在记录 99。"),
    }


def test_missing_users_and_departments_in_a_ticket_are_reported(
        ticket_form: CompiledForm, resolver: FakeResolver) -> None:
    result = validate(ticket_form, {"customer": 1, "engineer": 7, "team": 4,
                                    "parts": [{"part": 21, "fitted_by": 9}]},
                      context(resolver=resolver))
    assert sorted(errors(result)) == [("parts[0].fitted_by", "no_such_user"),
                                      ("team", "no_such_department")]
    team = next(problem for problem in result.errors if problem.path == "team")
    assert team.message("zh") == "服务组：部门 4 不存在。"


def test_the_same_missing_record_is_reported_on_every_line_that_uses_it(
        order_form: CompiledForm, resolver: FakeResolver) -> None:
    result = validate(order_form, order(lines=[line(99, 1, "1"), line(11, 1, "1"),
                                               line(99, 2, "1")]),
                      context(resolver=resolver))
    assert errors(result) == [("lines[0].product", "no_such_record"),
                              ("lines[2].product", "no_such_record")]


def test_references_are_checked_in_one_question_per_kind(order_form: CompiledForm,
                                                         resolver: FakeResolver) -> None:
    validate(order_form, order(owner=7, lines=[line(11, 1, "1"), line(12, 1, "1"),
                                               line(11, 1, "1")]),
             context(resolver=resolver))
    assert sorted(resolver.questions, key=str) == sorted([
        ("missing_references", "record", "customer", frozenset({1})),
        ("missing_references", "record", "product", frozenset({11, 12})),
        ("missing_references", "user", None, frozenset({7})),
    ], key=str)


def test_existing_references_pass(order_form: CompiledForm, resolver: FakeResolver) -> None:
    assert validate(order_form, order(owner=8), context(resolver=resolver)).ok


def test_without_a_resolver_references_are_not_checked(order_form: CompiledForm) -> None:
    assert validate(order_form, order(customer=9), context()).ok


def test_a_customers_total_spent_is_rolled_up_from_its_orders(
        customer_form: CompiledForm, resolver: FakeResolver) -> None:
    resolver.rollups[("sales_order", "customer", "payable", "sum", 1)] = Decimal("313.33")
    result = validate(customer_form, {"name": "Acme"}, context(resolver=resolver, record_id=1))
    assert result.data["total_spent"] == Decimal("313.33")
    assert ("related_rollup", "sales_order", "customer", "payable", "sum", 1) in (
        resolver.questions)


def test_without_a_resolver_a_related_rollup_is_blank(customer_form: CompiledForm) -> None:
    assert validate(customer_form, {"name": "Acme"}, context(record_id=1)).data[
        "total_spent"] is None


# -- auto-numbers ------------------------------------------------------------------------------

def test_a_new_order_is_numbered_from_the_date_and_the_days_sequence(
        order_form: CompiledForm, resolver: FakeResolver) -> None:
    numbering = context(resolver=resolver, assign_numbers=True)
    first = validate(order_form, order(), numbering)
    second = validate(order_form, order(), numbering)
    assert (first.data["number"], second.data["number"]) == ("SO-20240105-0001",
                                                             "SO-20240105-0002")
    assert resolver.questions.count(("next_sequence", "number", "2024-01-05")) == 2


def test_a_ticket_number_restarts_every_month(ticket_form: CompiledForm,
                                              resolver: FakeResolver) -> None:
    result = validate(ticket_form, {"customer": 1},
                      context(resolver=resolver, assign_numbers=True))
    assert result.data["number"] == "TK-202401-00001"
    assert ("next_sequence", "number", "2024-01") in resolver.questions


def test_the_number_uses_the_tenants_date(order_definition: dict[str, Any],
                                          resolver: FakeResolver) -> None:
    form = compile_form(order_definition, env=TypeEnv(timezone=SHANGHAI))
    result = validate(form, order(), context(clock=lambda: AFTER_MIDNIGHT_IN_BEIJING,
                                             resolver=resolver, assign_numbers=True))
    assert result.data["number"] == "SO-20240106-0001"


def test_no_number_is_drawn_unless_asked(order_form: CompiledForm, resolver: FakeResolver
                                         ) -> None:
    result = validate(order_form, order(), context(resolver=resolver))
    assert result.data["number"] is None
    assert not any(question[0] == "next_sequence" for question in resolver.questions)


def test_no_number_is_wasted_on_a_record_with_errors(order_form: CompiledForm,
                                                     resolver: FakeResolver) -> None:
    result = validate(order_form, order(discount=500),
                      context(resolver=resolver, assign_numbers=True))
    assert not result.ok
    assert not any(question[0] == "next_sequence" for question in resolver.questions)


def test_an_update_keeps_the_number(order_form: CompiledForm, saved_order: dict[str, Any],
                                    resolver: FakeResolver) -> None:
    result = validate(order_form, {"status": "confirmed"},
                      context(existing={**saved_order, "status": "draft"}, resolver=resolver,
                              assign_numbers=True))
    assert result.ok, result.errors
    assert result.data["number"] == saved_order["number"] == "SO-20240105-0001"
    assert not any(question[0] == "next_sequence" for question in resolver.questions)


# -- updates -----------------------------------------------------------------------------------

def test_an_update_keeps_the_values_it_does_not_mention(order_form: CompiledForm,
                                                        saved_order: dict[str, Any]) -> None:
    existing = {**saved_order, "status": "confirmed", "ship_date": None}
    result = validate(order_form, {"owner": 7}, context(existing=existing))
    assert result.ok, result.errors
    unchanged = {key: value for key, value in existing.items() if key != "owner"}
    assert {key: result.data[key] for key in unchanged} == unchanged
    assert result.data["owner"] == 7


def test_an_update_recomputes_formulas_and_rollups(order_form: CompiledForm,
                                                   saved_order: dict[str, Any]) -> None:
    result = validate(order_form, {"lines": [line(11, 3, "9.90")], "discount": 10},
                      context(existing=saved_order))
    assert (result.data["total"], result.data["payable"]) == (Decimal("29.70"),
                                                              Decimal("26.73"))


def test_an_update_can_clear_a_field(order_form: CompiledForm, saved_order: dict[str, Any]
                                     ) -> None:
    result = validate(order_form, {"owner": None}, context(existing={**saved_order, "owner": 7}))
    assert result.data["owner"] is None


def test_an_update_cannot_clear_a_required_field(order_form: CompiledForm,
                                                 saved_order: dict[str, Any]) -> None:
    assert errors(validate(order_form, {"customer": None}, context(existing=saved_order))) == [
        ("customer", "required")]


def test_an_enrollment_update_recounts_the_sessions_remaining(
        enrollment_form: CompiledForm) -> None:
    existing = {"student": "Xiao Ming", "course": "math", "sessions_bought": 20,
                "sessions_used": 10, "period_start": date(2024, 1, 5),
                "period_end": date(2025, 1, 5)}
    result = validate(enrollment_form, {"sessions_used": 18}, context(existing=existing))
    assert (result.data["sessions_remaining"], result.data["renewal_due"]) == (2, True)


# -- line formulas that read the order ---------------------------------------------------------

def net_lines(definition: dict[str, Any]) -> CompiledForm:
    """The order with line subtotals after the order's discount (declared after the lines)."""
    definition["fields"][5]["fields"][3]["expression"] = "qty * price * (100 - discount) / 100"
    return compile_form(definition)


def test_a_line_formula_reads_an_order_field_declared_after_the_lines(
        order_definition: dict[str, Any]) -> None:
    result = validate(net_lines(order_definition), order(discount=10), context())
    assert result.data["lines"][0]["subtotal"] == Decimal("17.82")


def test_a_line_formula_reads_the_orders_default(order_definition: dict[str, Any]) -> None:
    result = validate(net_lines(order_definition), order(), context())
    assert result.data["lines"][0]["subtotal"] == Decimal("19.80")


def test_a_line_formula_reads_the_stored_order_on_update(order_definition: dict[str, Any],
                                                         saved_order: dict[str, Any]) -> None:
    existing = {**saved_order, "discount": Decimal(10)}
    result = validate(net_lines(order_definition), {"lines": [line(11, 2, "9.90")]},
                      context(existing=existing))
    assert result.data["lines"][0]["subtotal"] == Decimal("17.82")


def test_a_line_formula_follows_a_change_to_the_order_on_update(
        order_definition: dict[str, Any]) -> None:
    form = net_lines(order_definition)
    created = validate(form, order(), context())
    assert created.data["lines"][0]["subtotal"] == Decimal("19.80")
    updated = validate(form, {"discount": 10}, context(existing=created.data))
    assert updated.data["lines"][0]["subtotal"] == Decimal("17.82")
    assert updated.data["total"] == Decimal("17.82")


def test_validation_results_say_what_is_visible_required_and_read_only(
        order_form: CompiledForm) -> None:
    result = validate(order_form, order(), context())
    inputs = {field.key for field in order_form.inputs}
    assert set(result.visible) == set(result.required) == set(result.read_only) == inputs
    assert result.required["customer"] is True and result.read_only["paid"] is True


def test_the_same_record_validates_the_same_way_twice(order_form: CompiledForm) -> None:
    data = order(lines=[line(11, 0, "9.90")], colour="red")
    assert validate(order_form, data, context()).errors == validate(order_form, data,
                                                                    context()).errors


def test_validation_does_not_change_the_data_it_was_given(order_form: CompiledForm) -> None:
    data = order(lines=[line(11, 2, "9.90")])
    snapshot = repr(data)
    validate(order_form, data, context())
    assert repr(data) == snapshot


def test_a_mapping_that_is_not_a_dict_is_a_record(order_form: CompiledForm) -> None:
    class Record(Mapping[str, Any]):
        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data

        def __getitem__(self, key: str) -> Any:
            return self.data[key]

        def __iter__(self) -> Any:
            return iter(self.data)

        def __len__(self) -> int:
            return len(self.data)

    assert validate(order_form, Record(order()), context()).ok
