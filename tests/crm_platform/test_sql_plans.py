"""Plans rendered apart and put into one statement keep their own values: a filter's
value never stands in for the caller's scope (a permission) or the other way round."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, select

from crm_platform.models import Record
from crm_platform.services.storage.sql_plans import Binder, Plan


def _owner(shape: Any, values: Iterator[Any], bind: Binder) -> ColumnElement[bool]:
    return Record.owner_id == bind(next(values), Record.owner_id.type)


def test_clauses_rendered_apart_keep_their_values() -> None:
    mine, theirs = Plan(_owner, ("owner",), (1,)), Plan(_owner, ("owner",), (2,))
    compiled = select(Record.id).where(mine.clause(), theirs.clause()).compile()
    assert sorted(compiled.params.values()) == [1, 2]


def test_one_named_binder_numbers_a_statement_in_order() -> None:
    bind = Binder(named=True)
    mine, theirs = Plan(_owner, ("owner",), (1,)), Plan(_owner, ("owner",), (2,))
    compiled = select(Record.id).where(mine.clause(bind), theirs.clause(bind)).compile()
    assert compiled.params == {"q0": 1, "q1": 2}
