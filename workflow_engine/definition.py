"""Checking an approval flow definition: the meta-schema, then the graph, then each node.

`check_flow(definition, fields)` returns every problem at once, each with the path of the
node (or option) it is about — `nodes[3].approvers[0].field` — so ops staff fix a flow in
one pass. `fields` is the flow's form as {field key: field type}.

A flow is a graph of nodes joined by `next` (and by a condition's branches, a parallel
split's branches). It is refused when:

- the meta-schema is not met (unknown node types and options, missing options);
- node keys repeat, or a `next` names no node;
- there is not exactly one `start`, or no `end`;
- a node cannot be reached from `start` (`flow_unreachable`), or no `end` can be reached
  from it — a cycle without an exit (`flow_no_exit`);
- a parallel split's branches do not all lead to its `join`;
- an approval node's approvers may resolve nobody (roles, department heads, managers, a
  user field) and it says nothing about that case (`on_nobody`);
- a field it names is not a field of the form (node field permissions, `set_fields`,
  approvers from a user field);
- an expression (entry condition, branch conditions) does not compile or names an
  unknown field or function — with the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError

from form_engine.errors import Problem, join_path, json_path
from form_engine.expressions import check_expression
from form_engine.json_schema import Validator
from workflow_engine.messages import FlowProblem
from workflow_engine.nodes import (
    ACTION,
    EXPRESSION,
    KEY,
    LABEL,
    NODE_TYPES,
    PARTY,
    action_problems,
)


def _node_schema(name: str) -> dict[str, Any]:
    kind = NODE_TYPES[name]
    return {
        "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
        "then": {"properties": {"key": KEY, "type": {"const": name}, "label": LABEL,
                                **kind.options},
                 "required": ["key", "type", *kind.required_options],
                 "additionalProperties": False},
    }


META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "key": KEY,
        "label": LABEL,
        "form": KEY,
        "entry_condition": EXPRESSION,
        "nodes": {"type": "array", "minItems": 2, "maxItems": 200, "items": {
            "type": "object",
            "properties": {"key": KEY, "type": {"enum": sorted(NODE_TYPES)}},
            "required": ["key", "type"],
            "allOf": [_node_schema(name) for name in sorted(NODE_TYPES)]}},
        "on_approve": {"type": "array", "items": ACTION, "maxItems": 20},
        "on_reject": {"type": "array", "items": ACTION, "maxItems": 20},
    },
    "required": ["key", "nodes"],
    "additionalProperties": False,
    "$defs": {"party": PARTY},
}
_VALIDATOR = Validator(META_SCHEMA)


class CheckContext:
    """What node and action checks know of the form: its {key: type} fields, and how to
    check an expression against them."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = fields

    def expression_problems(self, source: str, path: str) -> Iterator[Problem]:
        for error in check_expression(source, self.fields):
            yield error.problem(path)


def schema_problems(validator: Any, definition: Any) -> list[Problem]:
    """The meta-schema's errors as problems, each once."""
    problems: list[Problem] = []
    for error in validator.iter_errors(definition):
        for problem in translate_schema_error(error):
            if problem not in problems:
                problems.append(problem)
    return problems


def translate_schema_error(error: ValidationError) -> Iterator[Problem]:
    path = json_path(error.absolute_path)
    if error.validator in ("allOf", "if", "then") and error.context:
        for sub in error.context:
            yield from translate_schema_error(sub)
        return
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        for name in instance:
            if name not in known:
                yield FlowProblem(join_path(path, name), "flow_unknown_option",
                              {"name": name, "type": instance.get("type", "")})
        return
    if error.validator == "required" and isinstance(instance, dict):
        for name in error.validator_value:
            if name not in instance:
                yield FlowProblem(join_path(path, name), "flow_missing_option", {"name": name})
        return
    if error.validator == "enum" and path.endswith(".type") and path.startswith("nodes"):
        yield FlowProblem(path, "flow_unknown_node_type",
                      {"name": instance, "known": ", ".join(sorted(NODE_TYPES))})
        return
    yield FlowProblem(path, "flow_schema", {"detail": error.message[:300]})


