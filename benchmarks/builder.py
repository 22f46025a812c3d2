"""The form builder on a 200-field form: server time of opening it, of a drag (a field moved
to another section), of a property change, of undo, and of the preview, each against
rendering the same form's entry page in the same run (in-process, SQLite, the Flask test
client; rounds interleaved). Target: every builder answer ≤ 100 ms at p95.

`ratio` is the entry page's p95 ÷ the builder answer's (the builder does more: the palette,
the canvas, the panel, a saved step).

    python -m benchmarks.builder
    python -m benchmarks.builder --quick     # fewer rounds
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from typing import Any

from benchmarks.common import report
from benchmarks.records import loom, percentile, published_form

TYPES = ["text", "number", "currency", "date", "select", "phone", "email", "textarea",
         "percent", "boolean"]


def big_form(size: int = 200) -> dict[str, Any]:
    fields = []
    for index in range(size):
        kind = TYPES[index % len(TYPES)]
        field: dict[str, Any] = {"key": f"f{index:03d}", "type": kind,
                                 "label": {"en": f"Field {index}", "zh": f"字段 {index}"}}
        if kind == "select":
            field["options"] = [{"value": value} for value in ("a", "b", "c")]
        if index % 7 == 3:
            field["visible_if"] = f"f{index - 3:03d} != ''"
        fields.append(field)
    keys = [field["key"] for field in fields]
    layout = [{"section": {"en": f"Part {part}"}, "columns": 2,
               "fields": keys[part * 20:(part + 1) * 20]} for part in range(size // 20)]
    return {"key": "big", "label": {"en": "Big", "zh": "大表单"}, "fields": fields,
            "layout": layout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 10 if args.quick else 40
    app = loom(f"sqlite:///{tempfile.mkdtemp()}/builder.db")
    published_form(app, big_form())
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"tenant": "bench", "email": "admin@bench.example",
                                "password": "correct horse 9", "csrf_token": csrf})
    base = "/apps/crm/big"
    hx = {"HX-Request": "true"}
    revision = [0]

    def timed(method: str, path: str, data: dict[str, str] | None = None) -> float:
        started = time.perf_counter()
        response = client.open(path, method=method, data=data, headers=hx if data else {})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        found = re.search(r'data-revision="(\d+)"', response.get_data(as_text=True))
        if found:
            revision[0] = int(found.group(1))
        return elapsed

    def step(op: str, **values: str) -> float:
        return timed("POST", f"{base}/design/step", {"csrf_token": csrf, "op": op,
                                                     "revision": str(revision[0]), **values})

    times: dict[str, list[float]] = {name: [] for name in (
        "entry", "open", "drag", "property", "undo", "preview")}
    opened = client.get(f"{base}/design").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', opened).group(1)  # the session's
    revision[0] = int(re.search(r'data-revision="(\d+)"', opened).group(1))
    for round_ in range(rounds):
        times["entry"].append(timed("GET", f"{base}/new"))
        times["open"].append(timed("GET", f"{base}/design?field=f010"))
        times["drag"].append(step("move", key="f010", section=str(1 + round_ % 5),
                                  index="3", field="f010"))
        times["property"].append(step("set", key="f010", option="label",
                                      en=f"Field ten {round_}", zh=f"字段十 {round_}"))
        times["undo"].append(timed("POST", f"{base}/design/undo", {
            "csrf_token": csrf, "revision": str(revision[0]), "field": "f010"}))
        times["preview"].append(timed("GET", f"{base}/design/preview?lang=zh"))
    entry = percentile(times["entry"], 95)
    for name in ("open", "drag", "property", "undo", "preview"):
        report("builder", f"{name}_p95_ms_200_fields", percentile(times[name], 95), "ms",
               "entry_page_p95_ms_200_fields", entry, higher_is_better=False)


if __name__ == "__main__":
    main()
