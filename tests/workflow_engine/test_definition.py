"""Approval flow definitions: what ops staff design is accepted, and every mistake is named
with the path of its node, all at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from workflow_engine.definition import check_flow
from workflow_engine.nodes import NODE_TYPES

# A quote form: what the flows below read.
FIELDS = {"customer": "text", "amount": "currency", "discount": "percent",
          "sales_rep": "user", "stage": "select", "region": "text"}

# INDUSTRIES / issue 5: a discount over 10 % goes to the sales manager; an amount over
# 1 000 000 then to a director, then finance countersigns (all of them).
QUOTE_FLOW: dict[str, Any] = {
    "key": "quote_approval", "form": "quote",
    "label": {"en": "Quote approval", "zh": "报价审批"},
    "entry_condition": "discount > 10 or amount > 1000000",
    "nodes": [
        {"key": "start", "type": "start", "next": "manager"},
        {"key": "manager", "type": "approval", "label": {"en": "Sales manager", "zh": "销售经理"},
         "approvers": [{"source": "manager_chain", "levels": 1}], "mode": "any",
         "on_nobody": "admin", "self_approval": "skip", "fields": {"discount": "edit",
                                                                  "amount": "read"},
         "time_limit": {"hours": 2, "on_timeout": "escalate"}, "next": "size"},
        {"key": "size", "type": "condition",
         "branches": [{"when": "amount > 1000000", "next": "director"}], "default": "end"},
        {"key": "director", "type": "approval",
         "approvers": [{"source": "roles", "roles": ["director"]}], "mode": "veto",
         "on_nobody": "auto_reject", "reject_to": "manager", "next": "finance"},
        {"key": "finance", "type": "approval",
         "approvers": [{"source": "roles", "roles": ["finance"]}], "mode": "all",
         "on_nobody": "admin", "next": "notify"},
        {"key": "notify", "type": "cc", "recipients": [{"source": "user_field",
                                                        "field": "sales_rep"}],
         "next": "end"},
        {"key": "end", "type": "end"},
    ],
    "on_approve": [{"type": "set_fields", "values": {"stage": "approved"}}],
    "on_reject": [{"type": "notify", "to": [{"source": "submitter"}],
                   "message": {"en": "Your quote was rejected", "zh": "报价被驳回"}}],
}


def flow(**changes: Any) -> dict[str, Any]:
    definition = copy.deepcopy(QUOTE_FLOW)
    definition.update(changes)
    return definition


def codes(definition: Any) -> list[tuple[str, str]]:
    return [(problem.path, problem.code) for problem in check_flow(definition, FIELDS)]


def test_the_quote_flow_is_accepted() -> None:
    assert codes(QUOTE_FLOW) == []


def test_a_ratio_node_and_a_parallel_split_are_accepted() -> None:
    definition = flow(nodes=[
        {"key": "start", "type": "start", "next": "board"},
        {"key": "board", "type": "approval", "mode": "ratio", "ratio": 0.6,
         "approvers": [{"source": "users", "users": [1, 2, 3, 4, 5]}], "next": "split"},
        {"key": "split", "type": "parallel", "branches": ["legal", "tech"], "join": "meet"},
        {"key": "legal", "type": "handler", "approvers": [{"source": "submitter"}],
         "fields": {"region": "edit"}, "next": "meet"},
        {"key": "tech", "type": "action", "actions": [
            {"type": "set_fields", "values": {"stage": "review"}}], "next": "meet"},
        {"key": "meet", "type": "join", "next": "end"},
        {"key": "end", "type": "end"}])
    assert codes(definition) == []


def test_unknown_node_types_and_options_are_named() -> None:
    definition = flow()
    definition["nodes"][1]["approvers"][0]["level"] = 2
    definition["nodes"][2]["type"] = "switch"
    definition["nodes"][6]["colour"] = "red"
    found = codes(definition)
    assert ("nodes[1].approvers[0].level", "flow_unknown_option") in found
    assert ("nodes[2].type", "flow_unknown_node_type") in found
    assert ("nodes[6].colour", "flow_unknown_option") in found


def test_missing_options_are_named() -> None:
    definition = flow()
    del definition["nodes"][1]["approvers"]
    del definition["nodes"][2]["default"]
    found = codes(definition)
    assert ("nodes[1].approvers", "flow_missing_option") in found
    assert ("nodes[2].default", "flow_missing_option") in found


def test_unreachable_nodes_and_dangling_links() -> None:
    definition = flow()
    definition["nodes"].append({"key": "forgotten", "type": "cc", "recipients": [
        {"source": "submitter"}], "next": "end"})
    definition["nodes"][5]["next"] = "nowhere"
    found = codes(definition)
    assert ("nodes[7]", "flow_unreachable") in found
    assert ("nodes[5].next", "flow_unknown_node") in found


def test_a_loop_without_an_exit_is_refused_but_a_return_is_not() -> None:
    definition = flow()
    definition["nodes"][4]["next"] = "director"      # finance -> director -> finance ...
    found = codes(definition)
    assert ("nodes[3]", "flow_no_exit") in found and ("nodes[4]", "flow_no_exit") in found
    assert ("nodes[1]", "flow_no_exit") not in found  # manager can still end (small quotes)
    # rejecting back to an earlier node is not a loop of the graph
    assert codes(flow()) == []


def test_one_start_and_an_end_are_required() -> None:
    definition = flow()
    definition["nodes"][6]["type"] = "cc"
    definition["nodes"][6]["recipients"] = [{"source": "submitter"}]
    definition["nodes"][6]["next"] = "start"
    definition["nodes"].append({"key": "start2", "type": "start", "next": "end"})
    found = codes(definition)
    assert ("nodes", "flow_one_start") in found
    assert ("nodes", "flow_no_end") in found


def test_duplicate_node_keys() -> None:
    definition = flow()
    definition["nodes"][4]["key"] = "director"
    assert ("nodes[4].key", "flow_duplicate_node") in codes(definition)


def test_approvers_that_may_resolve_nobody_need_a_policy() -> None:
    definition = flow()
    del definition["nodes"][3]["on_nobody"]          # a role may have no members
    assert codes(definition) == [("nodes[3].on_nobody", "flow_nobody_policy")]
    certain = flow()
    certain["nodes"][3]["approvers"] = [{"source": "submitter"},
                                        {"source": "users", "users": [7]}]
    del certain["nodes"][3]["on_nobody"]
    assert codes(certain) == []


@pytest.mark.parametrize(("where", "change", "path"), [
    ("field permissions", lambda d: d["nodes"][1]["fields"].update({"margin": "edit"}),
     "nodes[1].fields.margin"),
    ("set_fields", lambda d: d["nodes"].__setitem__(5, {
        "key": "notify", "type": "action", "next": "end",
        "actions": [{"type": "set_fields", "values": {"statuss": "x"}}]}),
     "nodes[5].actions[0].values.statuss"),
    ("final actions", lambda d: d["on_approve"][0]["values"].update({"closed": True}),
     "on_approve[0].values.closed"),
])
def test_unknown_fields_are_named(where: str, change: Any, path: str) -> None:
    definition = flow()
    change(definition)
    assert codes(definition) == [(path, "flow_unknown_field")], where


def test_approvers_from_a_field_need_a_user_field() -> None:
    definition = flow()
    definition["nodes"][5]["recipients"][0]["field"] = "customer"
    assert codes(definition) == [("nodes[5].recipients[0].field", "flow_not_a_user_field")]


def test_bad_expressions_are_reported_with_their_column() -> None:
    definition = flow(entry_condition="discount > 10 and amout > 5")
    definition["nodes"][2]["branches"][0]["when"] = "amount >"
    problems = check_flow(definition, FIELDS)
    assert [(p.path, p.code) for p in problems] == [
        ("entry_condition", "unknown_name"), ("nodes[2].branches[0].when", "syntax_error")]
    assert "amout" in problems[0].message("en") and "19" in problems[0].message("en")


def test_a_parallel_branch_that_never_joins_is_refused() -> None:
    definition = flow(nodes=[
        {"key": "start", "type": "start", "next": "split"},
        {"key": "split", "type": "parallel", "branches": ["a", "b"], "join": "meet"},
        {"key": "a", "type": "handler", "approvers": [{"source": "submitter"}],
         "next": "meet"},
        {"key": "b", "type": "handler", "approvers": [{"source": "submitter"}],
         "next": "end"},
        {"key": "meet", "type": "join", "next": "end"},
        {"key": "end", "type": "end"}])
    assert codes(definition) == [("nodes[1].branches[1]", "flow_branch_misses_join")]


def test_a_return_to_a_node_that_does_not_exist() -> None:
    definition = flow()
    definition["nodes"][3]["reject_to"] = "managr"
    assert codes(definition) == [("nodes[3].reject_to", "flow_unknown_node")]


def test_every_problem_reads_in_english_and_chinese() -> None:
    definition = flow()
    del definition["nodes"][3]["on_nobody"]
    definition["nodes"][1]["fields"]["margin"] = "edit"
    definition["nodes"].append({"key": "lost", "type": "end"})
    for problem in check_flow(definition, FIELDS):
        english, chinese = problem.message("en"), problem.message("zh")
        assert english != problem.code and chinese != english
        assert "{" not in english and "{" not in chinese


def test_node_types_form_one_registry() -> None:
    assert set(NODE_TYPES) == {"start", "end", "approval", "handler", "cc", "condition",
                               "parallel", "join", "action"}


@pytest.mark.parametrize("target", ["submitter", "end", "manager"])
def test_a_rejection_may_go_to_the_submitter_the_end_or_an_earlier_node(target: str) -> None:
    definition = flow()
    definition["nodes"][3]["reject_to"] = target
    assert codes(definition) == []
