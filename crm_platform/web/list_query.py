"""A record list's state as it travels in its URL (so a list can be bookmarked, shared and
reloaded): search `q`, `sort`, chosen columns `cols`, filter conditions as repeated
`field` / `op` / `value`, and the page `cursor`. Turned into the API's filter language, so
the page and the API find records the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from crm_platform.services.storage.filters import parse_filter

NO_VALUE = frozenset({"is_empty", "not_empty", "today", "this_week", "this_month"})
MANY_VALUES = frozenset({"in", "not_in", "between"})
COUNTED = frozenset({"last_n_days", "next_n_days"})
_SEPARATORS = re.compile(r"\s*[,，、]\s*")
MAX_CONDITIONS = 20
MAX_TRAIL = 30  # pages "Previous" can step back through


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
    node: Any = None  # a filter in the filter language as it is (a saved view's)
    page: int = 1  # the page's number, shown beside the pager
    trail: tuple[str, ...] = ()  # the cursors of the pages before it ("" for the first)

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ListQuery:
        fields, ops, values = (args.getlist(name) for name in ("field", "op", "value"))
        conditions = tuple(
            Condition(name, op, value) for name, op, value in zip(
                fields, ops, values + [""] * (len(fields) - len(values)), strict=False)
            if name and op)[:MAX_CONDITIONS]
        columns = tuple(dict.fromkeys(key for key in args.getlist("cols") if key))
        ids = tuple(int(value) for value in args.getlist("id") if value.isdigit())
        node = args.get("filter") or None  # JSON text: the filter service reads and checks it
        cursor = args.get("cursor") or None
        page = args.get("page", 1, type=int) if cursor else 1
        return cls(args.get("q", "").strip()[:200], args.get("sort", "")[:200], columns,
                   conditions, cursor, ids, node, max(1, min(page, 10**6)),
                   tuple(args.getlist("trail"))[-MAX_TRAIL:] if cursor else ())

    @classmethod
    def from_view(cls, definition: Mapping[str, Any]) -> ListQuery:
        """A saved view's list: its filter's plain conditions as rows, anything richer
        (or-groups, nesting) kept whole."""
        node = definition.get("filter")
        parts = node["and"] if isinstance(node, dict) and list(node) == ["and"] else [node]
        rows = [part for part in parts if isinstance(part, dict) and "field" in part
                and not isinstance(part.get("value"), dict)]
        rest = [part for part in parts if part is not None and part not in rows]
        conditions = tuple(Condition(
            str(row["field"]), str(row.get("op", "eq")),
            ", ".join(map(str, row["value"])) if isinstance(row.get("value"), list)
            else "" if row.get("value") is None else str(row["value"])) for row in rows)
        return cls(definition.get("search", ""), definition.get("sort", ""),
                   tuple(definition.get("columns", ())), conditions, None, (),
                   json.dumps(rest[0] if len(rest) == 1 else {"and": rest},
                              ensure_ascii=False) if rest else None)

    def filter(self) -> dict[str, Any] | None:
        nodes: list[Any] = [condition.as_filter() for condition in self.conditions]
        if self.node is not None:
            nodes.append(self.node if not isinstance(self.node, str) else parse_filter(self.node))
        if self.ids:
            nodes.append({"field": "id", "op": "in", "value": list(self.ids[:500])})
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else {"and": nodes}

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string's pairs, with `changes` (sort=…, cursor=…) applied."""
        return self._head(changes) + self._rest

    def _head(self, changes: dict[str, Any]) -> list[tuple[str, str]]:
        """The pairs a link may change: search, sort, the page and the way back to the
        pages before it (a link to another page, or another sort, starts afresh)."""
        moving = "cursor" in changes
        trail = changes.pop("trail", () if moving else self.trail)
        number = changes.pop("page", 1 if moving else self.page)
        state = {"q": self.search, "sort": self.sort, "cursor": self.cursor, **changes}
        pairs = [(name, str(value)) for name, value in state.items() if value]
        if state["cursor"]:
            pairs += [("page", str(number)), *(("trail", cursor) for cursor in trail)]
        return pairs

    def next_url(self, base: str, cursor: str) -> str:
        return self.url(base, cursor=cursor, page=self.page + 1,
                        trail=(*self.trail, self.cursor or "")[-MAX_TRAIL:])

    def previous_url(self, base: str) -> str | None:
        """The page before this one; None on the first, or when the way back is lost."""
        if not self.trail:
            return None
        return self.url(base, cursor=self.trail[-1] or None, page=self.page - 1,
                        trail=self.trail[:-1])

    @cached_property
    def _rest(self) -> list[tuple[str, str]]:
        """The pairs every link of a page keeps as they are: columns and filters."""
        pairs = [("cols", key) for key in self.columns]
        for condition in self.conditions:
            pairs += [("field", condition.field), ("op", condition.op),
                      ("value", condition.value)]
        pairs += [("id", str(record_id)) for record_id in self.ids]
        if self.node is not None:
            pairs.append(("filter", self.node if isinstance(self.node, str)
                          else json.dumps(self.node, ensure_ascii=False)))
        return pairs

    def url(self, base: str, **changes: Any) -> str:
        """`base` with this query (and `changes`); a page makes dozens of these links, so
        the part they share is encoded once."""
        query = "&".join(part for part in (urlencode(self._head(changes)), self._encoded_rest)
                         if part)
        return f"{base}?{query}" if query else base

    @cached_property
    def _encoded_rest(self) -> str:
        return urlencode(self._rest)

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
