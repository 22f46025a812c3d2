"""Checking a form definition: the meta-schema first, then what a schema cannot see.

`structure_problems(definition)` returns every problem at once, each with its JSON path
(`fields[3].options[1].value`), so a designer fixes a whole form in one pass;
`form_engine.checks.check_definition` adds what needs the compiler (subtable default lines).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from functools import lru_cache
from typing import Any

from jsonschema.exceptions import ValidationError

from form_engine.errors import (
    CoercionError,
    DefinitionError,
    ExpressionError,
    Problem,
    join_path,
    json_path,
)
from form_engine.expressions import check_expression, compile_expression
from form_engine.field_types import FIELD_TYPES, FieldType, TypeEnv
from form_engine.json_schema import Validator
from form_engine.metaschema import META_SCHEMA, field_options

# The definition is checked in two parts: the form's own properties, and each field on its
# own — remembered by its content, so a builder step that changes one field of 200
# re-checks one field, not 200 (the meta-schema's per-type branches are the costly part).
_FORM_VALIDATOR = Validator({**META_SCHEMA, "properties": {
    **META_SCHEMA["properties"],
    "fields": {**META_SCHEMA["properties"]["fields"], "items": True}}})
_FIELD_VALIDATOR = Validator({"$schema": META_SCHEMA["$schema"], "$defs": META_SCHEMA["$defs"],
                              "$ref": "#/$defs/field"})
FIELD_EXPRESSIONS = ("visible_if", "required_if", "readonly_if", "default_expression")
_TITLE_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _schema_problems(definition: Any) -> list[Problem]:
    problems: list[Problem] = []
    for error in _FORM_VALIDATOR.iter_errors(definition):
        problems.extend(_translate(error))
    fields = definition.get("fields") if isinstance(definition, dict) else None
    if isinstance(fields, list):
        for index, field in enumerate(fields[:_MAX_FIELDS]):
            prefix = f"fields[{index}]"
            problems.extend(Problem(_under(prefix, problem.path), problem.code, problem.params)
                            for problem in _field_schema_problems(field))
    unique: list[Problem] = []
    for problem in problems:
        if problem not in unique:
            unique.append(problem)
    return unique


_MAX_FIELDS = META_SCHEMA["properties"]["fields"]["maxItems"]


def _under(prefix: str, path: str) -> str:
    return f"{prefix}{path}" if path.startswith("[") else join_path(prefix, path)


def _field_schema_problems(field: Any) -> tuple[Problem, ...]:
    try:  # plain JSON (no decimals): remembered by its text
        text = json.dumps(field, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return _checked_field(field)
    return _checked_field_text(text)


@lru_cache(maxsize=8192)
def _checked_field_text(text: str) -> tuple[Problem, ...]:
    return _checked_field(json.loads(text))


def _checked_field(field: Any) -> tuple[Problem, ...]:
    return tuple(problem for error in _FIELD_VALIDATOR.iter_errors(field)
                 for problem in _translate(error))


def _translate(error: ValidationError) -> Iterator[Problem]:
    """jsonschema's errors, as problems that name the field, type or option."""
    path = json_path(error.absolute_path)
    instance = error.instance
    if error.validator == "allOf" or (error.validator in ("if", "then") and error.context):
        for sub in error.context or []:
            yield from _translate(sub)
        return
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        kind = instance.get("type") if "type" in known and "key" in known else None
        for name in instance:
            if name not in known:
                if kind is not None:
                    yield Problem(join_path(path, name), "unknown_option",
                                  {"type": kind, "name": name})
                else:
                    yield Problem(join_path(path, name), "unknown_property", {"name": name})
        return
    if error.validator == "required" and isinstance(instance, dict):
        for name in error.validator_value:
            if name not in instance:
                yield Problem(join_path(path, name), "missing", {"name": name})
        return
    if error.validator == "enum" and (path.endswith(".type") or path == "type"):
        yield Problem(path, "unknown_type",
                      {"name": instance, "known": ", ".join(sorted(FIELD_TYPES))})
        return
    yield Problem(path, "schema", {"detail": error.message[:300]})


def _fields_in(fields: list[Mapping[str, Any]], path: str
               ) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for index, field in enumerate(fields):
        yield f"{path}[{index}]", field


def _expression_problems(source: str, known: Collection[str], path: str) -> Iterator[Problem]:
    for error in check_expression(source, known):
        yield error.problem(path)


