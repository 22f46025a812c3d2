"""`validate(form, data, context)`: normalized data and every error, at once.

The pipeline, for the form and for each subtable row:
1. unknown keys and attempts to set computed fields are errors;
2. each value is coerced by its field type (strict JSON or lenient input);
3. on create, missing fields get their default (value or expression);
4. computed fields are filled in dependency order (row formulas, rollups, formulas);
5. visible_if / required_if / readonly_if are evaluated; hidden fields are never required;
6. required and read-only are enforced, then the form's rules (`error_if`);
7. references (users, departments, lookups) are checked through the resolver in one batch.
Creates first try the form's generated validator (`form_engine.specialised`, one for strict
JSON and one for typed input), which does steps 1–6 in one function and hands anything not
simply valid back to this pipeline.
Errors are `Problem`s with a path (`lines[2].qty`), a code and params incl. the label.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from form_engine.coercion import rounded
from form_engine.compiled import CompiledField, CompiledForm, CompiledRows
from form_engine.context import ValidationContext
from form_engine.errors import CoercionError, ExpressionError, Problem
from form_engine.expressions import EvaluationContext, Evaluator
from form_engine.field_types import REFERENCE_TYPES
from form_engine.field_types.autonumber import format_number, period_key
from form_engine.field_types.rollup import dated_value, result_of

_BLANK_STRICT = (None, "", [])


@dataclass
class ValidationResult:
    data: dict[str, Any]
    errors: list[Problem]
    visible: dict[str, bool] = field(default_factory=dict)
    required: dict[str, bool] = field(default_factory=dict)
    read_only: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self, locale: str = "en") -> list[dict[str, Any]]:
        return [problem.as_dict(locale) for problem in self.errors]


def is_blank(value: Any, lenient: bool) -> bool:
    """Strict JSON: only null is blank ("" is checked like any text, as JSON Schema does);
    typed input: empty text, spaces and empty lists are blank too."""
    if value is None:
        return True
    return lenient and (value == "" or value == [] or (isinstance(value, str)
                                                       and not value.strip()))


class _Run:
    """State of one validation: the evaluator, the errors, the context."""

    def __init__(self, form: CompiledForm, context: ValidationContext) -> None:
        self.provided: Mapping[str, Any] = {}
        self.failed_paths: set[str] = set()
        self.pending_rows: list[tuple[CompiledField, list[Any], str, bool]] = []
        self.form = form
        self.context = context
        self.lenient = context.mode == "input"
        self.errors: list[Problem] = []
        self.timezone = context.timezone or form.env.timezone
        if context.evaluator is None or context.evaluator.context.timezone != self.timezone:
            context.evaluator = Evaluator(EvaluationContext(context.clock, context.user,
                                                            self.timezone))
        self.evaluator = context.evaluator

    def fail(self, path: str, field_: CompiledField | None, code: str,
             params: Mapping[str, Any] | None = None) -> None:
        values = dict(params or {})
        if field_ is not None:
            values.setdefault("label", field_.label)
        self.errors.append(Problem(path, code, values))

    def evaluate(self, field_: CompiledField | None, expression: Any, names: Mapping[str, Any],
                 fallback: Any) -> Any:
        try:
            return self.evaluator.run(expression, names)
        except ExpressionError:
            return fallback

    # -- values ----------------------------------------------------------------------
    def coerce(self, fields: Any, data: Mapping[str, Any], prefix: str,
               out: dict[str, Any]) -> None:
        lenient = self.lenient
        for item in fields:
            key = item.key
            if key not in data:
                continue
            raw = data[key]
            path = prefix + key
            if is_blank(raw, lenient):
                out[key] = None
                continue
            try:
                value = (item.lenient if lenient else item.strict)(raw)
            except CoercionError as error:
                self.fail(path, item, error.code, error.params)
                self.failed_paths.add(path)
                continue
            if item.rows is not None and not prefix:
                self.pending_rows.append((item, value, path, False))  # after the form's values
            out[key] = None if value in _BLANK_STRICT else value

    def unknown_keys(self, by_key: Mapping[str, CompiledField], data: Mapping[str, Any],
                     prefix: str) -> None:
        for key in data:
            item = by_key.get(key)
            if item is None or item.kind == "layout":
                self.fail(prefix + str(key), None, "unknown_field", {"key": key})
            elif item.kind == "computed":
                self.fail(prefix + key, item, "computed")

    def defaults(self, fields: Any, data: Mapping[str, Any], out: dict[str, Any],
                 names: Mapping[str, Any]) -> None:
        for item in fields:
            if item.key in data or item.kind not in ("value", "subtable"):
                continue
            if item.rows is not None and item.has_default:
                # Default lines are completed exactly like lines that were sent.
                self.pending_rows.append((item, list(item.default or []), item.key, False))
            elif item.has_default:
                out[item.key] = item.stored_default()
            elif item.default_expression is not None:
                value = self.evaluate(item, item.default_expression, names, None)
                out[item.key] = self.default_value(item, value)

    @staticmethod
    def default_value(item: CompiledField, value: Any) -> Any:
        """A default expression's result as the field stores it (None when it does not fit)."""
        try:
            return None if value is None else item.strict(
                value.isoformat() if hasattr(value, "isoformat") else value)
        except CoercionError:
            return None

    # -- subtables -------------------------------------------------------------------
    def rows(self, item: CompiledField, rows: list[Any], path: str,
             parent: Mapping[str, Any], stored: bool = False) -> list[dict[str, Any]]:
        """Validate and complete lines; `stored` lines were not sent (their read-only cells
        may hold what an automation wrote)."""
        spec: CompiledRows = item.rows  # type: ignore[assignment]
        result = []
        for index, row in enumerate(rows):
            prefix = f"{path}[{index}]."
            if not isinstance(row, dict):
                self.fail(f"{path}[{index}]", item, "wrong_type", {"expected": "object"})
                continue
            if not row.keys() <= spec.input_keys:
                self.unknown_keys(spec.by_key, row, prefix)
            out: dict[str, Any] = {}
            self.coerce(spec.inputs, row, prefix, out)
            # A row's expressions see the form's values and the row's own (row first).
            names = dict(parent)
            if spec.has_defaults and len(out) < len(spec.inputs):
                # Rows are re-sent whole on every save, so a missing cell takes its default.
                names.update(out)
                self.defaults(spec.inputs, row, out, names)
            for column in spec.inputs:
                out.setdefault(column.key, None)
            names.update(out)
            for formula in spec.formulas:
                names[formula.key] = out[formula.key] = formula.strict(
                    self.evaluate(formula, formula.formula, names, None))
            self.conditions(spec.conditional, spec.inputs, out, prefix, names,
                            existing=None, provided={} if stored else row)
            result.append(out)
        return result

    # -- computed fields ---------------------------------------------------------------
    def compute(self, out: dict[str, Any]) -> None:
        for item in self.form.computed:
            if item.type == "formula":
                out[item.key] = item.strict(self.evaluate(item, item.formula, out, None))
            else:
                out[item.key] = self.rollup(item, out)

    def rollup(self, item: CompiledField, out: Mapping[str, Any]) -> Any:
        spec = item.spec
        function = spec["function"]
        if "related" in spec:
            resolver = self.context.resolver
            if resolver is None:
                return None
            related = spec["related"]
            options: dict[str, Any] = {}
            if "filter" in related:
                options = {"where": related["filter"],
                           "now": self.context.clock().astimezone(self.timezone)}
            value = resolver.related_rollup(
                related["form"], related["link_field"], spec.get("column"), function,
                self.context.record_id, result=result_of(spec), **options)
            return value if result_of(spec) == "number" else item.strict(value)
        rows = out.get(spec["subtable"]) or []
        column = spec.get("column")
        if function == "count":
            return len(rows) if column is None else sum(
                1 for row in rows if row.get(column) is not None)
        if result_of(spec) != "number":   # the earliest / latest of a date column
            days = [day for row in rows
                    if (day := dated_value(result_of(spec), row.get(column))) is not None]
            return (min(days) if function == "min" else max(days)) if days else None
        values = []
        for row in rows:
            value = row.get(column)
            if value.__class__ is Decimal:
                values.append(value)
            elif isinstance(value, int | Decimal) and not isinstance(value, bool):
                values.append(Decimal(value))
        if not values and function != "sum":
            return None
        if function == "sum":  # of nothing: 0, at the field's precision like any total
            result = sum(values, Decimal(0))
        elif function == "avg":
            result = sum(values, Decimal(0)) / len(values)
        else:
            result = min(values) if function == "min" else max(values)
        places = spec.get("precision")
        return result if places is None else rounded(result, Decimal(1).scaleb(-places))

    def autonumbers(self, out: dict[str, Any]) -> None:
        existing = self.context.existing or {}
        for item in self.form.autonumbers:
            if not self.context.creating:
                out[item.key] = existing.get(item.key)
                continue
            resolver = self.context.resolver
            if not self.context.assign_numbers or resolver is None:
                out[item.key] = None
                continue
            today = self.context.clock().astimezone(self.timezone).date()
            period = period_key(item.spec.get("reset", "never"), today)
            sequence = resolver.next_sequence(item.key, period)
            out[item.key] = format_number(item.spec.get("pattern", "{seq}"), sequence, today)

    # -- conditions, required, read-only --------------------------------------------------
    def conditions(self, conditional: Any, inputs: Any, out: dict[str, Any], prefix: str,
                   names: Mapping[str, Any], existing: Mapping[str, Any] | None,
                   result: ValidationResult | None = None,
                   provided: Mapping[str, Any] | None = None) -> None:
        hidden: set[str] = set()
        required: set[str] = set()
        read_only: set[str] = set()
        for item in conditional:
            if item.visible_if is not None and not self.evaluate(item, item.visible_if, names,
                                                                 True):
                hidden.add(item.key)
            if item.required_if is not None and self.evaluate(item, item.required_if, names,
                                                              False):
                required.add(item.key)
            if item.readonly_if is not None and self.evaluate(item, item.readonly_if, names,
                                                              False):
                read_only.add(item.key)
        data_keys = self.provided if provided is None else provided
        for item in inputs:
            key = item.key
            if result is not None:
                result.visible[key] = key not in hidden
                result.required[key] = (item.required or key in required) and key not in hidden
                result.read_only[key] = item.read_only or key in read_only
            if key in hidden:
                continue
            if prefix + key in self.failed_paths:
                continue
            if (item.required or key in required) and out.get(key) is None:
                self.fail(prefix + key, item, "required")
            elif item.rows is not None and item.rows.min_rows and not out.get(key):
                self.fail(prefix + key, item, "too_few_rows", {"limit": item.rows.min_rows})
            if self.context.system or not (item.read_only or key in read_only):
                continue
            if existing is None or prefix:
                # On create (and in rows) a read-only field can only hold its default.
                if key in data_keys and out.get(key) is not None and (
                        out.get(key) != item.stored_default()):
                    self.fail(prefix + key, item, "read_only")
            elif key in data_keys and out.get(key) != existing.get(key):
                self.fail(key, item, "read_only")

    def rules(self, out: Mapping[str, Any]) -> None:
        for rule in self.form.rules:
            try:
                broken = self.evaluator.run(rule.expression, out)
            except ExpressionError as error:
                self.errors.append(Problem(rule.field or "", "expression_failed", {
                    "label": rule.key, "detail": error.code}))
                continue
            if broken:
                target = self.form.by_key.get(rule.field or "")
                self.errors.append(Problem(rule.field or "", "rule", {
                    "message": rule.message, "rule": rule.key,
                    "label": target.label if target else rule.key}))

    def references(self, out: Mapping[str, Any]) -> None:
        resolver = self.context.resolver
        if resolver is None:
            return
        wanted: dict[tuple[str, str | None], dict[int, list[tuple[str, CompiledField]]]] = {}
        for item in self.form.references:
            self._collect(item, out, item.key, wanted)
        for item in self.form.inputs:
            if item.rows is None:
                continue
            columns = [column for column in item.rows.fields if column.type in REFERENCE_TYPES]
            for index, row in enumerate((out.get(item.key) or []) if columns else []):
                for column in columns:
                    self._collect(column, row, f"{item.key}[{index}].{column.key}", wanted)
        for (target, form), ids in wanted.items():
            for missing in resolver.missing_references(target, form, set(ids)):
                for path, item in ids.get(missing, []):
                    code = {"user": "no_such_user", "department": "no_such_department"}.get(
                        target, "no_such_record")
                    self.fail(path, item, code, {"value": missing, "target": form or target})

    @staticmethod
    def _collect(item: CompiledField, values: Mapping[str, Any], path: str,
                 wanted: dict[Any, dict[int, list[Any]]]) -> None:
        value = values.get(item.key)
        if value is None:
            return
        target = "record" if item.type == "lookup" else item.type
        key = (target, item.spec.get("form"))
        wanted.setdefault(key, {}).setdefault(value, []).append((path, item))


