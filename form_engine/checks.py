"""Everything wrong with a form definition, at once: its structure and meaning
(`definition.structure_problems`), and whether each subtable's default lines are lines
that subtable accepts — which takes compiling the subtable and validating the lines, so it
sits here, above the compiler and the validator, not in `definition`."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from form_engine.compiler import compile_form
from form_engine.context import ValidationContext
from form_engine.definition import structure_problems
from form_engine.errors import Problem, join_path
from form_engine.field_types import TypeEnv
from form_engine.validation import validate


def check_definition(definition: Any, known_forms: Collection[str] | None = None,
                     env: TypeEnv | None = None) -> list[Problem]:
    """Every problem of `definition`; an empty list means it can be saved and compiled.

    `known_forms` (keys of the app's forms) lets lookups and related rollups be checked.
    """
    env = env or TypeEnv()
    problems = structure_problems(definition, known_forms, env)
    fields = definition.get("fields") if isinstance(definition, dict) else None
    for index, field in enumerate(fields if isinstance(fields, list) else []):
        if (isinstance(field, dict) and field.get("type") == "subtable" and "default" in field
                and isinstance(field.get("key"), str) and isinstance(field.get("fields"), list)):
            problems += _subtable_default_problems(field, f"fields[{index}]", env)
    return problems


def _subtable_default_problems(field: Mapping[str, Any], path: str, env: TypeEnv
                               ) -> Iterator[Problem]:
    """Default lines must be lines this subtable would accept."""
    rows = field["default"]
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        yield Problem(join_path(path, "default"), "bad_default",
                      {"reason": "wrong_type", "reason_params": {"expected": "list",
                                                                 "label": field["key"]}})
        return
    try:
        row_form = compile_form({"key": field["key"], "fields": field["fields"]}, env=env,
                                checked=True)
    except Exception:  # the columns themselves are broken: reported on their own
        return
    for index, row in enumerate(rows):
        for problem in validate(row_form, row, ValidationContext()).errors:
            yield Problem(join_path(path, "default"), "bad_default", {
                "reason": problem.code,
                "reason_params": {**problem.params, "label": f"[{index}].{problem.path}"}})
            return
