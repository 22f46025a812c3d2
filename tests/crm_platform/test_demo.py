"""`loom demo`'s sales app: a working pipeline with people who can sign in and see what
their role allows, made once and kept."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_platform.cli import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TENANT
from crm_platform.cli_support import prepare_demo
from crm_platform.jobs import wait_for_jobs
from crm_platform.models import Record
from tests.conftest import bearer

FORMS = "/api/v1/apps/sales/forms"


def _token(client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={
        "tenant": DEMO_TENANT, "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 201, response.get_json()
    return bearer(response.get_json()["token"])


def _count(client, headers, form: str) -> int:
    body = client.get(f"{FORMS}/{form}/records?limit=1&count=true", headers=headers)
    return body.get_json()["count"]


def test_the_demo_is_a_sales_pipeline_each_role_sees_its_share_of(app, client, db):
    with app.app_context(), db.transaction() as session:
        created, people = prepare_demo(session, DEMO_TENANT, DEMO_EMAIL, DEMO_PASSWORD)
    wait_for_jobs(app)
    assert created and {person.role for person in people} == {"sales", "manager"}
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 200
    admin, manager = _token(client, DEMO_EMAIL), _token(client, "manager@demo.loom.example")
    sales, emily = _token(client, "sales@demo.loom.example"), _token(
        client, "emily@demo.loom.example")
    assert _count(client, admin, "deal") == _count(client, manager, "deal") == 80
    assert _count(client, sales, "deal") + _count(client, emily, "deal") == 80
    assert 0 < _count(client, sales, "deal") < 80
    stages = client.get(f"{FORMS}/deal", headers=admin).get_json()
    assert [option["value"] for option in next(
        field for field in stages["published"]["definition"]["fields"]
        if field["key"] == "stage")["options"]][:2] == ["lead", "qualified"]
    names = [item["data"]["name"] for item in client.get(
        f"{FORMS}/customer/records?limit=60", headers=admin).get_json()["items"]]
    assert any("有限公司" in name for name in names) and any(name.isascii() for name in names)

    with app.app_context(), db.transaction() as session:
        again, added = prepare_demo(session, DEMO_TENANT, DEMO_EMAIL, DEMO_PASSWORD)
    assert (again, added) == (False, [])
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 200