def validate(form: CompiledForm, data: Any, context: ValidationContext | None = None
             ) -> ValidationResult:
    """Coerce, complete and check `data` against `form`; never raises for bad data."""
    context = context or ValidationContext()
    run = _Run(form, context)
    generated = form.specialised_input if run.lenient else form.specialised
    if (generated is not None and context.existing is None and not context.system
            and type(data) is dict):
        done = generated(data, run)  # valid creates: one generated function
        if done is not None:
            out, visible, required, read_only = done
            run.references(out)
            if not run.errors:
                run.autonumbers(out)
            return ValidationResult(out, run.errors, visible, required, read_only)
    result = ValidationResult({}, run.errors)
    if not isinstance(data, Mapping):
        run.fail("", None, "not_an_object")
        return result
    run.provided = data
    run.failed_paths = set()
    out: dict[str, Any] = {}
    if not data.keys() <= form.input_keys:
        run.unknown_keys(form.by_key, data, "")
    run.coerce(form.inputs, data, "", out)
    run.failed_paths = {problem.path for problem in run.errors}
    if context.creating:
        run.defaults(form.inputs, data, out, out)
    else:
        for item in form.inputs:
            if item.key in data:
                continue
            stored = (context.existing or {}).get(item.key)
            if item.rows is not None and stored:
                # Stored lines are re-run, so row formulas follow changes to the form.
                inputs = {column.key for column in item.rows.inputs}
                run.pending_rows.append((item, [
                    {key: value for key, value in row.items() if key in inputs}
                    for row in stored if isinstance(row, dict)], item.key, True))
            else:
                out[item.key] = stored
    for item in form.inputs:
        out.setdefault(item.key, None)
    for item, rows, path, stored in run.pending_rows:
        processed = run.rows(item, rows, path, out, stored)
        out[item.key] = processed or None
    run.compute(out)
    run.conditions(form.conditional, form.inputs, out, "", out, context.existing, result)
    for item in form.inputs:
        result.visible.setdefault(item.key, True)
        result.required.setdefault(item.key, item.required)
        result.read_only.setdefault(item.key, item.read_only)
    run.rules(out)
    run.references(out)
    if not run.errors:
        run.autonumbers(out)
    result.data = out
    return result


