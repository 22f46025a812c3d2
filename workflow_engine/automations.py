"""Automation rules: a trigger, a condition, actions (DESIGN §5) — their format, their
checker, and the pure decision whether a rule fires for a change.

```json
{"key": "north_leads", "form": "lead",
 "trigger": {"on": "created"},
 "condition": "region == 'North'",
 "actions": [{"type": "assign_owner", "strategy": "round_robin", "users": [3, 4, 5]},
             {"type": "notify", "to": [{"source": "user_field", "field": "owner"}]}]}
```

Triggers on record changes: `created`, `updated` (optionally only when one of `fields`
changed — a formula or a rollup too, when it changes because related records or the date
did), `deleted`, `state_entered`, and `assigned` (the record was handed to a new owner:
transferred, or claimed from the pool). `newly_met` fires an `updated` rule only when the
change makes its condition hold (it did not before): "3 sessions left" once, not at 2, 1, 0.

Actions: `set_fields` (`values` as they are, `expressions` worked out over the record:
`{"assigned_on": "today()"}`), `assign_owner` (`round_robin` or `least_loaded` over
`users` or a `role`; `by_field`: the value of a user field), `notify`, `webhook`,
`send_email`, `create_record`, `start_approval` (`flow`), `release_to_pool`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from form_engine.errors import Problem
from form_engine.expressions import (
    EvaluationContext,
    Evaluator,
    check_expression,
)
from form_engine.json_schema import Validator
from workflow_engine.definition import CheckContext, schema_problems
from workflow_engine.engine import condition_holds
from workflow_engine.messages import FlowProblem
from workflow_engine.nodes import (
    EXPRESSION,
    KEY,
    LABEL,
    PARTY,
    action_problems,
    is_user_field,
)

TRIGGERS = ("created", "updated", "deleted", "state_entered", "assigned")
# Triggers the platform's ticker checks over time, not on a change.
SCHEDULED = ("schedule", "date_relative", "time_in_state")
ACTION = {
    "type": "object",
    "properties": {
        "type": {"enum": ["set_fields", "assign_owner", "notify", "webhook",
                          "start_approval", "release_to_pool", "send_email",
                          "create_record"]},
        "values": {"type": "object", "maxProperties": 200},
        "expressions": {"type": "object", "maxProperties": 200,          # set_fields
                        "additionalProperties": EXPRESSION},
        "strategy": {"enum": ["round_robin", "least_loaded", "by_field"]},
        "users": {"type": "array", "items": {"type": "integer", "minimum": 1},
                  "minItems": 1, "maxItems": 500},
        "role": KEY,
        "field": KEY,
        "to": {"type": "array", "items": {"$ref": "#/$defs/party"}},
        "message": LABEL,
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "flow": KEY,
        "subject": LABEL,                                    # send_email
        "body": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 20_000},
                           {"type": "object", "properties": {
                               "en": {"type": "string", "maxLength": 20_000},
                               "zh": {"type": "string", "maxLength": 20_000}},
                            "additionalProperties": False, "minProperties": 1}]},
        "to_field": KEY,                                     # send_email: an e-mail field
        "form": KEY,        # create_record: the form; its `values` are expressions
    },
    "required": ["type"],
    "additionalProperties": False,
}
META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "key": KEY, "label": LABEL, "form": KEY,
        "trigger": {"type": "object", "properties": {
            "on": {"enum": [*TRIGGERS, *SCHEDULED]},
            "fields": {"type": "array", "items": KEY, "minItems": 1, "maxItems": 50},
            "cron": {"type": "string", "minLength": 9, "maxLength": 100},   # schedule
            "field": KEY,                                   # date_relative, time_in_state
            "days": {"type": "integer", "minimum": -3650, "maximum": 3650},
            "value": {"type": ["string", "number", "boolean"]},         # time_in_state
            "newly_met": {"type": "boolean"}},                          # updated
            "required": ["on"], "additionalProperties": False},
        "condition": EXPRESSION,
        "actions": {"type": "array", "items": ACTION, "minItems": 1, "maxItems": 20},
        "enabled": {"type": "boolean"},
    },
    "required": ["key", "form", "trigger", "actions"],
    "additionalProperties": False,
    "$defs": {"party": PARTY},
}
_VALIDATOR = Validator(META_SCHEMA)


def value_types(fields: Iterable[Any]) -> dict[str, str]:
    """{key: what its value is} of a form's compiled fields: a formula's `result`, a
    rollup's (a number, or the date of a min/max over a date column), else the type."""
    from form_engine.field_types.rollup import result_of

    types = {}
    for item in fields:
        types[item.key] = (item.spec.get("result", "number") if item.type == "formula"
                           else result_of(item.spec) if item.type == "rollup" else item.type)
    return types


