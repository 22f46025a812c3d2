"""A validator generated for one form version: the general pipeline unrolled into Python.

`validate()` walks the compiled form's fields for every record, calling a coercer, checking
conditions and evaluating expressions through several layers of small functions. For the
common case — a strict JSON create whose record is valid — this module generates one
function per form version (as `fastjsonschema` does for JSON Schema) in which each field's
check is written out inline (`FieldType.strict_source`), every expression is called as
its compiled code, and the branches that cannot occur in this form are simply not there.

The generated function has one duty: return exactly the data (and visibility, required and
read-only flags) the general pipeline returns for the same record, or None. It returns None
as soon as anything is not simply valid — a value to coerce, a missing required field, a
broken rule — and `validate()` then runs the general pipeline, which finds and explains
every problem. So errors, their paths and messages have a single source, and a differential
test (`tests/form_engine/test_specialised.py`) compares both on generated records.

Evaluating an expression goes through the same compiled code `Evaluator.run` uses; when it
raises anything, the evaluator itself re-runs it so that the error handling (and fallback
value) is the general pipeline's own.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from form_engine.coercion import rounded
from form_engine.errors import CoercionError
from form_engine.expressions import Expression
from form_engine.expressions.compiled import rewrite
from form_engine.expressions.limits import to_number
from form_engine.expressions.sandbox import operator_table

if TYPE_CHECKING:
    from form_engine.compiled import CompiledField, CompiledForm, CompiledRows

# (data, run) -> (data, visible, required, read_only) | None
Specialised = Callable[[Mapping[str, Any], Any], tuple[dict[str, Any], ...] | None]

_MISSING = object()  # a key that was not sent


class _Source:
    """Lines of the function being written, and the constants they refer to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_MISSING": _MISSING, "_CoercionError": CoercionError, "_to_number": to_number,
            "_ops": operator_table()}
        self._names: dict[int, str] = {}

    def constant(self, value: Any) -> str:
        name = self._names.get(id(value))
        if name is None:
            name = f"_k{len(self.namespace)}"
            self.namespace[name] = value
            self._names[id(value)] = name
        return name

    def add(self, depth: int, *lines: str) -> None:
        self.lines.extend("    " * depth + line for line in lines)


def specialise(form: CompiledForm, lenient: bool = False) -> Specialised:
    """The generated validator for strict JSON, or (`lenient`) for typed input — forms,
    CSV and Excel — where each value goes through its field's lenient coercer."""
    source = _Source()
    _Writer(form, source, lenient).function()
    code = _compiled("\n".join(source.lines), f"<validator for form {form.key!r}>")
    exec(code, source.namespace)  # the source is generated from a checked form
    return source.namespace["_validate"]  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=256)
def _compiled(text: str, name: str) -> Any:
    """Python's compile() of the generated source: most of the cost of specialising, and the
    same text again whenever a change leaves the form's checks alone (a label, help, the
    layout — every property edit in the builder), since constants live in the namespace."""
    return compile(text, name, "exec")


class Deferred:
    """The generated validator, written on its first call: a form compiled only to be drawn
    (the builder's preview, a record page) never pays for it."""

    __slots__ = ("_form", "_function", "_lenient")

    def __init__(self, form: CompiledForm, lenient: bool) -> None:
        self._form, self._lenient = form, lenient
        self._function: Specialised | None = None

    def __call__(self, data: Mapping[str, Any], run: Any) -> tuple[dict[str, Any], ...] | None:
        function = self._function
        if function is None:
            function = self._function = specialise(self._form, self._lenient)
        return function(data, run)


