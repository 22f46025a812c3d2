"""A record list's state as it travels in its URL (so a list can be bookmarked, shared and
reloaded): search `q`, `sort`, chosen columns `cols`, filter conditions as repeated
`field` / `op` / `value`, and the page `cursor`. Turned into the API's filter language, so
the page and the API find records the same way."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

NO_VALUE = frozenset({"is_empty", "not_empty", "today", "this_week", "this_month"})
MANY_VALUES = frozenset({"in", "not_in", "between"})
COUNTED = frozenset({"last_n_days", "next_n_days"})
_SEPARATORS = re.compile(r"\s*[,，、]\s*")
MAX_CONDITIONS = 20


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str

    def as_filter(self) -> dict[str, Any]:
        """The condition in the filter language; values stay text (each field reads its
        own, as when a person types it)."""
        node: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op in MANY_VALUES:
            node["value"] = [part for part in _SEPARATORS.split(self.value.strip()) if part]
        elif self.op in COUNTED:
            node["value"] = int(self.value) if self.value.strip().isdigit() else self.value
        elif self.op not in NO_VALUE:
            node["value"] = self.value
        return node


@dataclass(frozen=True)
class ListQuery:
    search: str = ""
    sort: str = ""
    columns: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    cursor: str | None = None
    ids: tuple[int, ...] = field(default=())  # "export the selected records"

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ListQuery:
        fields, ops, values = (args.getlist(name) for name in ("field", "op", "value"))
        conditions = tuple(
            Condition(name, op, value) for name, op, value in zip(
                fields, ops, values + [""] * (len(fields) - len(values)), strict=False)
            if name and op)[:MAX_CONDITIONS]
        columns = tuple(dict.fromkeys(key for key in args.getlist("cols") if key))
        ids = tuple(int(value) for value in args.getlist("id") if value.isdigit())
        return cls(args.get("q", "").strip()[:200], args.get("sort", "")[:200], columns,
                   conditions, args.get("cursor") or None, ids)

    def filter(self) -> dict[str, Any] | None:
        nodes = [condition.as_filter() for condition in self.conditions]
        if self.ids:
            nodes.append({"field": "id", "op": "in", "value": list(self.ids[:500])})
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else {"and": nodes}

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string's pairs, with `changes` (sort=…, cursor=…) applied."""
        state = {"q": self.search, "sort": self.sort, "cursor": self.cursor, **changes}
        pairs = [(name, str(value)) for name, value in state.items() if value]
        pairs += [("cols", key) for key in self.columns]
        for condition in self.conditions:
            pairs += [("field", condition.field), ("op", condition.op),
                      ("value", condition.value)]
        pairs += [("id", str(record_id)) for record_id in self.ids]
        return pairs

    def url(self, base: str, **changes: Any) -> str:
        pairs = self.params(**changes)
        return f"{base}?{urlencode(pairs)}" if pairs else base

    def sort_link(self, key: str) -> str:
        """The sort a column header's link sets: ascending first, then descending."""
        return f"-{key}" if self.sort == key else key

    def sorted_by(self, key: str) -> str | None:
        """aria-sort of a column: ascending, descending or none."""
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return None


def query_from(args: Mapping[str, Any] | MultiDict[str, str]) -> ListQuery:
    return ListQuery.from_args(args if isinstance(args, MultiDict) else MultiDict(args))
