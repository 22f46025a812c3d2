"""Errors of the form engine: problems are values with a path; exceptions carry lists of them.

A `Problem` is one thing wrong with a record or a definition: where (`lines[2].qty`,
`fields[3].options`), what (`code`), and the parameters its message needs. Messages are
rendered later, in the reader's locale, by `form_engine.messages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def json_path(parts: Any) -> str:
    """`["admin", "email"]` -> `admin.email`; `["lines", 2, "qty"]` -> `lines[2].qty`."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass(frozen=True)
class Problem:
    path: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, locale: str = "en") -> str:
        from form_engine.messages import render

        return render(self.code, locale, self.params)

    def as_dict(self, locale: str = "en") -> dict[str, Any]:
        return {"path": self.path, "code": self.code, "message": self.message(locale)}


class FormEngineError(Exception):
    """Base of the engine's exceptions."""


class ExpressionError(FormEngineError):
    """An expression cannot be parsed, is not allowed, or failed while running."""

    def __init__(self, code: str, column: int | None = None, **params: Any) -> None:
        self.code = code
        self.column = column
        self.params = {**params, **({"column": column} if column is not None else {})}
        super().__init__(code, self.params)

    def problem(self, path: str) -> Problem:
        return Problem(path, self.code, self.params)


class DefinitionError(FormEngineError):
    """A form definition is invalid; `problems` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the definition")


class CoercionError(FormEngineError):
    """A raw value (form input, CSV cell) cannot be read as the field's type."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code, params)


class BreakingChange(FormEngineError):
    """Publishing would break existing records and no migration was given."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} breaking change(s) need a migration")
