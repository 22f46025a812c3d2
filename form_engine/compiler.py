"""Compiling a checked definition into a `CompiledForm`: every field's coercers, conditions
and computations are prepared once, so validating a record is a tight loop over closures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from form_engine.compiled import CompiledField, CompiledForm, CompiledRows, CompiledRule
from form_engine.definition import require_valid
from form_engine.expressions import Expression, compile_expression
from form_engine.field_types import FIELD_TYPES, REFERENCE_TYPES, TypeEnv
from form_engine.specialised import Deferred


def _expression(spec: Mapping[str, Any], option: str) -> Expression | None:
    return compile_expression(spec[option]) if option in spec else None


def _compile_field(spec: Mapping[str, Any], env: TypeEnv) -> CompiledField:
    kind_impl = FIELD_TYPES[spec["type"]]
    kind = "subtable" if spec["type"] == "subtable" else kind_impl.kind
    rows = _compile_rows(spec, env) if kind == "subtable" else None
    return CompiledField(
        key=spec["key"], type=spec["type"], kind=kind, label=spec.get("label", spec["key"]),
        spec=spec, field_type=kind_impl,
        strict=kind_impl.coercer(spec, False, env) if kind != "layout" else _no_value,
        lenient=kind_impl.coercer(spec, True, env) if kind != "layout" else _no_value,
        required=bool(spec.get("required")), read_only=bool(spec.get("read_only")),
        has_default="default" in spec, default=spec.get("default"),
        default_expression=_expression(spec, "default_expression"),
        visible_if=_expression(spec, "visible_if"), required_if=_expression(spec, "required_if"),
        readonly_if=_expression(spec, "readonly_if"),
        formula=_expression(spec, "expression") if spec["type"] == "formula" else None,
        rows=rows,
    )


def _no_value(value: Any) -> None:
    return None


def _formula_order(fields: list[CompiledField]) -> list[CompiledField]:
    """Computed fields so that each comes after the computed fields it reads."""
    computed = {f.key: f for f in fields if f.kind == "computed" and f.type != "autonumber"}
    ordered: list[CompiledField] = []
    done: set[str] = set()

    def place(item: CompiledField) -> None:
        if item.key in done:
            return
        done.add(item.key)
        needs = item.formula.names if item.formula else ()
        for name in needs:
            if name in computed:
                place(computed[name])
        ordered.append(item)

    for item in computed.values():
        place(item)
    return ordered


def _compile_rows(spec: Mapping[str, Any], env: TypeEnv) -> CompiledRows:
    fields = [_compile_field(row, env) for row in spec["fields"]]
    return CompiledRows(
        fields=tuple(fields), by_key={f.key: f for f in fields},
        inputs=tuple(f for f in fields if f.kind == "value"),
        formulas=tuple(_formula_order(fields)),
        conditional=tuple(f for f in fields if f.visible_if or f.required_if or f.readonly_if),
        min_rows=spec.get("min_rows", 0), max_rows=spec.get("max_rows", 1000),
        has_defaults=any(f.has_default or f.default_expression for f in fields),
        input_keys=frozenset(f.key for f in fields if f.kind == "value"),
    )


def compile_form(definition: Mapping[str, Any], env: TypeEnv | None = None,
                 checked: bool = False) -> CompiledForm:
    """Check (unless `checked`) and compile a definition; raises DefinitionError."""
    env = env or TypeEnv()
    if not checked:
        require_valid(definition, env=env)
    fields = [_compile_field(spec, env) for spec in definition["fields"]]
    rules = tuple(CompiledRule(rule["key"], compile_expression(rule["error_if"]),
                               rule.get("field"), rule["message"])
                  for rule in definition.get("rules", []))
    form = CompiledForm(
        key=definition["key"], definition=definition, fields=tuple(fields),
        by_key={f.key: f for f in fields},
        inputs=tuple(f for f in fields if f.kind in ("value", "subtable")),
        computed=tuple(_formula_order(fields)),
        autonumbers=tuple(f for f in fields if f.type == "autonumber"),
        conditional=tuple(f for f in fields if f.visible_if or f.required_if or f.readonly_if),
        rules=rules,
        references=tuple(f for f in fields if f.type in REFERENCE_TYPES),
        input_keys=frozenset(f.key for f in fields if f.kind in ("value", "subtable")),
        env=env,
    )
    return replace(form, specialised=Deferred(form, lenient=False),
                   specialised_input=Deferred(form, lenient=True))
