"""The sales core template, as a sales team lives it: installed into a tenant, its North
leads are shared out in turn among the North reps; a customer nobody follows up for 30 days
goes back to the pool (公海); a deal 15 days in quotation reminds its owner once; a quote
with a 15 % discount needs the sales manager, one above a million then the director and
finance; 1 000 000 in quotation at 30 % forecasts 300 000."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_platform.auth.login import principal_for
from crm_platform.db import utcnow
from crm_platform.errors import ValidationFailed
from crm_platform.models import Form, Record, User
from crm_platform.scoping import TenantScope
from crm_platform.services.flows.definitions import CHECKERS
from crm_platform.services.flows.schedules import run_scheduled_rules
from crm_platform.services.templates.checks import checked_bundle
from crm_platform.services.templates.install import install_bundle
from form_engine.checks import check_definition
from form_engine.compiler import compile_form
from templates_gallery.bundles import BUNDLES_DIR, read_bundle
from templates_gallery.schema import BUNDLE_VALIDATOR
from tests.conftest import bearer, created

BUNDLE = read_bundle((BUNDLES_DIR / "sales_core.json").read_bytes())
API = "/api/v1/apps/sales/forms"
MAIN_FORMS = ("customer", "contact", "lead", "opportunity", "follow_up")


# -- the bundle itself ---------------------------------------------------------------------
def test_the_bundle_passes_every_check() -> None:
    assert list(BUNDLE_VALIDATOR.iter_errors(BUNDLE)) == []
    keys = {form["key"] for form in BUNDLE["forms"]}
    assert keys == {"customer", "contact", "lead", "opportunity", "follow_up", "quote",
                    "contract", "payment"}
    fields = {}
    for form in BUNDLE["forms"]:
        assert check_definition(form, known_forms=keys) == [], form["key"]
        fields[form["key"]] = {item.key: item.type
                               for item in compile_form(form, checked=True).fields}
    for kind, part in (("approval", "flows"), ("automation", "automations")):
        for definition in BUNDLE[part]:
            assert CHECKERS[kind](definition, fields[definition["form"]]) == [], \
                definition["key"]
    checked_bundle(BUNDLE, "en")   # references between the pieces, as an install checks


def _texts(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every label-like value of the bundle (labels, options, messages, sections)."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("label", "name", "description", "message", "section", "help") and (
                    not path.startswith("sample_data")):
                yield f"{path}.{name}", item
            else:
                yield from _texts(item, f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]")


def test_every_text_is_in_english_and_chinese() -> None:
    texts = list(_texts({key: value for key, value in BUNDLE.items()
                         if key != "sample_data"}))
    assert len(texts) > 250
    for path, text in texts:
        if path.endswith(".name") and isinstance(text, str):
            continue   # a field's key named "name" in a subtable, never a label
        assert isinstance(text, dict) and set(text) == {"en", "zh"}, path
        assert all(text.values()), path


def test_the_sample_data_is_plentiful_and_realistic() -> None:
    samples = BUNDLE["sample_data"]
    for form in MAIN_FORMS:
        assert len(samples[form]) >= 50, form
    for form in ("quote", "contract", "payment"):
        assert len(samples[form]) >= 20, form
    phones = [row["data"]["phone"] for row in samples["customer"]]
    assert len(set(phones)) == len(phones) and all(p.startswith("+861") for p in phones)
    assert sum("有限公司" in row["data"]["name"] for row in samples["customer"]) > 30
    assert {row["owner_role"] for row in samples["customer"]} == {"sales"}


# -- installed into a tenant ---------------------------------------------------------------
@dataclass
class Team:
    tenant: Any
    ids: dict[str, int]
    headers: dict[str, dict[str, str]]


def _install(app: Any, db: Any, tenant_id: int, admin_id: int, sample_data: bool) -> None:
    with app.app_context(), db.transaction() as session:
        scope = TenantScope(session, tenant_id)
        admin = scope.find(User, admin_id)
        try:
            install_bundle(scope, principal_for(session, admin, "session"), BUNDLE,
                           sample_data=sample_data)
        except ValidationFailed as error:   # name what was refused
            raise AssertionError([(item.path, item.code, item.params)
                                  for item in error.fields]) from None


PEOPLE = {  # who, with which roles
    "north_1": ["sales", "sales_north"], "north_2": ["sales", "sales_north"],
    "east_1": ["sales", "sales_east"], "manager": ["sales_manager"],
    "director": ["director"], "finance_1": ["finance"], "finance_2": ["finance"],
    "service_1": ["service"],
}


def _team(client: Any, db: Any, tenant: Any, sample_data: bool = False) -> Team:
    """The template's roles (made first, as an administrator would, so that the sample
    records are shared out among the people), a sales department and its people, then the
    template installed."""
    post = partial(created, client, headers=tenant.headers)
    roles = {role["key"]: post("/api/v1/admin/roles", {"key": role["key"],
                                                        "name": role["name"]["en"]})["id"]
             for role in BUNDLE["roles"]}
    department = post("/api/v1/admin/departments", {"name": "Sales"})["id"]
    ids, headers = {}, {}
    for name, keys in PEOPLE.items():
        ids[name] = post("/api/v1/admin/users", {
            "email": f"{name}@{tenant.slug}.example", "name": name,
            "department_id": department, "roles": [roles[key] for key in keys]})["id"]
        token = post("/api/v1/admin/tokens", {"user_id": ids[name], "name": name})["token"]
        headers[name] = bearer(token)
    headers["admin"] = tenant.headers
    _install(client.application, db, tenant.id, tenant.admin_id, sample_data)
    return Team(tenant, ids, headers)


@pytest.fixture
def team(client, db, tenant_a) -> Team:
    return _team(client, db, tenant_a)


def new(client: Any, team: Team, form: str, who: str = "north_1", **data: Any) -> dict:
    response = client.post(f"{API}/{form}/records", json={"data": data},
                           headers=team.headers[who])
    assert response.status_code == 201, response.get_json()
    return read(client, team, form, response.get_json()["id"])


def read(client: Any, team: Team, form: str, record: int, who: str = "admin") -> dict:
    response = client.get(f"{API}/{form}/records/{record}", headers=team.headers[who])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def notes(client: Any, team: Team, who: str, rule: str | None = None) -> list[dict]:
    items = client.get("/api/v1/notifications", headers=team.headers[who]).get_json()["items"]
    return [item for item in items if rule is None or item["payload"].get("rule") == rule]


def test_north_leads_are_shared_round_robin_among_the_north_reps(client, team) -> None:
    north = [new(client, team, "lead", "east_1", name=f"Lead {i}", phone=f"+861380000000{i}",
                 region="north")["owner"] for i in range(4)]
    assert north == [team.ids["north_1"], team.ids["north_2"]] * 2
    central = new(client, team, "lead", "north_1", name="Zhou", email="zhou@example.com",
                  region="central")
    assert central["owner"] == team.ids["east_1"]     # East and Central: the East group
    assert [n["payload"]["rule"] for n in notes(client, team, "north_2")] == [
        "lead_to_north"] * 2
    refused = client.post(f"{API}/lead/records", json={"data": {"name": "No way to reach"}},
                          headers=team.headers["north_1"])
    assert refused.status_code == 422                 # a phone or an e-mail is needed


def test_a_customer_not_followed_up_for_30_days_goes_back_to_the_pool(client, team) -> None:
    today = date.today()
    quiet = new(client, team, "customer", name="北京恒达科技有限公司", region="north",
                phone="+8613900000001")
    new(client, team, "follow_up", customer=quiet["id"], kind="call", summary="电话沟通需求")
    busy = new(client, team, "customer", name="天津远航贸易有限公司", region="north",
               phone="+8613900000002", assigned_on=(today - timedelta(days=90)).isoformat())
    for days in (40, 10):
        new(client, team, "follow_up", customer=busy["id"], kind="visit", summary="拜访",
            date=(today - timedelta(days=days)).isoformat())
    busy = read(client, team, "customer", busy["id"])
    assert busy["data"]["last_follow_up"] == (today - timedelta(days=10)).isoformat()
    assert busy["data"]["follow_ups"] == 2
    assert read(client, team, "customer", quiet["id"])["data"]["last_follow_up"] == (
        today.isoformat())
    duplicate = client.post(f"{API}/customer/records", headers=team.headers["north_2"],
                            json={"data": {"name": "Another", "phone": "+8613900000001"}})
    assert duplicate.status_code == 409                 # the same phone: the same customer

    app = client.application
    run_scheduled_rules(app, now=utcnow() + timedelta(days=19))
    assert read(client, team, "customer", busy["id"])["owner"] == team.ids["north_1"]
    run_scheduled_rules(app, now=utcnow() + timedelta(days=21))   # 31 days since the visit
    assert read(client, team, "customer", busy["id"])["owner"] is None
    assert read(client, team, "customer", quiet["id"])["owner"] == team.ids["north_1"]
    run_scheduled_rules(app, now=utcnow() + timedelta(days=29))   # not before 30 days
    assert read(client, team, "customer", quiet["id"])["owner"] == team.ids["north_1"]
    run_scheduled_rules(app, now=utcnow() + timedelta(days=31))
    assert read(client, team, "customer", quiet["id"])["owner"] is None
    history = client.get(f"{API}/customer/records/{quiet['id']}/history",
                         headers=team.headers["admin"]).get_json()["items"]
    assert "release" in [entry["action"] for entry in history]
    assert len(notes(client, team, "north_1", "customer_to_pool")) == 2
    # In the pool: every salesperson sees it, and another one claims it.
    pool = client.get(f"{API}/customer/records?count=true", headers=team.headers["east_1"])
    assert quiet["id"] in [item["id"] for item in pool.get_json()["items"]]
    claimed = client.post(f"{API}/customer/records/{quiet['id']}/claim",
                          headers=team.headers["east_1"])
    assert claimed.status_code == 200, claimed.get_json()
    assert claimed.get_json()["owner"] == team.ids["east_1"]
    late = client.post(f"{API}/customer/records/{quiet['id']}/claim",
                       headers=team.headers["north_2"])
    assert late.status_code == 409                      # already claimed
    gone = client.get(f"{API}/customer/records/{quiet['id']}", headers=team.headers["north_1"])
    assert gone.status_code == 404                      # no longer the rep's customer
    # A claim starts the claimer's 30 days again: "Assigned on" is set by itself.
    reclaimed = client.post(f"{API}/customer/records/{busy['id']}/claim",
                            headers=team.headers["east_1"])
    assert reclaimed.status_code == 200, reclaimed.get_json()
    assert reclaimed.get_json()["data"]["assigned_on"] == today.isoformat()
    run_scheduled_rules(app, now=utcnow() + timedelta(days=25))   # 35 days since the visit
    assert read(client, team, "customer", busy["id"])["owner"] == team.ids["east_1"]
    run_scheduled_rules(app, now=utcnow() + timedelta(days=32))   # 32 days since the claim
    assert read(client, team, "customer", busy["id"])["owner"] is None


def test_fifteen_days_in_quotation_reminds_the_owner_once(client, team) -> None:
    customer = new(client, team, "customer", "east_1", name="上海启明信息技术有限公司",
                   region="east", phone="+8613900000003")
    deal = new(client, team, "opportunity", "east_1", name="CRM 系统采购",
               customer=customer["id"], stage="needs_confirmed", amount=500000)
    response = client.patch(f"{API}/opportunity/records/{deal['id']}",
                            json={"data": {"stage": "quotation"}},
                            headers=team.headers["east_1"])
    assert response.status_code == 200, response.get_json()
    app = client.application
    run_scheduled_rules(app, now=utcnow() + timedelta(days=14))
    assert notes(client, team, "east_1", "quotation_stuck") == []
    run_scheduled_rules(app, now=utcnow() + timedelta(days=15, hours=1))
    reminded = notes(client, team, "east_1", "quotation_stuck")
    assert [note["record"] for note in reminded] == [deal["id"]]
    run_scheduled_rules(app, now=utcnow() + timedelta(days=16))
    assert len(notes(client, team, "east_1", "quotation_stuck")) == 1     # once
    assert notes(client, team, "north_1", "quotation_stuck") == []


def test_the_weighted_forecast(client, team) -> None:
    customer = new(client, team, "customer", name="深圳海纳电子有限公司", region="south",
                   phone="+8613900000004")
    deal = new(client, team, "opportunity", name="仓储管理系统", customer=customer["id"],
               stage="quotation", amount=1000000)
    # 100 万 in quotation at 30 % -> 30 万
    assert Decimal(str(deal["data"]["probability"])) == 30
    assert Decimal(str(deal["data"]["weighted_amount"])) == Decimal("300000")
    expected = {"first_contact": 100000, "needs_confirmed": 200000, "negotiation": 600000,
                "won": 1000000}
    for stage, weighted in expected.items():
        changed = client.patch(f"{API}/opportunity/records/{deal['id']}",
                               json={"data": {"stage": stage}}, headers=team.headers["north_1"])
        assert Decimal(str(changed.get_json()["data"]["weighted_amount"])) == weighted, stage
    changed = client.patch(f"{API}/opportunity/records/{deal['id']}", json={"data": {
        "stage": "quotation", "probability_override": 50}}, headers=team.headers["north_1"])
    assert Decimal(str(changed.get_json()["data"]["weighted_amount"])) == 500000


def _quote(client: Any, team: Team, customer: int, lines: list[tuple[int, int]],
           discount: int) -> dict:
    return new(client, team, "quote", customer=customer, discount=discount,
               lines=[{"product": f"产品 {index + 1}", "quantity": quantity,
                       "unit_price": price} for index, (quantity, price) in enumerate(lines)])


def _submit(client: Any, team: Team, quote: int) -> dict:
    response = client.post(f"{API}/quote/records/{quote}/submit",
                           json={"flow": "quote_approval"}, headers=team.headers["north_1"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _inbox(client: Any, team: Team, who: str) -> list[dict]:
    return client.get("/api/v1/tasks?status=pending", headers=team.headers[who]
                      ).get_json()["items"]


def _approve(client: Any, team: Team, who: str) -> None:
    [task] = _inbox(client, team, who)
    response = client.post(f"/api/v1/tasks/{task['id']}/approve", json={},
                           headers=team.headers[who])
    assert response.status_code == 200, response.get_json()


def test_quote_approval_by_discount_and_size(client, team) -> None:
    customer = new(client, team, "customer", name="杭州金桥实业有限公司", region="east",
                   phone="+8613900000005")["id"]
    # a small quote at 5 %: approved at once
    small = _quote(client, team, customer, [(2, 30000)], 5)
    assert Decimal(str(small["data"]["amount"])) == Decimal("57000")
    assert _submit(client, team, small["id"])["status"] == "approved"
    assert read(client, team, "quote", small["id"])["data"]["status"] == "approved"
    # 15 % off 100 000: the sales manager alone
    discounted = _quote(client, team, customer, [(10, 10000)], 15)
    assert Decimal(str(discounted["data"]["amount"])) == Decimal("85000")
    refused = client.patch(f"{API}/quote/records/{discounted['id']}",
                           json={"data": {"status": "approved"}}, headers=team.headers["north_1"])
    assert refused.status_code == 422                # the rep cannot approve it themselves
    instance = _submit(client, team, discounted["id"])
    assert instance["active"] == ["manager"]
    assert _inbox(client, team, "director") == []
    _approve(client, team, "manager")
    assert read(client, team, "quote", discounted["id"])["data"]["status"] == "approved"
    assert _inbox(client, team, "director") == [] and _inbox(client, team, "finance_1") == []
    # 1 200 000 at 5 %: the manager, then the director, then both of finance
    large = _quote(client, team, customer, [(2, 450000), (100, 3000)], 5)
    assert Decimal(str(large["data"]["total"])) == Decimal("1200000")
    assert Decimal(str(large["data"]["amount"])) == Decimal("1140000")
    _submit(client, team, large["id"])
    _approve(client, team, "manager")
    assert _inbox(client, team, "finance_1") == []
    _approve(client, team, "director")
    assert read(client, team, "quote", large["id"])["data"]["status"] == "draft"
    _approve(client, team, "finance_1")
    assert read(client, team, "quote", large["id"])["data"]["status"] == "draft"  # 会签
    _approve(client, team, "finance_2")
    assert read(client, team, "quote", large["id"])["data"]["status"] == "approved"
    assert any(n["payload"].get("message", {}).get("en") == "Your quote was approved."
               for n in notes(client, team, "north_1"))


def test_payments_are_collected_against_the_contract(client, team) -> None:
    customer = new(client, team, "customer", name="成都鼎盛机械设备有限公司", region="west",
                   phone="+8613900000006")["id"]
    contract = new(client, team, "contract", name="设备联网改造合同", customer=customer,
                   amount=800000, status="signed", signed_on=date.today().isoformat())
    assert [n["payload"]["rule"] for n in notes(client, team, "finance_1")] == [
        "contract_signed"]
    for amount in (240000, 320000):
        new(client, team, "payment", "finance_1", contract=contract["id"], amount=amount)
    data = read(client, team, "contract", contract["id"])["data"]
    assert Decimal(str(data["collected"])) == 560000
    assert Decimal(str(data["outstanding"])) == 240000
    assert Decimal(str(data["collection_rate"])) == 70
    assert read(client, team, "contract", contract["id"], "north_1")["data"]["amount"] == 800000
    service = read(client, team, "contract", contract["id"], "service_1")["data"]
    assert service["name"] == "设备联网改造合同"      # customer service sees the contract …
    assert not {"amount", "collected", "outstanding", "collection_rate"} & set(service)
    payments = client.get(f"{API}/payment/records", headers=team.headers["service_1"])
    assert payments.get_json()["items"] == []          # … but not its payments


def test_installed_with_its_samples(client, db, tenant_a) -> None:
    team = _team(client, db, tenant_a, sample_data=True)
    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        counts = dict(session.execute(scope.filter(
            select(Form.key, func.count(Record.id)).join(
                Record, (Record.form_id == Form.id) & (Record.tenant_id == Form.tenant_id))
            .group_by(Form.key), Form)).all())
    assert counts == {form: len(rows) for form, rows in BUNDLE["sample_data"].items()}
    customers = client.get(f"{API}/customer/records?limit=100",
                           headers=team.headers["admin"]).get_json()["items"]
    assert all(item["data"]["last_follow_up"] for item in customers)
    idle = [item["id"] for item in customers
            if date.fromisoformat(item["data"]["idle_since"]) < date.today()
            - timedelta(days=30)]
    assert len(idle) == 6    # the first daily tick sends these to the pool
    run_scheduled_rules(client.application, now=utcnow() + timedelta(days=1))
    pool = client.get(f"{API}/customer/records?limit=100&filter="
                      '{"field": "owner", "op": "eq", "value": null}',
                      headers=team.headers["admin"]).get_json()["items"]
    assert sorted(item["id"] for item in pool) == sorted(idle)
