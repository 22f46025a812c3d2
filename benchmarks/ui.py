"""The workspace's pages against the JSON API call that returns the same data.

A form of 20 fields (text, numbers, money, selects, dates, a phone, an e-mail …) with
100 000 records in SQLite (10 000 with --quick). Measured in-process through the Flask
test client, in interleaved rounds so a slow spell hits both alike:

- the list page — 50 rows of all 20 columns, the first page of the default order — against
  `GET …/records?limit=50` (the same 50 records, JSON);
- a record's page against `GET …/records/{id}`.

`ratio` is the API's p95 ÷ the page's (≥ 0.67 means the page takes ≤ 1.5× the API call).

    python -m benchmarks.ui            # 100 000 records
    python -m benchmarks.ui --quick    # 10 000 records
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from benchmarks.common import insert_records, report
from benchmarks.records import loom, percentile, published_form

ROUNDS = 6
PER_ROUND = 25
STAGES = ["lead", "qualified", "proposal", "won", "lost"]
FORM = {"key": "deal", "label": {"en": "Deals", "zh": "商机"}, "title": "{name}", "fields": [
    {"key": "name", "type": "text"}, {"key": "code", "type": "text"},
    {"key": "stage", "type": "select", "options": [{"value": value} for value in STAGES]},
    {"key": "region", "type": "select", "options": [{"value": "north"}, {"value": "south"}]},
    {"key": "amount", "type": "currency", "currency": "CNY"},
    {"key": "cost", "type": "currency", "currency": "CNY"},
    {"key": "discount", "type": "percent"}, {"key": "units", "type": "number"},
    {"key": "probability", "type": "number"}, {"key": "close_date", "type": "date"},
    {"key": "signed_on", "type": "date"}, {"key": "phone", "type": "phone"},
    {"key": "email", "type": "email"}, {"key": "city", "type": "text"},
    {"key": "street", "type": "text"}, {"key": "note", "type": "textarea"},
    {"key": "source", "type": "select", "options": [{"value": "web"}, {"value": "fair"}]},
    {"key": "rating", "type": "rating"}, {"key": "vip", "type": "boolean"},
    {"key": "website", "type": "url"}]}


def deal(rng: random.Random, index: int) -> dict[str, Any]:
    day = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
    return {"name": f"客户 {index} 有限公司", "code": f"D{index:08d}",
            "stage": rng.choice(STAGES), "region": rng.choice(["north", "south"]),
            "amount": Decimal(rng.randrange(100_000, 50_000_000)) / 100,
            "cost": Decimal(rng.randrange(10_000, 5_000_000)) / 100,
            "discount": rng.randrange(0, 30), "units": rng.randrange(1, 500),
            "probability": rng.randrange(0, 100), "close_date": day.isoformat(),
            "signed_on": (day - timedelta(days=30)).isoformat(),
            "phone": f"+86138{rng.randrange(10**7, 10**8)}",
            "email": f"buyer{index}@example.com", "city": rng.choice(["北京", "上海", "深圳"]),
            "street": f"{rng.randrange(1, 999)} 号", "note": "重要客户，按季度回访。",
            "source": rng.choice(["web", "fair"]), "rating": rng.randrange(1, 6),
            "vip": rng.random() < 0.2, "website": f"https://shop{index}.example.com"}


def load(url: str, tenant_id: int, form_id: int, user_id: int, count: int) -> None:
    rng = random.Random(11)
    insert_records(url, tenant_id, form_id, user_id, (deal(rng, index)
                                                      for index in range(count)))


def timed(client: Any, path: str, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=headers or {})
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count = 10_000 if args.quick else 100_000
    url = f"sqlite:///{tempfile.mkdtemp()}/ui.db"
    app = loom(url)
    tenant_id, user_id, form_id = published_form(app, FORM)
    load(url, tenant_id, form_id, user_id, count)
    api = app.test_client()
    token = api.post("/api/v1/auth/token", json={
        "tenant": "bench", "email": "admin@bench.example",
        "password": "correct horse 9"}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    pages = app.test_client()
    login = pages.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    pages.post("/login", data={"tenant": "bench", "email": "admin@bench.example",
                               "password": "correct horse 9", "csrf_token": csrf})
    columns = "&".join(f"cols={field['key']}" for field in FORM["fields"])
    ids = [row["id"] for row in api.get("/api/v1/apps/crm/forms/deal/records?limit=200",
                                        headers=bearer).get_json()["items"]]
    times: dict[str, list[float]] = {"list": [], "list_api": [], "record": [],
                                     "record_api": []}
    rng = random.Random(3)
    for _round in range(ROUNDS):  # interleaved: a slow spell hits both alike
        for _ in range(PER_ROUND):
            times["list"].append(timed(pages, f"/apps/crm/deal?{columns}"))
            times["list_api"].append(timed(api, "/api/v1/apps/crm/forms/deal/records"
                                                "?limit=50", bearer))
            record_id = rng.choice(ids)
            times["record"].append(timed(pages, f"/apps/crm/deal/{record_id}"))
            times["record_api"].append(timed(api, f"/api/v1/apps/crm/forms/deal/records/"
                                                  f"{record_id}", bearer))
    for name in ("list", "record"):
        report("ui", f"{name}_page_p95_ms_{count}", percentile(times[name], 95), "ms",
               f"{name}_api_p95_ms", percentile(times[f"{name}_api"], 95),
               higher_is_better=False)


if __name__ == "__main__":
    main()
