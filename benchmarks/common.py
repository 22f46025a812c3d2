"""Shared helpers: timing loops and the JSON line every benchmark prints (DESIGN §9)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any


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
