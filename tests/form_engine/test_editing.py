"""The form builder's edits of a definition: each a pure function, each result a valid
form (checked as any definition is), each refusal named."""

from __future__ import annotations

import copy

import pytest

from form_engine import editing
from form_engine.checks import check_definition
from form_engine.field_types import FIELD_TYPES

START = {"key": "customer", "label": {"en": "Customers", "zh": "客户"}, "title": "{name}",
         "dedup": [["name"]],
         "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}},
                    {"key": "level", "type": "select", "options": [{"value": "a"}]}]}


def keys(definition):
    return [block["fields"] for block in definition["layout"]]


@pytest.mark.parametrize("type_name", sorted(FIELD_TYPES))
def test_a_field_of_every_type_is_added_ready_to_save(type_name):
    before = copy.deepcopy(START)
    with_table, _ = editing.add_field(START, "subtable")
    after, key = editing.add_field(with_table, type_name, after="name", forms=["contact"])
    assert before == START                               # the input is never changed
    assert check_definition(after, known_forms={"customer", "contact"}) == []
    assert keys(after)[0][:2] == ["name", key]           # placed after the chosen field
    assert [item["key"] for item in after["fields"]] == keys(after)[0]


def test_a_lookup_without_another_form_and_a_rollup_without_a_subtable_are_named():
    with pytest.raises(editing.EditRefused) as lookup:
        editing.add_field(START, "lookup")
    assert lookup.value.code == "no_form_to_look_up"
    with pytest.raises(editing.EditRefused) as rollup:
        editing.add_field(START, "rollup")
    assert rollup.value.code == "no_subtable_to_roll_up"


def test_keys_come_from_the_label_and_never_clash():
    first, key = editing.add_field(START, "text", label={"en": "Name"})
    assert key == "name_2"
    _, chinese = editing.add_field(first, "phone", label={"zh": "电话"})
    assert chinese == "phone"


def test_moving_within_and_across_sections_keeps_fields_in_layout_order():
    two = editing.add_section(START)
    moved = editing.move_field(two, "name", 1, 0)
    assert keys(moved) == [["level"], ["name"]]
    assert [item["key"] for item in moved["fields"]] == ["level", "name"]
    down = editing.step_field(START, "name", +1)            # the keyboard's drag
    assert keys(down) == [["level", "name"]]
    across = editing.step_field(editing.add_section(down), "name", +1)
    assert keys(across) == [["level"], ["name"]]
    assert editing.step_field(across, "name", +1) == across   # nowhere further


def test_renaming_a_key_follows_into_layout_title_and_dedup():
    renamed = editing.set_option(START, "name", "key", "company")
    assert keys(renamed) == [["company", "level"]]
    assert renamed["title"] == "{company}" and renamed["dedup"] == [["company"]]
    for bad, code in (("Company", "bad_key"), ("level", "key_taken")):
        with pytest.raises(editing.EditRefused) as refused:
            editing.set_option(START, "name", "key", bad)
        assert refused.value.code == code


def test_options_are_set_and_removed_and_the_type_stays():
    required = editing.set_option(START, "name", "required", True)
    assert required["fields"][0]["required"] is True
    assert "required" not in editing.set_option(required, "name", "required", None)["fields"][0]
    with pytest.raises(editing.EditRefused):
        editing.set_option(START, "name", "type", "number")


def test_sections_get_labels_columns_and_give_their_fields_back_when_removed():
    two = editing.set_section(editing.add_section(START), 1, label={"en": "More", "zh": ""},
                              columns=3)
    assert two["layout"][1]["section"] == {"en": "More"} and two["layout"][1]["columns"] == 3
    with pytest.raises(editing.EditRefused):
        editing.set_section(two, 1, columns=5)
    moved = editing.move_field(two, "level", 1, 0)
    assert keys(editing.remove_section(moved, 1)) == [["name", "level"]]
    assert keys(editing.move_section(moved, 1, -1)) == [["level"], ["name"]]
    with pytest.raises(editing.EditRefused) as last:
        editing.remove_section(START, 0)
    assert last.value.code == "last_section"


def test_removing_a_field_a_formula_uses_is_caught_by_the_check():
    with_formula = editing.set_option(editing.add_field(START, "formula")[0], "formula",
                                      "expression", "len(name)")
    gone = editing.remove_field(with_formula, "name")
    assert "name" not in keys(gone)[0]
    assert check_definition(gone)      # named by the definition check, not saved