def derived_values(form: CompiledForm, data: Mapping[str, Any],
                   context: ValidationContext) -> dict[str, Any]:
    """What a stored record of `form` computes to now: its inputs as they are, its formulas
    and rollups worked out again (a related rollup through `context.resolver`, for
    `context.record_id`). For a record whose related records changed; nothing is checked."""
    run = _Run(form, context)
    out = stored_values(form, data)
    for item in form.inputs:
        out.setdefault(item.key, None)
    run.compute(out)
    return out


def _hydrate(fields: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in fields:
        if item.key not in data:
            continue
        value = data[item.key]
        if value is not None and item.rows is not None and isinstance(value, list):
            value = [_hydrate(item.rows.fields, row) if isinstance(row, dict) else row
                     for row in value]
        elif value is not None and item.kind == "value":
            # A value stored under an older version may not fit: validation will say so.
            with suppress(CoercionError):
                value = item.strict(value)
        values[item.key] = value
    return values


def stored_values(form: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """A record's data as read from JSON storage, back in Python types (dates, decimals)."""
    return _hydrate(form.fields, data)


def input_values(form: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """Only what a client may write: computed fields (and computed row cells) left out."""
    values: dict[str, Any] = {}
    for item in form.inputs:
        if item.key not in data:
            continue
        value = data[item.key]
        if item.rows is not None and isinstance(value, list):
            keys = {column.key for column in item.rows.inputs}
            value = [{key: cell for key, cell in row.items() if key in keys}
                     if isinstance(row, dict) else row for row in value]
        values[item.key] = value
    return values
