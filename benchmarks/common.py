"""Shared helpers: timing loops and the JSON line every benchmark prints (DESIGN §9)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import simplejson


def rate(function: Callable[[Any], Any], items: Sequence[Any], repeat: int = 3,
         reset: Callable[[], None] | None = None) -> float:
    """Best items-per-second over `repeat` passes (the least disturbed pass); `reset` runs
    before each pass so no pass profits from caches filled by the one before."""
    best = 0.0
    for _ in range(repeat):
        if reset is not None:
            reset()
        started = time.perf_counter()
        for item in items:
            function(item)
        elapsed = time.perf_counter() - started
        best = max(best, len(items) / elapsed)
    return best


def rates(contenders: Sequence[tuple[Callable[[Any], Any], Sequence[Any]]], repeat: int = 5,
          reset: Callable[[], None] | None = None) -> list[float]:
    """Best items-per-second of each (function, items), their passes interleaved so that a
    slow spell of a shared machine hits every contender alike, not just the one it met."""
    best = [0.0] * len(contenders)
    for _ in range(repeat):
        for index, (function, items) in enumerate(contenders):
            best[index] = max(best[index], rate(function, items, repeat=1, reset=reset))
    return best


def report(bench: str, metric: str, value: float, unit: str, baseline: str,
           baseline_value: float, higher_is_better: bool = True) -> dict[str, Any]:
    ratio = value / baseline_value if higher_is_better else baseline_value / value
    line = {"bench": bench, "metric": metric, "value": round(value, 2), "unit": unit,
            "baseline": baseline, "baseline_value": round(baseline_value, 2),
            "ratio": round(ratio, 2)}
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line


def insert_records(url: str, tenant_id: int, form_id: int, user_id: int,
                   data: Iterable[dict[str, Any]], batch_size: int = 20_000) -> None:
    """Records written straight into the records table (as an import stores them), owned,
    created and changed by `user_id`, then ANALYZE — a large form in seconds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        next_id = connection.execute(text("SELECT coalesce(max(id), 0) FROM records")
                                     ).scalar() + 1
        batch: list[tuple[Any, ...]] = []

        def flush() -> None:
            connection.exec_driver_sql(
                "INSERT INTO records (id, tenant_id, form_id, form_version, data, owner_id, "
                "created_by_id, updated_by_id, version, locked, created_at, updated_at) "
                "VALUES (?, ?, ?, 1, ?, ?, ?5, ?5, 1, 0, '2026-01-01 00:00:00.000000', "
                "'2026-01-01 00:00:00.000000')", batch)
            batch.clear()

        for values in data:
            batch.append((next_id, tenant_id, form_id, simplejson.dumps(
                values, use_decimal=True, ensure_ascii=False), user_id))
            next_id += 1
            if len(batch) == batch_size:
                flush()
        if batch:
            flush()
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