def _graph_problems(nodes: list[Mapping[str, Any]]) -> Iterator[Problem]:
    by_key: dict[str, int] = {}
    for index, node in enumerate(nodes):
        if node["key"] in by_key:
            yield FlowProblem(f"nodes[{index}].key", "flow_duplicate_node", {"key": node["key"]})
        else:
            by_key[node["key"]] = index
    starts = [i for i, node in enumerate(nodes) if node["type"] == "start"]
    if len(starts) != 1:
        yield FlowProblem("nodes", "flow_one_start", {"count": len(starts)})
    if not any(node["type"] == "end" for node in nodes):
        yield FlowProblem("nodes", "flow_no_end", {})
    edges: dict[str, list[str]] = {}
    for index, node in enumerate(nodes):
        outgoing = []
        for where, target in NODE_TYPES[node["type"]].targets(node):
            if target not in by_key:
                yield FlowProblem(f"nodes[{index}].{where}", "flow_unknown_node",
                              {"key": target})
            else:
                outgoing.append(target)
        edges.setdefault(node["key"], outgoing)
        for where, target in NODE_TYPES[node["type"]].references(node):
            if target not in by_key:
                yield FlowProblem(f"nodes[{index}].{where}", "flow_unknown_node",
                                  {"key": target})
    if len(starts) != 1:
        return
    reached = _reachable([nodes[starts[0]]["key"]], edges)
    exits = _can_finish(nodes, edges)
    for index, node in enumerate(nodes):
        if node["key"] not in reached:
            yield FlowProblem(f"nodes[{index}]", "flow_unreachable", {"key": node["key"]})
        elif node["key"] not in exits:
            yield FlowProblem(f"nodes[{index}]", "flow_no_exit", {"key": node["key"]})
    for index, node in enumerate(nodes):
        if node["type"] == "parallel" and node.get("join") in by_key:
            join = node["join"]
            if nodes[by_key[join]]["type"] != "join":
                yield FlowProblem(f"nodes[{index}].join", "flow_not_a_join", {"key": join})
            for branch_index, branch in enumerate(node.get("branches", [])):
                if branch in by_key and join not in _reachable([branch], edges):
                    yield FlowProblem(f"nodes[{index}].branches[{branch_index}]",
                                  "flow_branch_misses_join", {"key": branch, "join": join})
        elif node["type"] == "parallel" and "join" in node:
            yield FlowProblem(f"nodes[{index}].join", "flow_unknown_node", {"key": node["join"]})


def _reachable(starts: Iterable[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen = set(starts)
    stack = list(seen)
    while stack:
        for target in edges.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _can_finish(nodes: list[Mapping[str, Any]], edges: Mapping[str, list[str]]) -> set[str]:
    """Nodes from which some path reaches an `end`: those reached from the ends by walking
    the edges backwards."""
    incoming: dict[str, list[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            incoming.setdefault(target, []).append(source)
    return _reachable((node["key"] for node in nodes if node["type"] == "end"), incoming)


def check_flow(definition: Any, fields: Mapping[str, str]) -> list[Problem]:
    """Every problem of an approval flow for a form with these {key: type} fields."""
    problems = schema_problems(_VALIDATOR, definition)
    if problems:
        return problems
    context = CheckContext(fields)
    nodes = definition["nodes"]
    problems.extend(_graph_problems(nodes))
    if "entry_condition" in definition:
        problems.extend(context.expression_problems(definition["entry_condition"],
                                                    "entry_condition"))
    for index, node in enumerate(nodes):
        problems.extend(NODE_TYPES[node["type"]].check(node, f"nodes[{index}]", context))
    for final in ("on_approve", "on_reject"):
        problems.extend(action_problems(definition.get(final, []), final, context))
    return problems
