"""A `unique` field stays unique under concurrent writers, on both databases: twenty
creates of one value at once make one record (the rest get the usual 409 naming the
field), and concurrent imports of the same codes make each code once."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import published_app

PRODUCT = {"key": "product", "fields": [
    {"key": "code", "type": "text", "unique": True, "indexed": True},
    {"key": "name", "type": "text"}]}
RECORDS = "/api/v1/apps/erp/forms/product/records"


@pytest.fixture
def products(client, tenant_a):
    published_app(client, tenant_a.headers, "erp", PRODUCT)
    return tenant_a.headers


def at_once(app, count: int, request) -> list:
    barrier = threading.Barrier(count)

    def one(index):
        client = app.test_client()
        barrier.wait()
        return request(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def codes(client, headers) -> list[str]:
    items = client.get(f"{RECORDS}?limit=200&sort=code", headers=headers).get_json()["items"]
    return [item["data"]["code"] for item in items]


def test_twenty_concurrent_creates_of_one_value_make_one_record(app, client,
                                                                products) -> None:
    for round_ in range(3):
        code = f"SKU-{round_}"
        answers = at_once(app, 20, lambda c, i, code=code: c.post(
            RECORDS, headers=products, json={"data": {"code": code, "name": f"try {i}"}}))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses.count(201) == 1, statuses
        refused = [a.get_json() for a in answers if a.status_code == 409]
        assert all(body["error"]["fields"][0]["path"] == "data.code" for body in refused)
        assert set(statuses) <= {201, 409, 503}
    assert codes(client, products) == ["SKU-0", "SKU-1", "SKU-2"]


def test_concurrent_imports_of_the_same_codes_make_each_once(app, client, products) -> None:
    sheet = ("code,name\n" + "".join(f"C{n:03},Item {n}\n" for n in range(100))).encode()

    def run(client, _index):
        return client.post("/api/v1/apps/erp/forms/product/imports", headers=products,
                           data={"file": (io.BytesIO(sheet), "p.csv"),
                                 "on_error": "valid_only"},
                           content_type="multipart/form-data")

    answers = at_once(app, 3, run)
    assert all(answer.status_code in (201, 503) for answer in answers), [
        a.get_json() for a in answers]
    assert codes(client, products)[:3] == ["C000", "C001", "C002"]
    listed = client.get(f"{RECORDS}?count=true&limit=1", headers=products).get_json()
    assert listed["count"] == 100
    made = sum(a.get_json()["created"] for a in answers if a.status_code == 201)
    assert made == 100
