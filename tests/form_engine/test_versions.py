"""Publishing a new version: the diff, its impact on existing records, refusing breaking
changes without a migration, and upgrading stored records."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from form_engine.compiler import compile_form
from form_engine.errors import BreakingChange
from form_engine.versions import diff_definitions, plan_publish, require_publishable, upgrade

V1: dict[str, Any] = {
    "key": "lead",
    "fields": [
        {"key": "name", "type": "text", "required": True},
        {"key": "phone", "type": "text"},
        {"key": "budget", "type": "text"},
        {"key": "stage", "type": "select", "options": [
            {"value": "new"}, {"value": "qualified"}, {"value": "lost"}]},
        {"key": "fax", "type": "text"},
    ],
}


class Records:
    """Counts over a list of stored records, as the platform answers them."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def total(self) -> int:
        return len(self.records)

    def with_value(self, key: str) -> int:
        return sum(1 for record in self.records if record.get(key) not in (None, "", []))

    def with_option(self, key: str, values: Iterable[str]) -> int:
        wanted = set(values)
        return sum(1 for record in self.records if record.get(key) in wanted)

    def sharing(self, key: str) -> int:
        values = [record.get(key) for record in self.records
                  if record.get(key) not in (None, "", [])]
        return sum(1 for value in values if values.count(value) > 1)


STORED = Records([
    {"name": "Acme", "phone": "138", "budget": "12,000", "stage": "lost", "fax": "010-1"},
    {"name": "Globex", "budget": "abc", "stage": "new"},
    {"name": "Initech", "stage": "qualified"},
])


def v2(**changes: Any) -> dict[str, Any]:
    definition = copy.deepcopy(V1)
    fields = {field["key"]: field for field in definition["fields"]}
    for key, change in changes.items():
        if change is None:
            definition["fields"].remove(fields[key])
        elif key in fields:
            fields[key].update(change)
        else:
            definition["fields"].append({"key": key, **change})
    return definition


def test_the_diff_names_added_removed_retyped_and_newly_required_fields() -> None:
    diff = diff_definitions(V1, v2(fax=None, email={"type": "email"},
                                   budget={"type": "currency"}, phone={"required": True},
                                   stage={"options": [{"value": "new"}, {"value": "qualified"},
                                                      {"value": "won"}]}))
    assert diff.added == ["email"]
    assert diff.removed == ["fax"]
    assert diff.retyped == [{"key": "budget", "old": "text", "new": "currency"}]
    assert diff.newly_required == ["phone"]
    assert diff.options_removed == [{"key": "stage", "values": ["lost"]}]
    assert diff.options_added == [{"key": "stage", "values": ["won"]}]


def test_a_relabel_is_not_a_breaking_change() -> None:
    plan = plan_publish(V1, v2(name={"label": {"en": "Company", "zh": "公司"}}), STORED)
    assert plan.diff.relabelled == ["name"] and not plan.breaking


def test_adding_an_optional_field_breaks_nothing() -> None:
    assert not plan_publish(V1, v2(email={"type": "email"}), STORED).breaking


def test_removing_a_field_that_holds_data_needs_a_drop() -> None:
    plan = plan_publish(V1, v2(fax=None), STORED)
    assert [(p.path, p.code) for p in plan.problems] == [("migrations.fax", "field_removed")]
    assert plan.impact["fields"]["fax"] == {"removed": True, "with_value": 1}
    assert plan.problems[0].message("en") == "Field 'fax' is removed; 1 record(s) hold a value."
    with pytest.raises(BreakingChange):
        require_publishable(plan)
    assert not plan_publish(V1, v2(fax=None), STORED, {"fax": {"drop": True}}).breaking


def test_a_type_change_needs_a_conversion_or_a_default() -> None:
    change = v2(budget={"type": "currency"})
    assert plan_publish(V1, change, STORED).problems[0].code == "field_retyped"
    assert not plan_publish(V1, change, STORED, {"budget": {"convert": True}}).breaking


def test_a_newly_required_field_needs_a_default_for_records_without_it() -> None:
    plan = plan_publish(V1, v2(phone={"required": True}), STORED)
    assert plan.impact["fields"]["phone"]["missing"] == 2
    assert plan.problems[0].message("zh") == "字段“phone”改为必填；缺少该值的记录需要默认值。"
    assert not plan_publish(V1, v2(phone={"required": True}), STORED,
                            {"phone": {"default": "unknown"}}).breaking


def test_removing_an_option_in_use_needs_a_mapping() -> None:
    change = v2(stage={"options": [{"value": "new"}, {"value": "qualified"},
                                   {"value": "closed"}]})
    assert plan_publish(V1, change, STORED).problems[0].code == "options_removed"
    assert not plan_publish(V1, change, STORED, {"stage": {"map": {"lost": "closed"}}}).breaking


def test_nothing_breaks_when_there_are_no_records() -> None:
    assert not plan_publish(V1, v2(fax=None, budget={"type": "number"}), Records([])).breaking
    assert not plan_publish(None, V1, STORED).breaking


def test_upgrade_applies_the_migration_to_a_stored_record() -> None:
    new = v2(fax=None, budget={"type": "currency"}, phone={"required": True},
             stage={"options": [{"value": "new"}, {"value": "qualified"},
                                {"value": "closed"}]})
    migrations = {"fax": {"drop": True}, "budget": {"convert": True},
                  "phone": {"default": "unknown"}, "stage": {"map": {"lost": "closed"}}}
    old_form, new_form = compile_form(V1), compile_form(new)
    acme = upgrade(STORED.records[0], old_form, new_form, migrations)
    assert acme == {"name": "Acme", "phone": "138", "budget": Decimal("12000"),
                    "stage": "closed"}
    globex = upgrade(STORED.records[1], old_form, new_form, migrations)
    assert globex["budget"] is None  # 'abc' is no amount: blank, as the plan counted
    assert globex["phone"] == "unknown"


def test_upgrade_without_a_migration_keeps_compatible_values() -> None:
    new = v2(email={"type": "email"})
    record = upgrade(STORED.records[2], compile_form(V1), compile_form(new))
    assert record == {"name": "Initech", "stage": "qualified"}


def test_a_field_made_unique_whose_value_records_share_cannot_be_published() -> None:
    old = {"key": "c", "fields": [{"key": "phone", "type": "text"}]}
    new = {"key": "c", "fields": [{"key": "phone", "type": "text", "unique": True}]}
    shared = Records([{"phone": "1"}, {"phone": "1"}, {"phone": "2"}, {}])
    plan = plan_publish(old, new, shared, {"phone": {"default": "x"}})  # nothing answers it
    assert [(problem.code, problem.params["count"]) for problem in plan.problems] == [
        ("newly_unique", 2)]
    assert plan.impact["fields"]["phone"] == {"newly_unique": True, "sharing": 2}
    assert plan_publish(old, new, Records([{"phone": "1"}, {"phone": "2"}])).problems == []