def check_automation(definition: Any, fields: Mapping[str, str],
                     values: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of an automation rule for a form with these {key: type} fields;
    `values` ({key: value type}, `value_types`) lets a date trigger use a formula or a
    rollup whose value is a date (else only date and date-time fields)."""
    problems = schema_problems(_VALIDATOR, definition)
    if problems:
        return problems
    for index, key in enumerate(definition["trigger"].get("fields", [])):
        if key not in fields:
            problems.append(FlowProblem(f"trigger.fields[{index}]", "flow_unknown_field",
                                        {"field": key}))
    problems.extend(_schedule_problems(definition["trigger"], fields, values or {}))
    if definition["trigger"].get("newly_met") and definition["trigger"]["on"] != "updated":
        problems.append(FlowProblem("trigger.newly_met", "flow_newly_met_updated_only", {}))
    context = CheckContext(fields)
    if "condition" in definition:
        problems.extend(context.expression_problems(definition["condition"], "condition"))
    problems.extend(action_problems(definition["actions"], "actions", context))
    problems.extend(_assignment_problems(definition["actions"], fields))
    return problems


def _schedule_problems(trigger: Mapping[str, Any], fields: Mapping[str, str],
                       values: Mapping[str, str]) -> Iterator[Problem]:
    on = trigger["on"]
    needs = {"schedule": ("cron",), "date_relative": ("field", "days"),
             "time_in_state": ("field", "value", "days"),
             "state_entered": ("field", "value")}.get(on, ())
    for name in needs:
        if name not in trigger:
            yield FlowProblem(f"trigger.{name}", "flow_missing_option", {"name": name})
    if on == "schedule" and "cron" in trigger:
        from croniter import croniter

        if not croniter.is_valid(trigger["cron"]):
            yield FlowProblem("trigger.cron", "flow_bad_cron", {"cron": trigger["cron"]})
    field = trigger.get("field")
    if field is not None and on in ("date_relative", "time_in_state", "state_entered"):
        kind = fields.get(field)
        if kind is None:
            yield FlowProblem("trigger.field", "flow_unknown_field", {"field": field})
        elif on == "date_relative" and values.get(field, kind) not in ("date", "datetime"):
            yield FlowProblem("trigger.field", "flow_not_a_date_field", {"field": field})


def _assignment_problems(actions: list[Mapping[str, Any]], fields: Mapping[str, str]
                         ) -> Iterator[Problem]:
    for index, action in enumerate(actions):
        if action["type"] == "set_fields":
            yield from _set_fields_problems(action, f"actions[{index}]", fields)
        if action["type"] == "create_record":
            if "form" not in action:
                yield FlowProblem(f"actions[{index}].form", "flow_missing_option",
                                  {"name": "form"})
            for key, source in action.get("values", {}).items():
                where = f"actions[{index}].values.{key}"
                if not isinstance(source, str):
                    yield FlowProblem(where, "flow_schema",
                                      {"detail": "an expression over this record"})
                    continue
                for error in check_expression(source, {**fields, "id": "integer"}):
                    yield error.problem(where)
        if action["type"] == "send_email":
            for name in ("subject", "body"):
                if name not in action:
                    yield FlowProblem(f"actions[{index}].{name}", "flow_missing_option",
                                      {"name": name})
            if "to" not in action and "to_field" not in action:
                yield FlowProblem(f"actions[{index}].to", "flow_missing_option",
                                  {"name": "to"})
            if "to_field" in action and fields.get(action["to_field"]) != "email":
                yield FlowProblem(f"actions[{index}].to_field", "flow_not_an_email_field",
                                  {"field": action["to_field"]})
        if action["type"] == "start_approval" and "flow" not in action:
            yield FlowProblem(f"actions[{index}].flow", "flow_missing_option",
                              {"name": "flow"})
        if action["type"] != "assign_owner":
            continue
        path, strategy = f"actions[{index}]", action.get("strategy")
        if strategy is None:
            yield FlowProblem(f"{path}.strategy", "flow_missing_option", {"name": "strategy"})
        elif strategy == "by_field":
            if not is_user_field(fields, action.get("field", "")):
                yield FlowProblem(f"{path}.field", "flow_not_a_user_field",
                                  {"field": action.get("field", "")})
        elif "users" not in action and "role" not in action:
            yield FlowProblem(f"{path}.users", "flow_missing_option", {"name": "users"})


def _set_fields_problems(action: Mapping[str, Any], path: str, fields: Mapping[str, str]
                         ) -> Iterator[Problem]:
    if "values" not in action and "expressions" not in action:
        yield FlowProblem(f"{path}.values", "flow_missing_option", {"name": "values"})
    for key, source in action.get("expressions", {}).items():
        where = f"{path}.expressions.{key}"
        if key not in fields:
            yield FlowProblem(where, "flow_unknown_field", {"field": key})
        for error in check_expression(source, {**fields, "id": "integer"}):
            yield error.problem(where)


def fires(definition: Mapping[str, Any], event: str, before: Mapping[str, Any] | None,
          after: Mapping[str, Any], now: datetime | None = None,
          evaluator: Evaluator | None = None) -> bool:
    """Whether the rule fires for this change of a record (`before` is None on create);
    pass one `evaluator` when checking many rules against one change."""
    if definition.get("enabled", True) is False:
        return False
    trigger = definition["trigger"]
    if trigger["on"] == "state_entered" and event in ("created", "updated"):
        # the field has just taken the value (on create: has it from the start)
        field, value = trigger.get("field"), trigger.get("value")
        if after.get(field) != value or (before is not None and before.get(field) == value):
            return False
        return holds(definition, None, after, now, evaluator)
    if trigger["on"] != event:
        return False
    return holds(definition, before, after, now, evaluator, event)


def holds(definition: Mapping[str, Any], before: Mapping[str, Any] | None,
          after: Mapping[str, Any], now: datetime | None = None,
          evaluator: Evaluator | None = None, event: str = "") -> bool:
    """The trigger's field filter and the rule's condition, for a record's values."""
    trigger = definition["trigger"]
    watched = trigger.get("fields")
    if event == "updated" and watched and before is not None and all(
            before.get(key) == after.get(key) for key in watched):
        return False
    condition = definition.get("condition")
    if not condition:
        return True
    evaluator = evaluator or Evaluator(EvaluationContext(lambda: now or datetime.now(UTC)))
    if trigger.get("newly_met") and before is not None and condition_holds(
            condition, before, evaluator):
        return False   # it held before this change already
    return condition_holds(condition, after, evaluator)