class _Writer:
    def __init__(self, form: CompiledForm, source: _Source, lenient: bool = False) -> None:
        self.form = form
        self.source = source
        self.k = source.constant
        self.lenient = lenient

    # -- the function ------------------------------------------------------------------
    def function(self) -> None:
        form, add = self.form, self.source.add
        add(0, "def _validate(data, run):")
        add(1, f"if not data.keys() <= {self.k(form.input_keys)}: return None",
            "ev = run.evaluator",
            "user = ev.context.user",
            "calls = ev.call_table",
            "out = {}")
        for item in form.inputs:
            self.value(item, "out", "data", 1)
        self.defaults(form.inputs, "out", "data", 1)
        for item in form.inputs:
            if item.rows is not None:
                self.rows(item, 1)
        for item in form.computed:
            if item.type == "formula":
                result = self.expression(item.formula, "out", "None", 1)
                add(1, f"out[{item.key!r}] = {self.shaped(item, result, 1)}")
            elif (item.spec["function"] == "sum" and "subtable" in item.spec
                  and item.spec.get("column") is not None):
                self.subtable_sum(item, 1)
            else:
                add(1, f"out[{item.key!r}] = run.rollup({self.k(item)}, out)")
        self.conditions(form.conditional, form.inputs, "out", "data", 1, flags=True)
        for rule in form.rules:
            add(1, "try:",
                f"    if _to_number({self.call(rule.expression, 'out')}): return None",
                "except Exception:",
                "    return None")
        add(1, "return out, visible, required, read_only")

    # -- one value ---------------------------------------------------------------------
    def value(self, item: CompiledField, out: str, data: str, depth: int) -> None:
        """Coerce the value if it was sent (a missing one is filled in later, as there)."""
        add, key = self.source.add, repr(item.key)
        if item.rows is not None:
            add(depth, f"{self.rows_of(item)} = None")
        add(depth, f"v = {data}.get({key}, _MISSING)")
        if self.lenient:  # typed input: empty text, spaces and empty lists are blank too
            add(depth, "if v is None or (not v.strip() if isinstance(v, str) "
                "else (v == '' or v == [])):")
        else:
            add(depth, "if v is None:")
        add(depth, f"    {out}[{key}] = None", "elif v is not _MISSING:")
        coercer = item.lenient if self.lenient else item.strict
        called = ["try:", f"    v = {self.k(coercer)}(v)", "except _CoercionError:",
                  "    return None"]
        if item.rows is not None:
            add(depth + 1, *called, f"{self.rows_of(item)} = v",
                f"{out}[{key}] = None if v is None or v == '' or v == [] else v")
        elif not self.lenient:
            inline = item.field_type.strict_source(item.spec, self.k)
            if inline is None:
                add(depth + 1, *called,
                    f"{out}[{key}] = None if v is None or v == '' or v == [] else v")
            else:
                add(depth + 1, *inline, f"{out}[{key}] = v")
        else:
            common = item.field_type.lenient_source(item.spec, self.k)
            if common is not None:  # the common values inline, the others to the coercer
                test, inline = common
                add(depth + 1, f"if {test}:", *(f"    {line}" for line in inline), "else:")
                add(depth + 2, *called)
            else:
                add(depth + 1, *called)
            add(depth + 1, f"{out}[{key}] = None if v is None or v == '' or v == [] else v")

    def defaults(self, inputs: Any, out: str, data: str, depth: int) -> None:
        """Missing values: defaults in field order, then None (the same insertion order)."""
        add = self.source.add
        for item in inputs:
            key = repr(item.key)
            if item.rows is not None and item.has_default:
                add(depth, f"if {key} not in {data}: return None")  # default lines
            elif item.has_default:
                default = item.stored_default()
                copy = {list: "list", dict: "dict"}.get(type(default), "")
                add(depth, f"if {key} not in {data}:",
                    f"    {out}[{key}] = {copy}({self.k(default)})")
            elif item.default_expression is not None:
                add(depth, f"if {key} not in {data}:")
                value = self.expression(item.default_expression, out, "None", depth + 1)
                add(depth + 1, f"{out}[{key}] = run.default_value({self.k(item)}, {value})")
        keys = tuple(item.key for item in inputs)
        add(depth, f"if len({out}) < {len(keys)}:",
            f"    for key in {self.k(keys)}: {out}.setdefault(key, None)")

    def rows_of(self, item: CompiledField) -> str:
        return f"rows_{item.key}"  # keys are identifiers ([a-z][a-z0-9_]*)

    # -- subtables ---------------------------------------------------------------------
    def rows(self, item: CompiledField, depth: int) -> None:
        spec: CompiledRows = item.rows  # type: ignore[assignment]
        add = self.source.add
        add(depth, f"if {self.rows_of(item)}:")
        add(depth + 1, "lines = []",
            f"for row in {self.rows_of(item)}:",
            "    if row.__class__ is not dict: return None",
            f"    if not row.keys() <= {self.k(spec.input_keys)}: return None",
            "    cells = {}")
        for column in spec.inputs:
            self.value(column, "cells", "row", depth + 2)
        if spec.has_defaults:
            keys = self.k(frozenset(c.key for c in spec.inputs
                                    if c.has_default or c.default_expression is not None))
            add(depth + 2, f"if not {keys} <= row.keys(): return None")  # cell defaults
        keys = tuple(column.key for column in spec.inputs)
        add(depth + 2, f"if len(cells) < {len(keys)}:",
            f"    for key in {self.k(keys)}: cells.setdefault(key, None)",
            f"names = {self.row_names(spec)}")
        for formula in spec.formulas:
            result = self.expression(formula.formula, "names", "None", depth + 2)
            add(depth + 2, f"names[{formula.key!r}] = cells[{formula.key!r}] = "
                f"{self.shaped(formula, result, depth + 2)}")
        self.conditions(spec.conditional, spec.inputs, "cells", "row", depth + 2,
                        names="names")
        add(depth + 2, "lines.append(cells)")
        add(depth + 1, f"out[{item.key!r}] = lines or None")
        add(depth, "else:", f"    out[{item.key!r}] = None")

    def row_names(self, spec: CompiledRows) -> str:
        """What a row's expressions see: the form's values overlaid with the row's. Only
        the names they read are copied (all of them when one reads `record`)."""
        expressions = [e for item in (*spec.formulas, *spec.conditional)
                       for e in (item.formula, item.visible_if, item.required_if,
                                 item.readonly_if) if e is not None]
        used = {name for expression in expressions for name in expression.names}
        if "record" in used:
            return "dict(out); names.update(cells)"
        row_keys = {column.key for column in spec.inputs}
        form_keys = self.form.input_keys  # all in `out` by now; computed ones are not
        pairs = [f"{name!r}: cells[{name!r}]" if name in row_keys else f"{name!r}: out[{name!r}]"
                 for name in sorted(used) if name in row_keys or name in form_keys]
        return "{" + ", ".join(pairs) + "}"

    def subtable_sum(self, item: CompiledField, depth: int) -> None:
        """A sum over a subtable column, added up as `run.rollup` does; a cell holding
        anything but a decimal or nothing leaves the answer to `run.rollup`."""
        spec, add, key = item.spec, self.source.add, repr(item.key)
        decimal = self.k(Decimal)
        total = "total"
        if spec.get("precision") is not None:
            quantum = self.k(Decimal(1).scaleb(-spec["precision"]))
            total = f"{self.k(rounded)}(total, {quantum})"
        add(depth, f"total = {decimal}(0)",
            f"for cells in out[{spec['subtable']!r}] or ():",
            f"    v = cells.get({spec['column']!r})",
            f"    if v.__class__ is {decimal}: total += v",
            "    elif v is not None:",
            f"        out[{key}] = run.rollup({self.k(item)}, out)",
            "        break",
            "else:",
            f"    out[{key}] = {total}")

    # -- visible / required / read-only --------------------------------------------------
    def conditions(self, conditional: Any, inputs: Any, out: str, data: str, depth: int,
                   names: str | None = None, flags: bool = False) -> None:
        add, names = self.source.add, names or out
        dynamic = {item.key for item in conditional}
        if flags:
            shown = self.k({i.key: True for i in inputs})
            must = self.k({i.key: i.required for i in inputs})
            fixed = self.k({i.key: i.read_only for i in inputs})
            add(depth, f"visible = dict({shown})", f"required = dict({must})",
                f"read_only = dict({fixed})")
        for item in inputs:
            key = repr(item.key)
            if item.key not in dynamic:
                self.enforce(item, out, data, depth, item.required, item.read_only)
                continue
            shown = (self.expression(item.visible_if, names, "True", depth)
                     if item.visible_if is not None else "True")
            add(depth, f"shown = bool({shown})")
            must = (self.expression(item.required_if, names, "False", depth)
                    if item.required_if is not None else "False")
            add(depth, f"must = {item.required} or bool({must})")
            fixed = (self.expression(item.readonly_if, names, "False", depth)
                     if item.readonly_if is not None else "False")
            add(depth, f"fixed = {item.read_only} or bool({fixed})")
            if flags:
                add(depth, f"visible[{key}] = shown", f"required[{key}] = must and shown",
                    f"read_only[{key}] = fixed")
            add(depth, "if shown:")
            self.enforce(item, out, data, depth + 1, "must", "fixed")

    def enforce(self, item: CompiledField, out: str, data: str, depth: int,
                required: bool | str, read_only: bool | str) -> None:
        """Required and read-only, as the general pipeline checks them on create."""
        add, key = self.source.add, repr(item.key)
        start = len(self.source.lines)
        if required is True:
            add(depth, f"if {out}[{key}] is None: return None")
        elif required:
            add(depth, f"if {required} and {out}[{key}] is None: return None")
        if item.rows is not None and item.rows.min_rows:
            add(depth, f"if not {out}[{key}]: return None")
        if read_only:
            default = self.k(item.stored_default())
            guard = "" if read_only is True else f"{read_only} and "
            add(depth, f"if {guard}{key} in {data} and {out}[{key}] is not None and "
                f"{out}[{key}] != {default}: return None")
        if len(self.source.lines) == start and isinstance(required, str):
            add(depth, "pass")

    def shaped(self, item: CompiledField, result: str, depth: int) -> str:
        """A computed result in its declared type (lines written first when inlined)."""
        inline = item.field_type.strict_source(item.spec, self.k)
        if inline is None:
            return f"{self.k(item.strict)}({result})"
        self.source.add(depth, f"v = {result}", *inline)
        return "v"

    # -- expressions -------------------------------------------------------------------
    def call(self, expression: Expression, names: str) -> str:
        """The expression's compiled code written out over `names` (raises as run_code)."""
        if expression.code is None:
            return f"ev.run({self.k(expression)}, {names})"
        body, constants = rewrite(expression.tree)  # type: ignore[arg-type]
        inlined = _Inline(names, constants, self.k).visit(body)
        return ast.unparse(inlined)

    def expression(self, expression: Expression, names: str, fallback: str,
                   depth: int) -> str:
        """Lines leaving the value in `x`: on any exception the evaluator re-runs it, so
        errors end as the general pipeline's fallback value (or propagate as there)."""
        self.source.add(depth, "try:", f"    x = {self.call(expression, names)}",
                        "    if x.__class__ is float: x = _to_number(x)",
                        "except Exception:",
                        f"    x = run.evaluate(None, {self.k(expression)}, {names}, {fallback})")
        return "x"


class _Inline(ast.NodeTransformer):
    """The compiled expression's body (over `_n`, `_u`, `_f`, `_o`, `_c`) rewritten to read
    the generated function's own variables, the operators and decimals bound as constants."""

    def __init__(self, names: str, constants: tuple[Any, ...],
                 constant: Callable[[Any], str]) -> None:
        self.names = names
        self.constants = constants
        self.constant = constant
        self.operators = operator_table()

    def visit_Name(self, node: ast.Name) -> ast.AST:
        alias = {"_n": self.names, "_u": "user"}.get(node.id)
        return ast.Name(alias, ast.Load()) if alias else node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        table, key = node.value, node.slice
        if isinstance(table, ast.Name) and isinstance(key, ast.Constant):
            if table.id == "_o":
                return ast.Name(self.constant(self.operators[key.value]), ast.Load())
            if table.id == "_c":
                return ast.Name(self.constant(self.constants[key.value]), ast.Load())
            if table.id == "_f":
                return ast.Subscript(ast.Name("calls", ast.Load()), key, ast.Load())
        return self.generic_visit(node)

