"""Automation rules decided without a database: `newly_met` fires once, when a change
makes the condition hold; `assigned` is a trigger of its own; the checker names what is
wrong with `newly_met` and with `set_fields` expressions."""

from __future__ import annotations

from decimal import Decimal

from workflow_engine.automations import check_automation, fires

RENEWAL = {"key": "renewal", "form": "enrollment",
           "trigger": {"on": "updated", "fields": ["left"], "newly_met": True},
           "condition": "left <= 3",
           "actions": [{"type": "notify", "to": [{"source": "roles", "roles": ["admin"]}]}]}
FIELDS = {"left": "number", "note": "text", "since": "date"}


def test_newly_met_fires_when_the_condition_starts_to_hold_and_not_after() -> None:
    def steps(before: int, after: int) -> bool:
        return fires(RENEWAL, "updated", {"left": Decimal(before)}, {"left": Decimal(after)})

    assert (steps(5, 4), steps(4, 3), steps(3, 2), steps(2, 0)) == (False, True, False, False)
    assert steps(6, 2)                           # a jump past the line crosses it too
    plain = {**RENEWAL, "trigger": {"on": "updated", "fields": ["left"]}}
    assert fires(plain, "updated", {"left": 3}, {"left": 2})    # without it: every time


def test_assigned_is_its_own_trigger() -> None:
    rule = {**RENEWAL, "trigger": {"on": "assigned"}, "condition": "true"}
    assert fires(rule, "assigned", {"left": 1}, {"left": 1})
    assert not fires(rule, "updated", {"left": 1}, {"left": 2})


def test_the_checker_names_a_misplaced_newly_met_and_bad_expressions() -> None:
    assert check_automation(RENEWAL, FIELDS) == []
    wrong = {**RENEWAL, "trigger": {"on": "created", "newly_met": True}, "actions": [
        {"type": "set_fields", "expressions": {"since": "today()", "ghost": "1",
                                               "note": "concat(nothing)"}},
        {"type": "set_fields"}]}
    problems = {(problem.path, problem.code) for problem in check_automation(wrong, FIELDS)}
    assert {("trigger.newly_met", "flow_newly_met_updated_only"),
            ("actions[0].expressions.ghost", "flow_unknown_field"),
            ("actions[1].values", "flow_missing_option")} <= problems
    assert any(path == "actions[0].expressions.note" for path, _ in problems)
    assert not any(path == "actions[0].expressions.since" for path, _ in problems)
