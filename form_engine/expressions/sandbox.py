"""Parsing, checking and evaluating expressions on simpleeval.

`compile_expression(source)` parses once (cached), converts float literals to decimals and
rejects anything outside the language: attribute access, lambdas, comprehensions, f-strings,
assignments, unknown functions, too long or too deep expressions. What remains is evaluated
by simpleeval with Loom's bounded operators and function library, so evaluation is fast and
cannot hang or escape. Names a definition may use are checked separately
(`unknown_names`), because they depend on the form.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression, NameNotDefined

from form_engine.errors import ExpressionError
from form_engine.expressions.compiled import compile_tree, operator_table, run_code
from form_engine.expressions.functions import FUNCTIONS
from form_engine.expressions.limits import (
    MAX_NESTING,
    MAX_NODES,
    MAX_SOURCE_LENGTH,
    MAX_STRING_LENGTH,
    OPERATORS,
    to_number,
)

# Names every expression may use besides the form's field keys.
BUILTIN_NAMES = frozenset({"record", "user", "True", "False", "None", "true", "false", "null"})
_CONSTANTS = {"true": True, "false": False, "null": None}

_ALLOWED_NODES = (
    ast.Expression, ast.Expr, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp,
    ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.Subscript, ast.List, ast.Tuple,
    ast.Dict, ast.Set, ast.Slice,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd,
    ast.Not, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In,
    ast.NotIn,
)
_DESCRIBED = {
    ast.Attribute: "attribute access (a.b)", ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "f-strings", ast.NamedExpr: "assignment (:=)", ast.Starred: "*unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.BitAnd: "bitwise operators", ast.BitOr: "bitwise operators",
    ast.BitXor: "bitwise operators", ast.Invert: "bitwise operators",
    ast.LShift: "bit shifts", ast.RShift: "bit shifts", ast.MatMult: "@",
    ast.Is: "is (use ==)", ast.IsNot: "is not (use !=)",
}


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression; evaluate it with an `Evaluator`."""

    source: str
    tree: ast.AST
    names: Mapping[str, int]        # name -> column of first use (1-based)
    functions: Mapping[str, int]    # function -> column of first call
    call_problems: tuple[ExpressionError, ...] = ()  # unknown functions, wrong arity
    code: Any = None                # the compiled fast path (None when calls are unknown)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def _bracket_depth(source: str) -> int:
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in source:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _ast_depth(node: ast.AST) -> int:
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


class _Columns:
    """1-based character columns in the original source (ast gives UTF-8 byte offsets of
    the stripped text; operators have no position of their own, so they take their
    expression's)."""

    def __init__(self, source: str, tree: ast.AST) -> None:
        self.indent = len(source) - len(source.lstrip())
        self.encoded = source.strip().encode("utf-8")
        self.owner: dict[int, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                if not hasattr(child, "col_offset"):
                    self.owner[id(child)] = node
            if isinstance(node, ast.Compare):
                for op in node.ops:
                    self.owner[id(op)] = node

    def __call__(self, node: ast.AST) -> int:
        offset = 0
        owner = self.owner.get(id(node))
        if isinstance(owner, ast.BinOp) and node is owner.op:
            offset = self._after(owner.left.end_col_offset)  # the operator itself
        elif isinstance(owner, ast.Compare) and node in owner.ops:
            before = ([owner.left, *owner.comparators])[owner.ops.index(node)]
            offset = self._after(before.end_col_offset)
        else:
            while not hasattr(node, "col_offset") and id(node) in self.owner:
                node = self.owner[id(node)]
            offset = getattr(node, "col_offset", 0)
        return self.indent + len(self.encoded[:offset].decode("utf-8", "ignore")) + 1

    def _after(self, offset: int | None) -> int:
        """The first non-blank byte at or after `offset` (skipping closing brackets' spaces)."""
        position = offset or 0
        while position < len(self.encoded) and self.encoded[position:position + 1] in (
                b" ", b")", b"\t"):
            position += 1
        return position


def _check_call(node: ast.Call, functions: dict[str, int], _column: _Columns
                ) -> ExpressionError | None:
    """Structural problems raise; an unknown function or wrong arity is returned."""
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("forbidden_syntax", _column(node), what="calling a computed value")
    if node.keywords:
        raise ExpressionError("forbidden_syntax", _column(node), what="keyword arguments")
    name = node.func.id
    functions.setdefault(name, _column(node))
    function = FUNCTIONS.get(name)
    if function is None:
        return ExpressionError("unknown_function", _column(node), name=name)
    count = len(node.args)
    if count < function.min_args or (function.max_args is not None and count > function.max_args):
        return ExpressionError("wrong_argument_count", _column(node), name=name,
                               signature=function.signature, count=count)
    return None


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Parse and check `source`; raise ExpressionError with the column of the problem."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("empty_expression")
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError("expression_too_long", limit=MAX_SOURCE_LENGTH,
                              length=len(source))
    if _bracket_depth(source) > MAX_NESTING:
        raise ExpressionError("expression_too_deep", limit=MAX_NESTING)
    indent = len(source) - len(source.lstrip())
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        line = (exc.text or "").rstrip("\n")
        column = len(line.encode("utf-8")[:max((exc.offset or 1) - 1, 0)].decode(
            "utf-8", "ignore")) if exc.offset else 0
        raise ExpressionError("syntax_error", indent + column + 1, detail=exc.msg) from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError("syntax_error", None, detail=str(exc)[:100]) from exc
    if _ast_depth(tree) > MAX_NESTING * 3:
        raise ExpressionError("expression_too_deep", limit=MAX_NESTING)

    _column = _Columns(source, tree)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names: dict[str, int] = {}
    functions: dict[str, int] = {}
    call_problems: list[ExpressionError] = []
    for count, node in enumerate(ast.walk(tree), 1):
        if count > MAX_NODES:
            raise ExpressionError("expression_too_long", limit=MAX_SOURCE_LENGTH,
                                  length=len(source))
        if not isinstance(node, _ALLOWED_NODES):
            what = _DESCRIBED.get(type(node), type(node).__name__)
            raise ExpressionError("forbidden_syntax", _column(node), what=what)
        if isinstance(node, ast.Call):
            problem = _check_call(node, functions, _column)
            if problem is not None:
                call_problems.append(problem)
        elif isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ExpressionError("forbidden_syntax", _column(node), what="names with _")
            if id(node) not in called:
                names.setdefault(node.id, _column(node))
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, float):
                number = Decimal(repr(node.value))
                if not number.is_finite() or (number and abs(number.adjusted()) > 100):
                    raise ExpressionError("number_too_large")
                node.value = number
            elif isinstance(node.value, complex | bytes):
                raise ExpressionError("forbidden_syntax", _column(node), what="this literal")
            elif isinstance(node.value, str) and len(node.value) > MAX_STRING_LENGTH:
                raise ExpressionError("result_too_long", limit=MAX_STRING_LENGTH)
    code = compile_tree(tree.body) if not call_problems else None
    return Expression(source, tree.body, names, functions, tuple(call_problems), code)


