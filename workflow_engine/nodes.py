"""The node types of an approval flow: one registry, one contract (like the field types).

A node type declares:

- `options`: JSON Schema properties of the options it adds to `key`, `type`, `label`;
  anything else in a node of this type is an unknown option;
- `required_options`;
- `targets(node)`: the nodes it may pass control to, each with the path it is named at
  (`next`, `branches[1].next`) — the validator follows them to find unreachable nodes
  and nodes without a way to the end;
- `check(node, path, context)`: problems a schema cannot see (expressions, fields).

Register a new type by subclassing `NodeType` and adding it to `NODE_TYPES`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Protocol

from form_engine.errors import Problem
from form_engine.field_types import FIELD_TYPES
from workflow_engine.messages import FlowProblem

KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
LABEL = {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 200},
                   {"type": "object", "properties": {
                       "en": {"type": "string", "maxLength": 200},
                       "zh": {"type": "string", "maxLength": 200}},
                    "additionalProperties": False, "minProperties": 1}]}
EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 2000}
ACTION = {
    "type": "object",
    "properties": {
        "type": {"enum": ["set_fields", "notify", "webhook", "create_record"]},
        "values": {"type": "object", "maxProperties": 200},        # set_fields
        "to": {"type": "array", "items": {"$ref": "#/$defs/party"}},  # notify
        "message": LABEL,
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},  # webhook
        "form": KEY, "data": {"type": "object"},                      # create_record
    },
    "required": ["type"],
    "additionalProperties": False,
}
# Who: approvers, handlers, people copied.
PARTY = {
    "type": "object",
    "properties": {
        "source": {"enum": ["users", "roles", "department_head", "manager_chain",
                            "user_field", "submitter"]},
        "users": {"type": "array", "items": {"type": "integer", "minimum": 1},
                  "minItems": 1, "maxItems": 200},
        "roles": {"type": "array", "items": KEY, "minItems": 1, "maxItems": 50},
        "levels": {"type": "integer", "minimum": 1, "maximum": 10},
        "field": KEY,
    },
    "required": ["source"],
    "additionalProperties": False,
}
# Sources that name someone for sure: the submitter, and users listed by id. The others
# (roles, heads, managers, a user field) may resolve nobody at run time.
CERTAIN_SOURCES = frozenset({"submitter", "users"})


class Context(Protocol):
    """What a node's own check needs to know about the flow and its form."""

    fields: Mapping[str, str]     # form field key -> field type

    def expression_problems(self, source: str, path: str) -> Iterator[Problem]: ...


