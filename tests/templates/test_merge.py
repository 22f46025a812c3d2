"""The three-way merge of template bundles (`templates_gallery.merge`): what each side
changed is kept, what both changed differently is a conflict until resolved."""

from __future__ import annotations

import copy
from typing import Any

from templates_gallery.merge import MISSING, merge_bundles


def _bundle(version: str = "1.0.0") -> dict[str, Any]:
    return {
        "format": 1,
        "manifest": {"key": "t", "version": version},
        "forms": [{
            "key": "deal", "label": {"en": "Deals", "zh": "商机"},
            "fields": [
                {"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}},
                {"key": "amount", "type": "currency", "currency": "CNY",
                 "label": {"en": "Amount", "zh": "金额"}},
                {"key": "stage", "type": "select", "label": {"en": "Stage", "zh": "阶段"},
                 "options": [{"value": "lead"}, {"value": "won"}]},
            ],
            "layout": [{"section": {"en": "Basics"}, "columns": 2,
                        "fields": ["name", "amount", "stage"]}],
            "rules": [{"key": "big", "error_if": "amount > 1000000",
                       "message": {"en": "Too big", "zh": "太大"}}],
        }],
        "flows": [{"key": "approval", "form": "deal", "nodes": [
            {"key": "start", "type": "start", "next": "manager"},
            {"key": "manager", "type": "approval", "next": "end"},
            {"key": "end", "type": "end"}]}],
    }


def _form(bundle: dict[str, Any]) -> dict[str, Any]:
    return bundle["forms"][0]


def test_both_sides_changes_are_kept() -> None:
    base = _bundle()
    theirs = _bundle("2.0.0")          # v2: a field, a threshold, a flow step
    _form(theirs)["fields"].append({"key": "source", "type": "text",
                                    "label": {"en": "Source", "zh": "来源"}})
    _form(theirs)["layout"][0]["fields"].append("source")
    _form(theirs)["rules"][0]["error_if"] = "amount > 2000000"
    nodes = theirs["flows"][0]["nodes"]
    nodes[1]["next"] = "director"
    nodes.insert(2, {"key": "director", "type": "approval", "next": "end"})
    mine = copy.deepcopy(base)         # the tenant: a field, a label, a message, a cc node
    _form(mine)["fields"].insert(1, {"key": "region", "type": "text",
                                     "label": {"en": "Region", "zh": "区域"}})
    _form(mine)["layout"][0]["fields"].insert(1, "region")
    _form(mine)["fields"][0]["label"]["en"] = "Deal name"
    _form(mine)["rules"][0]["message"]["en"] = "Ask the director"
    mine_nodes = mine["flows"][0]["nodes"]
    mine_nodes[0]["next"] = "copy"
    mine_nodes.insert(1, {"key": "copy", "type": "cc", "next": "manager"})

    merged = merge_bundles(base, theirs, mine)

    assert merged.conflicts == []
    form = _form(merged.bundle)
    assert [field["key"] for field in form["fields"]] == [
        "name", "region", "amount", "stage", "source"]
    assert form["fields"][0]["label"] == {"en": "Deal name", "zh": "名称"}
    assert form["layout"][0]["fields"] == ["name", "region", "amount", "stage", "source"]
    assert form["rules"] == [{"key": "big", "error_if": "amount > 2000000",
                              "message": {"en": "Ask the director", "zh": "太大"}}]
    assert merged.bundle["flows"][0]["nodes"] == [
        {"key": "start", "type": "start", "next": "copy"},
        {"key": "copy", "type": "cc", "next": "manager"},
        {"key": "manager", "type": "approval", "next": "director"},
        {"key": "director", "type": "approval", "next": "end"},
        {"key": "end", "type": "end"}]
    assert merged.bundle["manifest"]["version"] == "2.0.0"


def test_the_same_property_changed_twice_is_a_conflict_until_resolved() -> None:
    base, theirs, mine = _bundle(), _bundle("2.0.0"), _bundle()
    _form(theirs)["rules"][0]["error_if"] = "amount > 2000000"
    _form(mine)["rules"][0]["error_if"] = "amount > 500000"

    merged = merge_bundles(base, theirs, mine)

    [conflict] = merged.conflicts
    assert conflict.path == "forms/deal/rules/big/error_if"
    assert (conflict.base, conflict.mine, conflict.theirs) == (
        "amount > 1000000", "amount > 500000", "amount > 2000000")
    assert _form(merged.bundle)["rules"][0]["error_if"] == "amount > 500000"  # untouched
    assert conflict.as_dict()["theirs"] == {"value": "amount > 2000000"}

    taken = merge_bundles(base, theirs, mine, {conflict.path: "theirs"})
    assert taken.conflicts == []
    assert _form(taken.bundle)["rules"][0]["error_if"] == "amount > 2000000"
    kept = merge_bundles(base, theirs, mine, {conflict.path: "mine"})
    assert kept.conflicts == []
    assert _form(kept.bundle)["rules"][0]["error_if"] == "amount > 500000"


def test_deleted_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    base, theirs, mine = _bundle(), _bundle("2.0.0"), _bundle()
    _form(theirs)["fields"][1]["currency"] = "USD"
    del _form(mine)["fields"][1]
    _form(mine)["layout"][0]["fields"].remove("amount")

    merged = merge_bundles(base, theirs, mine)

    [conflict] = merged.conflicts
    assert conflict.path == "forms/deal/fields/amount"
    assert conflict.mine is MISSING
    assert conflict.as_dict()["mine"] == {"deleted": True}
    assert "amount" not in [field["key"] for field in _form(merged.bundle)["fields"]]
    restored = merge_bundles(base, theirs, mine, {conflict.path: "theirs"})
    assert [field["key"] for field in _form(restored.bundle)["fields"]] == [
        "name", "amount", "stage"]


def test_options_merge_by_value_and_deletions_on_either_side_stick() -> None:
    base, theirs, mine = _bundle(), _bundle("2.0.0"), _bundle()
    _form(theirs)["fields"][2]["options"].insert(1, {"value": "quote"})
    _form(mine)["fields"][2]["options"].append({"value": "lost"})
    _form(mine)["layout"][0]["fields"].remove("stage")   # mine hides it from the layout
    _form(theirs)["layout"][0]["fields"] = ["stage", "name", "amount"]   # theirs: first

    merged = merge_bundles(base, theirs, mine)

    assert merged.conflicts == []
    assert [option["value"] for option in _form(merged.bundle)["fields"][2]["options"]] == [
        "lead", "quote", "won", "lost"]
    assert _form(merged.bundle)["layout"][0]["fields"] == ["name", "amount"]


def test_a_form_only_the_tenant_added_and_one_only_the_template_added_are_both_kept() -> None:
    base, theirs, mine = _bundle(), _bundle("2.0.0"), _bundle()
    theirs["forms"].append({"key": "payment", "fields": []})
    mine["forms"].insert(0, {"key": "note", "fields": []})

    merged = merge_bundles(base, theirs, mine)

    assert [form["key"] for form in merged.bundle["forms"]] == ["note", "deal", "payment"]


def test_items_that_share_an_identity_are_merged_whole_never_taken_for_one() -> None:
    """A filter's two conditions both say value "open": told apart by nothing, so the
    list is one value — changed on both sides, a conflict, not a lost condition."""
    view = {"form": "deal", "name": {"en": "Open"}, "kind": "list",
            "filter": {"and": [{"field": "stage", "op": "eq", "value": "open"},
                               {"field": "status", "op": "eq", "value": "open"}]}}
    base = {**_bundle(), "views": [view]}
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    theirs["views"][0]["filter"]["and"][0]["op"] = "ne"
    mine["views"][0]["filter"]["and"][1]["op"] = "ne"

    merged = merge_bundles(base, theirs, mine)

    [conflict] = merged.conflicts
    assert conflict.path == "views/deal:Open/filter/and"
    assert merged.bundle["views"][0]["filter"] == mine["views"][0]["filter"]


def test_a_form_the_new_version_dropped_stays_while_the_tenant_has_it() -> None:
    base, theirs, mine = _bundle(), _bundle("2.0.0"), _bundle()
    base["forms"].append({"key": "old", "fields": []})
    mine["forms"].append({"key": "old", "fields": [{"key": "mine", "type": "text"}]})

    merged = merge_bundles(base, theirs, mine)

    assert [form["key"] for form in merged.bundle["forms"]] == ["deal", "old"]
    assert merged.conflicts == []


def test_a_long_list_keeps_mine_order_with_theirs_additions_after_their_anchors() -> None:
    """20 000 options (placing is linear: the quadratic version took minutes here)."""
    from templates_gallery.merge import _Walk

    size = 20_000
    base = [{"value": f"o{n}"} for n in range(size)]
    theirs = [{"value": "new"}, *base[: size // 2], {"value": "mid"}, *base[size // 2:]]
    mine = list(reversed(base))
    merged = _Walk({}).merge(base, theirs, mine, ("options",))
    values = [item["value"] for item in merged]
    assert values[0] == "new" and len(values) == size + 2
    assert values.index("mid") == values.index(f"o{size // 2 - 1}") + 1


def test_sections_merge_by_title_so_a_section_added_on_top_takes_no_fields() -> None:
    base = _bundle()
    theirs, mine = _bundle("2.0.0"), copy.deepcopy(base)
    # both insert a section above "Basics": theirs one for a new field, mine an empty one
    _form(theirs)["fields"].append({"key": "source", "type": "text",
                                    "label": {"en": "Source", "zh": "来源"}})
    _form(theirs)["layout"].insert(0, {"section": {"en": "Origin"}, "fields": ["source"]})
    _form(mine)["layout"].insert(0, {"section": {"en": "Notes"}, "fields": []})
    _form(mine)["layout"][1]["fields"].remove("stage")        # and mine hides a field
    merged = merge_bundles(base, theirs, mine)
    assert merged.conflicts == []
    layout = {section["section"]["en"]: section["fields"]
              for section in _form(merged.bundle)["layout"]}
    assert layout == {"Notes": [], "Origin": ["source"], "Basics": ["name", "amount"]}