def unknown_names(expression: Expression, known: Collection[str]) -> list[ExpressionError]:
    """Every unknown name, unknown function and wrong call, in the order they appear."""
    problems = [ExpressionError("unknown_name", column, name=name)
                for name, column in expression.names.items()
                if name not in known and name not in BUILTIN_NAMES]
    problems.extend(expression.call_problems)
    return sorted(problems, key=lambda problem: problem.column or 0)


def check_expression(source: str, known: Collection[str]) -> list[ExpressionError]:
    """Everything wrong with `source` for a form whose names are `known`."""
    try:
        expression = compile_expression(source)
    except ExpressionError as error:
        return [error]
    return unknown_names(expression, known)


class EvaluationContext:
    """What contextual functions see: the clock, the tenant's time zone, the acting user."""

    def __init__(self, clock: Callable[[], datetime] | None = None,
                 user: Mapping[str, Any] | None = None, timezone: tzinfo = UTC) -> None:
        self.now = clock or (lambda: datetime.now(UTC))
        self.user = dict(user or {})
        self.timezone = timezone


_BASE_FUNCTIONS = {name: f.call for name, f in FUNCTIONS.items() if not f.contextual}
_OPERATORS = operator_table()


class Evaluator(EvalWithCompoundTypes):
    """simpleeval with Loom's operators and functions; one per record being evaluated."""

    def __init__(self, context: EvaluationContext | None = None) -> None:
        context = context or EvaluationContext()
        functions = dict(_BASE_FUNCTIONS)
        for name, function in FUNCTIONS.items():
            if function.contextual:
                functions[name] = _bind(function.call, context)
        super().__init__(operators=OPERATORS, functions=functions, names={})
        for node_type in (ast.Attribute, ast.ListComp, ast.DictComp, ast.SetComp,
                          ast.GeneratorExp, ast.JoinedStr, ast.FormattedValue):
            self.nodes.pop(node_type, None)  # the checker rejects these too: defence in depth
        self.context = context
        self.base_names: dict[str, Any] = {"user": context.user, **_CONSTANTS}
        self.call_table = functions

    def _eval(self, node: ast.AST) -> Any:
        # simpleeval re-checks every intermediate result for modules and dangerous
        # functions; the checker has already made those unreachable, so skip the walk.
        return self.nodes[type(node)](node)

    def run(self, expression: Expression, names: Mapping[str, Any]) -> Any:
        """Evaluate with `names` (field values); errors become ExpressionError."""
        return self._run(expression, names, compiled=expression.code is not None)

    def run_interpreted(self, expression: Expression, names: Mapping[str, Any]) -> Any:
        """The same evaluation by simpleeval's interpreter (the reference for the fast path)."""
        return self._run(expression, names, compiled=False)

    def _run(self, expression: Expression, names: Mapping[str, Any], compiled: bool) -> Any:
        try:
            if compiled:
                try:
                    return to_number(run_code(expression.code, names, self.context.user,
                                              self.call_table, _OPERATORS))
                except KeyError as exc:
                    missing = exc.args[0] if exc.args else None
                    if missing in expression.names and missing not in names:
                        raise NameNotDefined(missing, expression.source) from exc
                    raise
            scope = dict(self.base_names)
            scope.update(names)
            scope.setdefault("record", names)
            self.names = scope
            return to_number(self.eval(expression.source, previously_parsed=expression.tree))
        except ExpressionError:
            raise
        except InvalidExpression as exc:
            raise ExpressionError("invalid_expression", detail=str(exc)[:120]) from exc
        except (KeyError, IndexError) as exc:
            raise ExpressionError("missing_item", detail=str(exc)[:60]) from exc
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            raise ExpressionError("evaluation_failed", detail=f"{type(exc).__name__}: "
                                                             f"{str(exc)[:100]}") from exc


def _bind(function: Callable[..., Any], context: EvaluationContext) -> Callable[..., Any]:
    def bound(*args: Any) -> Any:
        return function(context, *args)

    return bound


def evaluate(source: str, names: Mapping[str, Any] | None = None,
             context: EvaluationContext | None = None) -> Any:
    """Convenience: compile (cached) and evaluate one expression."""
    return Evaluator(context).run(compile_expression(source), names or {})