def _field_problems(field: Mapping[str, Any], path: str, known: Collection[str],
                    kind: FieldType, env: TypeEnv) -> Iterator[Problem]:
    for problem in kind.check(field):
        yield Problem(join_path(path, problem.path), problem.code, problem.params)
    for option in FIELD_EXPRESSIONS:
        if option in field:
            yield from _expression_problems(field[option], known, join_path(path, option))
    if field["type"] == "formula":
        yield from _expression_problems(field["expression"], known, join_path(path, "expression"))
    if "default" in field and kind.kind == "value" and field["type"] != "subtable":
        try:
            kind.coercer(field, False, env)(field["default"])
        except CoercionError as error:
            yield Problem(join_path(path, "default"), "bad_default",
                          {"reason": error.code, "reason_params": {
                              **error.params, "label": field.get("label", field["key"])}})


def _duplicate_keys(fields: list[Mapping[str, Any]], path: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for field_path, field in _fields_in(fields, path):
        if not isinstance(field.get("key"), str):
            continue
        if field["key"] in seen:
            yield Problem(join_path(field_path, "key"), "duplicate_key", {"key": field["key"]})
        seen.add(field["key"])


def _names_read(source: str) -> list[str]:
    try:
        return list(compile_expression(source).names)
    except ExpressionError:
        return []  # reported where the expression is checked


def _formula_cycles(fields: list[Mapping[str, Any]], path: str, broken: Collection[int] = ()
                    ) -> Iterator[Problem]:
    formulas = {f["key"]: f for index, f in enumerate(fields)
                if index not in broken and f["type"] == "formula"}
    graph = {key: [name for name in _names_read(f["expression"]) if name in formulas]
             for key, f in formulas.items()}
    position = {f.get("key"): index for index, f in enumerate(fields) if isinstance(f, dict)}
    state: dict[str, int] = {}

    def visit(key: str, trail: list[str]) -> list[str] | None:
        state[key] = 1
        for dependency in graph[key]:
            if state.get(dependency) == 1:
                return [*trail, key, dependency]
            if dependency not in state:
                cycle = visit(dependency, [*trail, key])
                if cycle:
                    return cycle
        state[key] = 2
        return None

    for key in graph:
        if key not in state:
            cycle = visit(key, [])
            if cycle:
                start = cycle.index(cycle[-1])
                where = f"{path}[{position[cycle[start]]}].expression"
                yield Problem(where, "formula_cycle", {"cycle": " → ".join(cycle[start:])})
                return


def _semantic_problems(definition: Mapping[str, Any], known_forms: Collection[str] | None,
                       env: TypeEnv, broken: Collection[int] = (),
                       skip_sections: Collection[str] = ()) -> Iterator[Problem]:
    """Checks of meaning; fields at `broken` indices (malformed) and `skip_sections` are
    passed over, so shape and meaning problems come back together in one pass."""
    fields = definition["fields"]
    by_key = {field["key"]: field for index, field in enumerate(fields) if index not in broken}
    # Names an expression may read: fields that hold a value (not sections or notes); a
    # malformed field's key still counts, so it is not also reported as unknown.
    top_keys = {key for key, field in by_key.items()
                if FIELD_TYPES[field["type"]].kind != "layout"}
    top_keys |= {field.get("key") for index, field in enumerate(fields) if index in broken
                 and isinstance(field, dict) and isinstance(field.get("key"), str)}
    yield from _duplicate_keys([field if isinstance(field, dict) else {} for field in fields],
                               "fields")
    for index, (path, field) in enumerate(_fields_in(fields, "fields")):
        if index in broken:
            continue
        kind = FIELD_TYPES[field["type"]]
        yield from _field_problems(field, path, top_keys, kind, env)
        if field["type"] == "subtable":
            rows = field["fields"]
            yield from _duplicate_keys(rows, join_path(path, "fields"))
            row_keys = top_keys | {row["key"] for row in rows
                                   if FIELD_TYPES[row["type"]].kind != "layout"}
            for row_path, row_field in _fields_in(rows, join_path(path, "fields")):
                row_kind = FIELD_TYPES[row_field["type"]]
                if not row_kind.in_subtable:
                    yield Problem(join_path(row_path, "type"), "nested_subtable",
                                  {"type": row_field["type"]})
                    continue
                yield from _field_problems(row_field, row_path, row_keys, row_kind, env)
                if row_field["type"] == "lookup" and known_forms is not None and (
                        row_field["form"] not in known_forms):
                    yield Problem(join_path(row_path, "form"), "unknown_form_ref",
                                  {"name": row_field["form"]})
            yield from _formula_cycles(rows, join_path(path, "fields"))
        if field["type"] == "rollup":
            yield from _rollup_problems(field, path, by_key, known_forms)
        if field["type"] == "lookup" and known_forms is not None and (
                field["form"] not in known_forms):
            yield Problem(join_path(path, "form"), "unknown_form_ref", {"name": field["form"]})
    yield from _formula_cycles(fields, "fields", broken)
    for index, rule in enumerate([] if "rules" in skip_sections else definition.get("rules", [])):
        yield from _expression_problems(rule["error_if"], top_keys, f"rules[{index}].error_if")
        if "field" in rule and rule["field"] not in top_keys:
            yield Problem(f"rules[{index}].field", "unknown_field_ref", {"name": rule["field"]})
    if "layout" not in skip_sections:
        yield from _layout_problems(definition, set(by_key) | top_keys)
    title = "" if "title" in skip_sections else definition.get("title", "")
    for match in _TITLE_PLACEHOLDER.finditer(title):
        if match.group(1) not in top_keys:
            yield Problem("title", "bad_title", {"name": match.group(1)})
    for index, keys in enumerate([] if "dedup" in skip_sections else definition.get("dedup", [])):
        for position, key in enumerate(keys):
            if key in top_keys and key not in by_key:
                continue  # a malformed field: reported already
            if key not in top_keys or FIELD_TYPES[by_key[key]["type"]].kind != "value" or (
                    by_key[key]["type"] == "subtable"):
                yield Problem(f"dedup[{index}][{position}]", "unknown_field_ref", {"name": key})


def _rollup_problems(field: Mapping[str, Any], path: str, by_key: Mapping[str, Any],
                     known_forms: Collection[str] | None) -> Iterator[Problem]:
    result = field.get("result", "number")
    if result != "number" and field["function"] not in ("min", "max"):
        # a total or an average of days is no day: only the earliest or the latest is
        yield Problem(join_path(path, "function"), "rollup_of_dates",
                      {"function": field["function"], "name": field.get("column", "")})
    if "related" in field:
        form = field["related"]["form"]
        if known_forms is not None and form not in known_forms:
            yield Problem(join_path(path, "related.form"), "unknown_form_ref", {"name": form})
        if field["function"] != "count" and "column" not in field:
            yield Problem(join_path(path, "column"), "missing", {"name": "column"})
        return
    source = by_key.get(field.get("subtable", ""))
    if source is None or source["type"] != "subtable":
        yield Problem(join_path(path, "subtable"), "not_a_subtable",
                      {"name": field.get("subtable", "")})
        return
    column = field.get("column")
    if column is None and field["function"] == "count":
        return
    columns = {row["key"]: row["type"] for row in source["fields"]}
    if column not in columns:
        yield Problem(join_path(path, "column"), "not_a_subtable_column",
                      {"name": column, "subtable": source["key"]})
    elif columns[column] in ("date", "datetime") and field["function"] in ("sum", "avg"):
        yield Problem(join_path(path, "function"), "rollup_of_dates",
                      {"function": field["function"], "name": column})
    elif columns[column] in ("date", "datetime") and field["function"] in ("min", "max") and (
            result != columns[column]):
        yield Problem(join_path(path, "result"), "rollup_result_is_date",
                      {"name": column, "type": columns[column]})
    elif columns[column] not in ("date", "datetime") and result != "number" and (
            field["function"] != "count"):
        yield Problem(join_path(path, "result"), "rollup_result_not_date",
                      {"name": column, "type": result})


def _layout_problems(definition: Mapping[str, Any], keys: set[str]) -> Iterator[Problem]:
    placed: set[str] = set()
    for index, block in enumerate(definition.get("layout", [])):
        for position, key in enumerate(block["fields"]):
            path = f"layout[{index}].fields[{position}]"
            if key not in keys:
                yield Problem(path, "unknown_layout_field", {"name": key})
            elif key in placed:
                yield Problem(path, "layout_repeats", {"name": key})
            placed.add(key)


def structure_problems(definition: Any, known_forms: Collection[str] | None = None,
                       env: TypeEnv | None = None) -> list[Problem]:
    """Every problem of `definition` but its subtables' default lines (`checks` adds those,
    which need the compiler and the validator); none means it can be compiled.

    `known_forms` (keys of the app's forms) lets lookups and related rollups be checked.
    """
    problems = _schema_problems(definition)
    if not problems:
        return list(_semantic_problems(definition, known_forms, env or TypeEnv()))
    if not isinstance(definition, dict) or not isinstance(definition.get("fields"), list) or (
            any(problem.path in ("", "fields") for problem in problems)):
        return problems
    broken = {int(match.group(1)) for problem in problems
              if (match := re.match(r"fields\[(\d+)\]", problem.path))}
    sections = {re.split(r"[.\[]", problem.path)[0] for problem in problems}
    return problems + list(_semantic_problems(definition, known_forms, env or TypeEnv(),
                                              broken, sections))


def require_valid(definition: Any, known_forms: Collection[str] | None = None,
                  env: TypeEnv | None = None) -> Mapping[str, Any]:
    problems = structure_problems(definition, known_forms, env)
    if problems:
        raise DefinitionError(problems)
    return definition


def options_of(type_name: str) -> dict[str, Any]:
    """Every option a field of `type_name` accepts (for builders and docs)."""
    return field_options(FIELD_TYPES[type_name])
