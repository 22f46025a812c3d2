"""A batch of 1 000 new records over HTTP against the CSV import of the same rows.

The 20-field deal form (`benchmarks.records`), the same deals twice: as JSON items POSTed
to `/records/batch` (1 000 a request) and as CSV files of 1 000 rows POSTed to
`/imports`, both through the app's HTTP layer (Flask's test client: routing, auth, body
parsing, validation, the database, the JSON answer), on SQLite and PostgreSQL. The
baseline is the import's rows/s in the same run; target: the batch at ≥ 0.7× of it.

    python -m benchmarks.batches           # 5 batches and 5 imports of 1 000, both databases
    python -m benchmarks.batches --quick   # 2 of each
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from datetime import date, timedelta
from typing import Any

from benchmarks.common import report
from benchmarks.records import HEADERS, POSTGRES_URL, STAGES, loom, published_form

SIZE = 1_000


def deals(start: int, count: int) -> list[dict[str, Any]]:
    """Deals as typed JSON values, each with its own code."""
    rng = random.Random(start)
    first = date(2024, 1, 1)
    items = []
    for index in range(start, start + count):
        opened = first + timedelta(days=rng.randrange(700))
        items.append({
            "code": f"D{index:08d}", "name": f"客户 {index} 有限公司",
            "contact": rng.choice(["王芳", "李雷", "Han Meimei"]),
            "phone": f"+86138{index % 100_000_000:08d}",
            "email": f"buyer{index}@example{index % 50}.com", "stage": rng.choice(STAGES),
            "source": rng.choice(("web", "fair", "referral", "call")),
            "region": rng.choice(["华北", "华东", "华南", "西部"]),
            "amount": f"{rng.randrange(1_000, 5_000_000)}.{rng.randrange(100):02d}",
            "discount": rng.randrange(0, 30), "quantity": rng.randrange(1, 500),
            "probability": rng.randrange(0, 100), "opened": opened.isoformat(),
            "close_by": (opened + timedelta(days=rng.randrange(10, 120))).isoformat(),
            "hot": rng.choice([True, False]), "rating": rng.randrange(1, 6),
            "website": f"https://example{index % 50}.com",
            "industry": rng.choice(["制造", "零售", "教育"]),
            "notes": "跟进报价，客户关注交期。" * rng.randrange(0, 3)})
    return items


def as_csv(items: list[dict[str, Any]], keys: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for item in items:
        writer.writerow(["是" if item.get(key) is True else "否" if item.get(key) is False
                         else item.get(key, "") for key in keys])
    return buffer.getvalue().encode("utf-8-sig")


def rates(url: str, rounds: int) -> tuple[float, float]:
    """(batch rows/s, import rows/s) over HTTP on one database, rounds interleaved."""
    from decimal import Decimal

    from benchmarks.records import DEAL_FORM
    from crm_platform.db import database
    from crm_platform.models import ApiToken  # noqa: F401  (the token below)
    from crm_platform.scoping import TenantScope
    from crm_platform.services.identity.tokens import issue_token

    app = loom(url)
    tenant_id, user_id, _form_id = published_form(app)
    with app.app_context(), database(app).transaction() as session:
        from crm_platform.models import User

        _token, secret = issue_token(TenantScope(session, tenant_id),
                                     session.get(User, (tenant_id, user_id)), "bench", user_id)
    headers = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    keys = [field["key"] for field in DEAL_FORM["fields"]]
    batch_time = import_time = 0.0
    for round_ in range(rounds):
        items = deals(round_ * 2 * SIZE, SIZE)
        for item in items:
            item["amount"] = Decimal(item["amount"])
        started = time.perf_counter()
        response = client.post("/api/v1/apps/crm/forms/deal/records/batch", headers=headers,
                               json={"items": [{"data": item} for item in items]})
        batch_time += time.perf_counter() - started
        statuses = {item["status"] for item in response.get_json()["items"]}
        assert response.status_code == 200 and statuses == {201}, response.get_json()[
            "items"][:2]
        content = as_csv(deals(round_ * 2 * SIZE + SIZE, SIZE), keys)
        started = time.perf_counter()
        response = client.post("/api/v1/apps/crm/forms/deal/imports", headers=headers,
                               data={"file": (io.BytesIO(content), "deals.csv")},
                               content_type="multipart/form-data")
        import_time += time.perf_counter() - started
        assert response.status_code == 201 and response.get_json()["created"] == SIZE, (
            response.get_json())
    app.extensions["loom.db"].dispose()
    return rounds * SIZE / batch_time, rounds * SIZE / import_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 rounds instead of 5")
    args = parser.parse_args()
    rounds = 2 if args.quick else 5
    with tempfile.TemporaryDirectory() as folder:
        for label, url in (("sqlite", f"sqlite:///{folder}/batches.db"),
                           ("postgresql", POSTGRES_URL)):
            batch, imported = rates(url, rounds)
            report("batches", f"batch_rows_per_second_{label}", batch, "rows/s",
                   "CSV import of the same rows over HTTP (rows/s)", imported)


if __name__ == "__main__":
    main()
