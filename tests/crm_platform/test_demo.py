"""`loom demo`: the four template apps with their sample data, a person for each role who
signs in and sees what their role allows, made once and kept."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_platform.cli import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TENANT
from crm_platform.cli_support import prepare_demo
from crm_platform.jobs import wait_for_jobs
from crm_platform.models import Record, TemplateInstall
from templates_gallery.bundles import shipped
from tests.conftest import bearer

SALES = "/api/v1/apps/sales/forms"


def _token(client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={
        "tenant": DEMO_TENANT, "email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 201, response.get_json()
    return bearer(response.get_json()["token"])


def _count(client, headers, form: str, app: str = "sales") -> int:
    body = client.get(f"/api/v1/apps/{app}/forms/{form}/records?limit=1&count=true",
                      headers=headers)
    assert body.status_code == 200, body.get_json()
    return body.get_json()["count"]


def test_the_demo_installs_the_four_templates_and_each_role_sees_its_share(app, client, db):
    with app.app_context(), db.transaction() as session:
        created, people = prepare_demo(session, DEMO_TENANT, DEMO_EMAIL, DEMO_PASSWORD)
    wait_for_jobs(app)
    assert created and {person.email.split("@")[0] for person in people} == {
        "manager", "sales", "emily", "service", "finance", "director"}
    with db.transaction() as session:
        installs = {row.template_key: row.version for row in session.scalars(
            select(TemplateInstall))}
        assert installs == {key: bundle["manifest"]["version"]
                            for key, bundle in shipped().items()}
        assert set(installs) == {"sales_core", "manufacturing", "education", "retail"}
        total = session.scalar(select(func.count()).select_from(Record))
    admin = _token(client, DEMO_EMAIL)
    apps = [item["key"] for item in client.get("/api/v1/apps", headers=admin
                                               ).get_json()["items"]]
    assert apps == ["sales", "manufacturing", "education", "retail"]
    customers = _count(client, admin, "customer")
    assert customers >= 50
    for app_key, form in (("manufacturing", "service_ticket"), ("education", "enrollment"),
                          ("retail", "member")):
        assert _count(client, admin, form, app_key) >= 50

    sales, emily = _token(client, "sales@demo.loom.example"), _token(
        client, "emily@demo.loom.example")
    director = _token(client, "director@demo.loom.example")
    mine, hers = _count(client, sales, "customer"), _count(client, emily, "customer")
    assert 0 < mine < customers and 0 < hers < customers
    assert _count(client, director, "customer") == customers
    names = [item["data"]["name"] for item in client.get(
        f"{SALES}/customer/records?limit=60", headers=admin).get_json()["items"]]
    assert any("有限公司" in name for name in names)

    with app.app_context(), db.transaction() as session:
        again, added = prepare_demo(session, DEMO_TENANT, DEMO_EMAIL, DEMO_PASSWORD)
    assert (again, added) == (False, [])
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == total
