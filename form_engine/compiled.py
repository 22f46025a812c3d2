"""A compiled form, as data: its fields with their coercers, conditions and computations
prepared once (`compiler.compile_form` builds it), read by the validator, the specialised
validators, the renderer and the platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from form_engine.errors import CoercionError
from form_engine.expressions import Expression
from form_engine.field_types import FieldType, TypeEnv
from form_engine.field_types.base import Coercer


@dataclass(frozen=True)
class CompiledField:
    key: str
    type: str
    kind: str                       # value | computed | layout | subtable
    label: Any
    spec: Mapping[str, Any]
    field_type: FieldType
    strict: Coercer
    lenient: Coercer
    required: bool
    read_only: bool
    has_default: bool
    default: Any
    default_expression: Expression | None
    visible_if: Expression | None
    required_if: Expression | None
    readonly_if: Expression | None
    formula: Expression | None
    rows: CompiledRows | None       # subtables only

    def coercer(self, lenient: bool) -> Coercer:
        return self.lenient if lenient else self.strict

    def stored_default(self) -> Any:
        """The `default` as the field stores it (None when there is none, or it no longer
        fits the field)."""
        if not self.has_default:
            return None
        try:
            return self.strict(self.default)
        except CoercionError:
            return None


@dataclass(frozen=True)
class CompiledRule:
    key: str
    expression: Expression
    field: str | None
    message: Any


@dataclass(frozen=True)
class CompiledRows:
    """The fields of a subtable row, compiled like a small form."""

    fields: tuple[CompiledField, ...]
    by_key: Mapping[str, CompiledField]
    inputs: tuple[CompiledField, ...]
    formulas: tuple[CompiledField, ...]
    conditional: tuple[CompiledField, ...]
    min_rows: int
    max_rows: int
    has_defaults: bool
    input_keys: frozenset[str]


@dataclass(frozen=True)
class CompiledForm:
    key: str
    definition: Mapping[str, Any]
    fields: tuple[CompiledField, ...]
    by_key: Mapping[str, CompiledField]
    inputs: tuple[CompiledField, ...]        # value and subtable fields, in order
    computed: tuple[CompiledField, ...]      # rollups and formulas, dependency order
    autonumbers: tuple[CompiledField, ...]
    conditional: tuple[CompiledField, ...]   # fields with visible/required/readonly_if
    rules: tuple[CompiledRule, ...]
    references: tuple[CompiledField, ...]    # user / department / lookup fields
    input_keys: frozenset[str] = frozenset()  # what a client may send
    env: TypeEnv = field(default_factory=TypeEnv)
    # The generated validators for valid creates (form_engine.specialised): strict JSON,
    # and typed input (forms, imports).
    specialised: Any = field(default=None, compare=False, repr=False)
    specialised_input: Any = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> Any:
        return self.definition.get("label", self.key)
