"""A SQL condition described as data: its *shape* (hashable — what the SQL looks like) and
its *values* (always bound, never written into the SQL).

Building a SQLAlchemy statement and compiling it costs far more than running a small
indexed query. A list page therefore keys its compiled SQL on the shapes of its
conditions, and on a later request with the same shapes only binds the new values
(`record_query.page`). Plans are also rendered into ordinary SQLAlchemy conditions, with
their values bound, wherever a statement is composed further (counts, exports).

A plan's `render(shape, values, bind)` takes its values from the iterator in order and
binds each one through `bind` exactly once, so with a named Binder the statement's
parameters are `q0, q1 …` = the plans' values in the order the statement renders them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam


class Binder:
    """Hands out the parameters of one statement. Named (`q0, q1 …`, in order) for SQL
    compiled once and bound again (record_query.page): one Binder renders the whole
    statement. Otherwise anonymous, each unique, so clauses rendered apart can share a
    statement without one value standing in for another."""

    def __init__(self, named: bool = False) -> None:
        self.named = named
        self.count = 0

    def __call__(self, value: Any, type_: Any = None) -> BindParameter[Any]:
        self.count += 1
        if not self.named:
            return bindparam(None, value, type_=type_, unique=True)
        return bindparam(f"q{self.count - 1}", value, type_=type_)


Render = Callable[[Any, Iterator[Any], Binder], ColumnElement[bool]]


@dataclass(frozen=True)
class Plan:
    render: Render
    shape: Any
    values: tuple[Any, ...] = ()

    @property
    def key(self) -> tuple[Any, ...]:
        """What the plan's SQL depends on: how it is rendered, and its shape."""
        return (self.render, self.shape)

    def clause(self, bind: Binder | None = None) -> ColumnElement[bool]:
        values = iter(self.values)
        clause = self.render(self.shape, values, bind or Binder())
        if next(values, _END) is not _END:
            raise AssertionError(f"{self.render.__qualname__} left values unbound")
        return clause


_END = object()
