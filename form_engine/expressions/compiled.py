"""The fast path: a checked expression compiled to a Python code object.

`compile_expression` has already rejected everything outside the language (no attribute
access, no names starting with `_`, only whitelisted node types and library functions).
This module rewrites what remains so that nothing can reach Python itself:

- every name becomes a lookup in the names mapping: `price` → `_n['price']`;
- every operator becomes a call of the sandbox's bounded operator: `a * b` → `_o[Mult](a, b)`;
- every call goes to the function library: `round(x, 2)` → `_f['round'](x, 2)`;

and evaluates it with no builtins. The result is the same as simpleeval's tree-walking
interpretation with the same operator and function tables (a differential test generates
expressions and compares both), about ten times faster.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from form_engine.expressions.limits import OPERATORS

_OPERATOR_NAMES = {operator: operator.__name__ for operator in OPERATORS}
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False, "null": None,
              "None": None}


class _Rewriter(ast.NodeTransformer):
    def __init__(self) -> None:
        self.constants: list[Any] = []

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, Decimal):  # compile() takes no Decimal literals
            self.constants.append(node.value)
            lookup = ast.Subscript(value=ast.Name("_c", ast.Load()),
                                   slice=ast.Constant(len(self.constants) - 1), ctx=ast.Load())
            return ast.copy_location(lookup, node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in _CONSTANTS:
            return ast.copy_location(ast.Constant(_CONSTANTS[node.id]), node)
        if node.id in ("user", "record"):  # the acting user; the names themselves
            alias = "_u" if node.id == "user" else "_n"
            return ast.copy_location(ast.Name(alias, ast.Load()), node)
        lookup = ast.Subscript(value=ast.Name("_n", ast.Load()),
                               slice=ast.Constant(node.id), ctx=ast.Load())
        return ast.copy_location(lookup, node)

    def _operator(self, op: ast.AST, args: list[ast.expr], where: ast.AST) -> ast.AST:
        call = ast.Call(func=ast.Subscript(value=ast.Name("_o", ast.Load()),
                                           slice=ast.Constant(_OPERATOR_NAMES[type(op)]),
                                           ctx=ast.Load()),
                        args=args, keywords=[])
        return ast.copy_location(call, where)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        return self._operator(node.op, [self.visit(node.left), self.visit(node.right)], node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        return self._operator(node.op, [self.visit(node.operand)], node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        # `a < b < c` is `a < b and b < c`, like Python and simpleeval (b has no side effects).
        operands = [self.visit(node.left), *(self.visit(c) for c in node.comparators)]
        links = [self._operator(op, [operands[i], operands[i + 1]], node)
                 for i, op in enumerate(node.ops)]
        if len(links) == 1:
            return links[0]
        return ast.copy_location(ast.BoolOp(op=ast.And(), values=links), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        assert isinstance(node.func, ast.Name)  # guaranteed by the checker
        function = ast.Subscript(value=ast.Name("_f", ast.Load()),
                                 slice=ast.Constant(node.func.id), ctx=ast.Load())
        call = ast.Call(func=function, args=[self.visit(a) for a in node.args], keywords=[])
        return ast.copy_location(call, node)


@dataclass(frozen=True)
class CompiledCode:
    # (_n, _u, _f, _o) -> value; the decimal constants are bound in as `_c`
    function: Callable[..., Any]


_PARAMETERS = ast.arguments(posonlyargs=[], args=[ast.arg(name) for name in
                                                  ("_n", "_u", "_f", "_o")],
                            kwonlyargs=[], kw_defaults=[], defaults=[])


def rewrite(tree: ast.expr) -> tuple[ast.expr, tuple[Any, ...]]:
    """The checked tree over `_n`, `_u`, `_f`, `_o` and the decimal constants `_c` it uses
    (the tree itself is left untouched)."""
    rewriter = _Rewriter()
    return rewriter.visit(copy.deepcopy(tree)), tuple(rewriter.constants)


def compile_tree(tree: ast.expr) -> CompiledCode:
    """A Python function for a checked expression tree."""
    body, constants = rewrite(tree)
    lambda_ = ast.Lambda(args=_PARAMETERS, body=body)
    module = ast.fix_missing_locations(ast.Expression(body=lambda_))
    code = compile(module, "<expression>", "eval")
    function = eval(code, {"__builtins__": {}, "_c": constants})
    return CompiledCode(function)


def operator_table() -> dict[str, Callable[..., Any]]:
    return {_OPERATOR_NAMES[op]: function for op, function in OPERATORS.items()}


def run_code(compiled: CompiledCode, names: Mapping[str, Any], user: Mapping[str, Any],
             functions: Mapping[str, Any], operators: Mapping[str, Any]) -> Any:
    """Evaluate with `names` as they are (no copy): field values by key."""
    return compiled.function(names, user, functions, operators)