class NodeType:
    name: ClassVar[str]
    options: ClassVar[dict[str, Any]] = {}
    required_options: ClassVar[tuple[str, ...]] = ()

    def targets(self, node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """(path, node key) of every node this one may continue to."""
        if isinstance(node.get("next"), str):
            yield "next", node["next"]

    def check(self, node: Mapping[str, Any], path: str, context: Context
              ) -> Iterator[Problem]:
        return iter(())

    def references(self, node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """(path, node key) of nodes it names without passing control to them (the node
        a rejection returns to)."""
        return iter(())


# User fields every record has besides its form's own: whom a party `{"source":
# "user_field", "field": "owner"}` may name (a form field of the same key comes first).
RECORD_PEOPLE = ("owner", "created_by", "updated_by")


def is_user_field(fields: Mapping[str, str], key: Any) -> bool:
    """Whether `key` names a user: a user field of the form, or the record's owner,
    creator or last updater."""
    return fields.get(key) == "user" or (key in RECORD_PEOPLE and key not in fields)


def _party_problems(parties: list[Any], path: str, context: Context) -> Iterator[Problem]:
    for index, party in enumerate(parties):
        if party.get("source") == "user_field":
            field = party.get("field")
            where = f"{path}[{index}].field"
            if field is None:
                yield FlowProblem(where, "flow_missing_option", {"name": "field"})
            elif not is_user_field(context.fields, field):
                yield FlowProblem(where, "flow_not_a_user_field", {"field": field})
        needs = {"users": "users", "roles": "roles"}.get(party.get("source", ""))
        if needs and needs not in party:
            yield FlowProblem(f"{path}[{index}].{needs}", "flow_missing_option", {"name": needs})


def action_problems(actions: list[Any], path: str, context: Context) -> Iterator[Problem]:
    for index, action in enumerate(actions):
        if isinstance(action.get("to"), list):       # notify, send_email: their recipients
            yield from _party_problems(action["to"], f"{path}[{index}].to", context)
        if action.get("type") == "set_fields":
            for key in action.get("values", {}):
                if key not in context.fields:
                    yield FlowProblem(f"{path}[{index}].values.{key}", "flow_unknown_field",
                                  {"field": key})


class Start(NodeType):
    name = "start"
    options: ClassVar[dict[str, Any]] = {"next": KEY}
    required_options = ("next",)


class End(NodeType):
    name = "end"


class Approval(NodeType):
    """Approvers (in order, for `sequential`), how their votes decide, what they may edit,
    how long they have."""

    name = "approval"
    options: ClassVar[dict[str, Any]] = {
        "next": KEY,
        "approvers": {"type": "array", "items": {"$ref": "#/$defs/party"}, "minItems": 1,
                      "maxItems": 50},
        "mode": {"enum": ["sequential", "all", "any", "ratio", "veto"]},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "on_nobody": {"enum": ["skip", "auto_approve", "auto_reject", "admin"]},
        "self_approval": {"enum": ["allow", "skip", "forbid"]},
        "skip_repeat": {"type": "boolean"},
        "fields": {"type": "object", "additionalProperties": {"enum": ["edit", "read",
                                                                         "hidden"]}},
        "time_limit": {
            "type": "object",
            "properties": {"hours": {"type": "number", "exclusiveMinimum": 0,
                                     "maximum": 8760},
                           "on_timeout": {"enum": ["remind", "auto_approve", "auto_reject",
                                                   "escalate"]}},
            "required": ["hours", "on_timeout"], "additionalProperties": False},
        "reject_to": {"anyOf": [{"enum": ["submitter", "end"]}, KEY]},
        "required": {"type": "array", "items": KEY, "maxItems": 200, "uniqueItems": True},
    }
    required_options = ("next", "approvers")

    def references(self, node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        target = node.get("reject_to")
        if isinstance(target, str) and target not in ("submitter", "end"):
            yield "reject_to", target

    def check(self, node: Mapping[str, Any], path: str, context: Context
              ) -> Iterator[Problem]:
        approvers = node.get("approvers", [])
        yield from _party_problems(approvers, f"{path}.approvers", context)
        if node.get("mode") == "ratio" and "ratio" not in node:
            yield FlowProblem(f"{path}.ratio", "flow_missing_option", {"name": "ratio"})
        if "on_nobody" not in node and any(
                party.get("source") not in CERTAIN_SOURCES for party in approvers):
            yield FlowProblem(f"{path}.on_nobody", "flow_nobody_policy", {"node": node["key"]})
        for key, access in node.get("fields", {}).items():
            if key not in context.fields:
                yield FlowProblem(f"{path}.fields.{key}", "flow_unknown_field", {"field": key})
            elif access == "edit" and not _fillable(context.fields[key]):
                yield FlowProblem(f"{path}.fields.{key}", "flow_field_not_fillable",
                                  {"field": key})
        for index, key in enumerate(node.get("required", [])):
            if key not in context.fields:
                yield FlowProblem(f"{path}.required[{index}]", "flow_unknown_field",
                                  {"field": key})
            elif not _fillable(context.fields[key]):
                yield FlowProblem(f"{path}.required[{index}]", "flow_field_not_fillable",
                                  {"field": key})
            elif node.get("fields", {}).get(key, "edit") != "edit":
                yield FlowProblem(f"{path}.required[{index}]", "flow_required_not_editable",
                                  {"field": key, "access": node["fields"][key]})


def _fillable(field_type: str) -> bool:
    """Whether someone can fill in a field of this type (not a formula, a rollup, an
    autonumber, a section heading or a note)."""
    kind = FIELD_TYPES.get(field_type)
    return kind is None or kind.kind == "value"


class Handler(Approval):
    """Someone must act — fill in fields, do the work — before the flow goes on; no vote.
    Its tasks are completed (any one handler, or each of them with `all` / `sequential`),
    or returned; never approved or rejected, so a handler has no ratio, veto or reject_to,
    and a time limit can only remind or escalate."""

    name = "handler"
    options: ClassVar[dict[str, Any]] = {
        **{key: value for key, value in Approval.options.items()
           if key not in ("ratio", "reject_to")},
        "mode": {"enum": ["any", "all", "sequential"]},
        "time_limit": {**Approval.options["time_limit"], "properties": {
            **Approval.options["time_limit"]["properties"],
            "on_timeout": {"enum": ["remind", "escalate"]}}},
    }


class CarbonCopy(NodeType):
    name = "cc"
    options: ClassVar[dict[str, Any]] = {
        "next": KEY,
        "recipients": {"type": "array", "items": {"$ref": "#/$defs/party"}, "minItems": 1,
                       "maxItems": 50}}
    required_options = ("next", "recipients")

    def check(self, node: Mapping[str, Any], path: str, context: Context
              ) -> Iterator[Problem]:
        return _party_problems(node.get("recipients", []), f"{path}.recipients", context)


class Condition(NodeType):
    """Exclusive branches: the first whose `when` holds, else `default`."""

    name = "condition"
    options: ClassVar[dict[str, Any]] = {
        "branches": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
            "type": "object", "properties": {"when": EXPRESSION, "next": KEY,
                                             "label": LABEL},
            "required": ["when", "next"], "additionalProperties": False}},
        "default": KEY,
    }
    required_options = ("branches", "default")

    def targets(self, node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        for index, branch in enumerate(node.get("branches", [])):
            if isinstance(branch, Mapping) and isinstance(branch.get("next"), str):
                yield f"branches[{index}].next", branch["next"]
        if isinstance(node.get("default"), str):
            yield "default", node["default"]

    def check(self, node: Mapping[str, Any], path: str, context: Context
              ) -> Iterator[Problem]:
        for index, branch in enumerate(node.get("branches", [])):
            yield from context.expression_problems(branch["when"],
                                                   f"{path}.branches[{index}].when")


class Parallel(NodeType):
    """Every branch runs; they meet again at `join` (a `join` node)."""

    name = "parallel"
    options: ClassVar[dict[str, Any]] = {
        "branches": {"type": "array", "items": KEY, "minItems": 2, "maxItems": 20},
        "join": KEY,
    }
    required_options = ("branches", "join")

    def targets(self, node: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        for index, target in enumerate(node.get("branches", [])):
            if isinstance(target, str):
                yield f"branches[{index}]", target


class Join(NodeType):
    name = "join"
    options: ClassVar[dict[str, Any]] = {"next": KEY}
    required_options = ("next",)


class Action(NodeType):
    name = "action"
    options: ClassVar[dict[str, Any]] = {
        "next": KEY,
        "actions": {"type": "array", "items": ACTION, "minItems": 1, "maxItems": 20}}
    required_options = ("next", "actions")

    def check(self, node: Mapping[str, Any], path: str, context: Context
              ) -> Iterator[Problem]:
        return action_problems(node.get("actions", []), f"{path}.actions", context)


NODE_TYPES: dict[str, NodeType] = {kind.name: kind() for kind in (
    Start, End, Approval, Handler, CarbonCopy, Condition, Parallel, Join, Action)}
