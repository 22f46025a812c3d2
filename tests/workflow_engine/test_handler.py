"""Handler steps (办理) and what each task's assignee may see and change.

A manufacturing order, after the sales manager approves it, goes to the planners: one of
them (any) or each of them (all) fills in the promised delivery date and completes the
step. Nobody votes there: a handler completes or returns, never approves or rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.workflow_engine.test_engine import ANN, FEI, FU, MAX, Instance
from workflow_engine.definition import check_flow
from workflow_engine.engine import FlowError, field_access

FIELDS = {"amount": "currency", "discount": "percent", "sales_rep": "user",
          "stage": "select"}
ORDER: dict[str, Any] = {
    "key": "order", "form": "order",
    "nodes": [
        {"key": "start", "type": "start", "next": "manager"},
        {"key": "manager", "type": "approval", "on_nobody": "admin",
         "approvers": [{"source": "manager_chain", "levels": 1}],
         "fields": {"discount": "edit", "amount": "hidden"}, "next": "planning"},
        {"key": "planning", "type": "handler", "on_nobody": "admin",
         "approvers": [{"source": "roles", "roles": ["finance"]}],
         "required": ["stage"], "fields": {"discount": "read"}, "next": "end"},
        {"key": "end", "type": "end"},
    ],
}


def order(**planning: Any) -> dict[str, Any]:
    definition = copy.deepcopy(ORDER)
    definition["nodes"][2].update(planning)
    return definition


def at_planning(definition: dict[str, Any], record: dict[str, Any] | None = None
                ) -> Instance:
    trip = Instance(definition, record if record is not None else {"amount": 10})
    trip.do(ANN, "submit")
    trip.approve(MAX)
    return trip


def test_any_planner_completes_the_step_by_filling_in_what_it_requires() -> None:
    trip = at_planning(ORDER)
    assert trip.inbox(FEI) and trip.inbox(FU)
    (task,) = trip.inbox(FEI)
    with pytest.raises(FlowError) as missing:
        trip.do(FEI, "complete", task=task)
    assert missing.value.code == "flow_fields_required"
    assert missing.value.params == {"names": "stage"}
    effects = trip.do(FEI, "complete", task=task, fields={"stage": "planned"},
                      comment="week 49")
    assert {"type": "set_fields", "node": "planning", "values": {"stage": "planned"}} in (
        effects)
    assert trip.status == "approved" and not trip.inbox(FU)
    assert trip.actions()[-2:] == ["complete", "approved"]


def test_spaces_do_not_fill_in_a_required_field() -> None:
    trip = at_planning(ORDER)
    (task,) = trip.inbox(FEI)
    with pytest.raises(FlowError) as missing:
        trip.do(FEI, "complete", task=task, fields={"stage": "   "})
    assert missing.value.code == "flow_fields_required"


def test_a_value_already_on_the_record_satisfies_the_requirement() -> None:
    trip = at_planning(ORDER, {"amount": 10, "stage": "planned"})
    (task,) = trip.inbox(FU)
    trip.do(FU, "complete", task=task)
    assert trip.status == "approved"


def test_with_mode_all_every_planner_completes() -> None:
    trip = at_planning(order(mode="all"), {"amount": 10, "stage": "planned"})
    (first,) = trip.inbox(FEI)
    trip.do(FEI, "complete", task=first)
    assert trip.status == "running" and trip.inbox(FU)
    (second,) = trip.inbox(FU)
    trip.do(FU, "complete", task=second)
    assert trip.status == "approved"


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_handler_does_not_vote(action: str) -> None:
    trip = at_planning(ORDER)
    (task,) = trip.inbox(FEI)
    before = copy.deepcopy(trip.state)
    with pytest.raises(FlowError) as refused:
        trip.do(FEI, action, task=task)
    assert refused.value.code == "flow_wrong_action"
    assert trip.state == before


def test_an_approver_does_not_complete() -> None:
    trip = Instance(ORDER, {"amount": 10})
    trip.do(ANN, "submit")
    (task,) = trip.inbox(MAX)
    with pytest.raises(FlowError) as refused:
        trip.do(MAX, "complete", task=task)
    assert refused.value.code == "flow_wrong_action"


def test_a_handler_may_return_the_order_to_the_manager() -> None:
    trip = at_planning(ORDER)
    (task,) = trip.inbox(FEI)
    trip.do(FEI, "return", task=task, node="manager", comment="discount too high")
    assert trip.inbox(MAX) and not trip.inbox(FEI) and not trip.inbox(FU)


def test_only_the_fields_a_handler_may_edit_change() -> None:
    trip = at_planning(ORDER)
    (task,) = trip.inbox(FEI)
    with pytest.raises(FlowError) as refused:
        trip.do(FEI, "complete", task=task, fields={"stage": "planned", "discount": 1})
    assert refused.value.code == "flow_field_not_editable"
    assert refused.value.params == {"names": "discount"}


def test_each_assignee_sees_the_fields_the_node_shows() -> None:
    fields = ["amount", "discount", "stage", "margin"]
    inputs = {"amount", "discount", "stage"}
    manager = ORDER["nodes"][1]
    assert field_access(manager, fields, inputs) == {
        "discount": "edit", "stage": "read", "margin": "read"}
    # A field the role hides stays hidden unless the node names it.
    assert field_access(manager, fields, inputs, hidden={"stage", "discount"}) == {
        "discount": "edit", "margin": "read"}
    # Required fields are editable; computed ones never are.
    planning = {**ORDER["nodes"][2], "fields": {"margin": "edit"}}
    assert field_access(planning, fields, inputs) == {
        "amount": "read", "discount": "read", "stage": "edit", "margin": "read"}


def test_the_checker_names_what_a_handler_cannot_have() -> None:
    votes = [(p.path, p.code) for p in check_flow(order(mode="ratio", ratio=0.5), FIELDS)]
    assert votes == [("nodes[2].mode", "flow_schema"), ("nodes[2].ratio", "flow_unknown_option")]
    fields = [(p.path, p.code) for p in check_flow(order(
        required=["stage", "colour", "discount"]), FIELDS)]
    assert fields == [("nodes[2].required[1]", "flow_unknown_field"),
                      ("nodes[2].required[2]", "flow_required_not_editable")]
    computed = [(p.path, p.code) for p in check_flow(order(
        required=["margin"], fields={"total": "edit"}), {**FIELDS, "margin": "formula",
                                                         "total": "rollup"})]
    assert computed == [("nodes[2].fields.total", "flow_field_not_fillable"),
                        ("nodes[2].required[0]", "flow_field_not_fillable")]
    timeouts = check_flow(order(time_limit={"hours": 4, "on_timeout": "auto_approve"}),
                          FIELDS)
    assert [p.path for p in timeouts] == ["nodes[2].time_limit.on_timeout"]
    assert check_flow(ORDER, FIELDS) == []
