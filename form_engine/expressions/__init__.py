"""One expression language for visibility, required-if, defaults, formulas, rules and flow
conditions: a sandboxed subset of Python expressions on simpleeval. See docs/expressions.md."""

from form_engine.expressions.functions import FUNCTIONS
from form_engine.expressions.sandbox import (
    BUILTIN_NAMES,
    EvaluationContext,
    Evaluator,
    Expression,
    check_expression,
    compile_expression,
    evaluate,
    unknown_names,
)

__all__ = [
    "BUILTIN_NAMES",
    "FUNCTIONS",
    "EvaluationContext",
    "Evaluator",
    "Expression",
    "check_expression",
    "compile_expression",
    "evaluate",
    "unknown_names",
]
