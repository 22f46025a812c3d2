"""What validation needs from the world, passed in as data: locale, mode, the stored record,
the clock, the user, and a resolver the platform implements for database questions."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol


class Resolver(Protocol):
    """Questions only the platform can answer; every method must be tenant-scoped."""

    def missing_references(self, target: str, form: str | None, ids: Collection[int]
                           ) -> Collection[int]:
        """Of `ids`, those that do not exist: target is 'user', 'department' or 'record'
        (then `form` is the looked-up form's key)."""

    def related_rollup(self, form: str, link_field: str, column: str | None, function: str,
                       record_id: int | None, result: str = "number",
                       where: Mapping[str, Any] | None = None,
                       now: datetime | None = None) -> Any:
        """sum/count/avg/min/max of `column` over records of `form` whose `link_field`
        points at `record_id` (and that the filter `where` picks, relative dates counted
        from `now`, in the tenant's zone); `result` "date" or "datetime" (min and max
        only): of a date (date-time) column, as its ISO text or value."""

    def next_sequence(self, field_key: str, period: str) -> int:
        """The next autonumber for `field_key` in `period` ('' when it never resets)."""


@dataclass
class ValidationContext:
    locale: str = "en"
    # "json": the API's strict JSON; "input": what people type (forms, CSV, Excel).
    mode: str = "json"
    # The stored record's data when updating (None when creating).
    existing: Mapping[str, Any] | None = None
    # Automations and flows may write read-only fields.
    system: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    user: Mapping[str, Any] = field(default_factory=dict)
    resolver: Resolver | None = None
    record_id: int | None = None
    # Autonumbers are drawn only when asked (the platform asks when it saves).
    assign_numbers: bool = False
    # The tenant's zone for today()/now() and autonumber dates (default: the form's env).
    timezone: tzinfo | None = None
    # One evaluator serves every record validated with this context (imports, batches).
    evaluator: Any = field(default=None, repr=False, compare=False)

    @property
    def creating(self) -> bool:
        return self.existing is None

    @property
    def lenient(self) -> bool:
        return self.mode == "input"
