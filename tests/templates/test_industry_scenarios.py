"""The industry templates do what INDUSTRIES.md promises, on the installed app, through the
API and the scheduler with the clock moved (SQLite and PostgreSQL): manufacturing SLA
escalation, satisfaction follow-up, maintenance reminders; education renewal reminders,
trial reminders and refund approval; retail tier upgrades, reactivation of sleeping
members and RFM segments. Each template also installs with its sample data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from crm_platform.auth.login import principal_for
from crm_platform.db import utcnow, write_first
from crm_platform.models import Form, Notification, Record, Role, SavedView, User
from crm_platform.scoping import TenantScope
from crm_platform.services.flows.schedules import run_scheduled_rules
from crm_platform.services.identity.users import create_user
from crm_platform.services.templates.checks import checked_bundle
from crm_platform.services.templates.install import ensure_roles, install_bundle
from templates_gallery.bundles import shipped
from tests.conftest import bearer


@pytest.fixture(autouse=True)
def _in_app(app):
    with app.app_context():   # publishing queues index builds on the app's job runner
        yield


def _admin(session, tenant):
    user = session.scalars(select(User).where(User.id == tenant.admin_id,
                                              User.tenant_id == tenant.id)).one()
    return principal_for(session, user, "session")


def setup_template(db, tenant, key: str, people: dict[str, int], sample_data: bool = False
                   ) -> dict[str, list[int]]:
    """The template installed (roles first, then `people` users per role); user ids by
    role."""
    bundle = shipped()[key]
    users: dict[str, list[int]] = {}
    with db.transaction() as session:
        scope = TenantScope(session, tenant.id)
        admin = _admin(session, tenant)
        ensure_roles(scope, admin, checked_bundle(bundle, "en")["roles"])
        for role_key, count in people.items():
            role = session.scalars(scope.select(Role, Role.key == role_key)).one()
            users[role_key] = [create_user(scope, admin, {
                "email": f"{role_key}{n}@{tenant.slug}.example", "name": f"{role_key} {n}",
                "password": "correct horse battery", "roles": [role.id]}).id
                for n in range(count)]
    with db.transaction() as session:
        write_first(session)
        scope = TenantScope(session, tenant.id)
        install_bundle(scope, _admin(session, tenant), bundle, sample_data=sample_data)
    return users


class Api:
    def __init__(self, client, tenant, app_key: str) -> None:
        self.client, self.tenant, self.app_key = client, tenant, app_key

    def url(self, form: str, record: int | None = None) -> str:
        base = f"/api/v1/apps/{self.app_key}/forms/{form}/records"
        return base if record is None else f"{base}/{record}"

    def create(self, form: str, **data: Any) -> int:
        response = self.client.post(self.url(form), json={"data": data},
                                    headers=self.tenant.headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def update(self, form: str, record: int, **data: Any) -> dict[str, Any]:
        response = self.client.patch(self.url(form, record), json={"data": data},
                                     headers=self.tenant.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def get(self, form: str, record: int) -> dict[str, Any]:
        response = self.client.get(self.url(form, record), headers=self.tenant.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def records(self, form: str) -> list[dict[str, Any]]:
        response = self.client.get(f"{self.url(form)}?limit=100", headers=self.tenant.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    def headers_of(self, user: int) -> dict[str, str]:
        token = self.client.post("/api/v1/admin/tokens", json={"user_id": user, "name": "t"},
                                 headers=self.tenant.headers).get_json()["token"]
        return bearer(token)


def notices(db, tenant, rule: str) -> list[int]:
    """Who was notified by `rule`, in order."""
    with db.transaction() as session:
        scope = TenantScope(session, tenant.id)
        return [note.user_id for note in session.scalars(
            scope.select(Notification).order_by(Notification.id))
            if (note.payload or {}).get("rule") == rule]


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


# -- manufacturing -----------------------------------------------------------------------
@pytest.fixture
def factory(db, client, tenant_a):
    people = setup_template(db, tenant_a, "manufacturing",
                            {"service_manager": 1, "field_engineer": 2})
    api = Api(client, tenant_a, "manufacturing")
    api.people = people
    api.customer = api.create("customer", name="上海精工机械有限公司", region="east")
    return api


def test_a_ticket_without_first_response_in_two_hours_escalates_to_the_service_manager(
        db, app, tenant_a, factory):
    engineers, manager = factory.people["field_engineer"], factory.people["service_manager"]
    late = factory.create("service_ticket", customer=factory.customer, kind="repair",
                          subject="主轴异响 Spindle noise", priority="urgent")
    answered = factory.create("service_ticket", customer=factory.customer, kind="repair",
                              subject="液压漏油 Oil leak")
    # dispatched to the field engineers in turn
    assert [factory.get("service_ticket", t)["owner"] for t in (late, answered)] == engineers
    factory.update("service_ticket", answered, status="in_progress",
                   first_response_at=utcnow().isoformat())
    assert factory.get("service_ticket", answered)["data"]["sla_met"] is True

    run_scheduled_rules(app, now=utcnow() + timedelta(hours=1, minutes=50))
    assert notices(db, tenant_a, "ticket_sla_escalation") == []      # still within 2 hours

    run_scheduled_rules(app, now=utcnow() + timedelta(hours=2, minutes=10))
    assert factory.get("service_ticket", late)["data"]["escalated"] is True
    assert factory.get("service_ticket", answered)["data"]["escalated"] is False
    assert notices(db, tenant_a, "ticket_sla_escalation") == [manager[0], engineers[0]]

    run_scheduled_rules(app, now=utcnow() + timedelta(hours=3))      # escalated once
    assert notices(db, tenant_a, "ticket_sla_escalation") == [manager[0], engineers[0]]


def test_a_satisfaction_below_seven_creates_a_task_for_the_supervisor(db, tenant_a, factory):
    manager = factory.people["service_manager"]
    unhappy = factory.create("service_ticket", customer=factory.customer, kind="repair",
                             subject="Spindle noise")
    happy = factory.create("service_ticket", customer=factory.customer, kind="repair",
                           subject="Coolant pump")
    closing = {"status": "closed", "first_response_at": utcnow().isoformat(),
               "resolution": "更换轴承 Replaced the bearing"}
    factory.update("service_ticket", unhappy, **closing)
    factory.update("service_ticket", unhappy, satisfaction=5)
    factory.update("service_ticket", happy, **closing, satisfaction=9)

    (task,) = factory.records("task")
    assert task["data"]["kind"] == "low_satisfaction"
    assert task["data"]["ticket"] == unhappy
    assert task["data"]["customer"] == factory.customer
    assert task["owner"] == manager[0]
    assert notices(db, tenant_a, "task_to_supervisor") == manager


def test_maintenance_due_in_thirty_days_reminds_the_owner_once(db, app, tenant_a, factory):
    engineer = factory.people["field_engineer"][1]
    due_soon = factory.create("installed_machine", customer=factory.customer,
                              model="cnc_v850", serial_no="CNC-2024-0001",
                              purchase_date=days(-400), cycle_months=6,
                              last_maintenance=days(-165), engineer=engineer)
    factory.create("installed_machine", customer=factory.customer, model="lathe_ck6150",
                   serial_no="LATHE-2024-0002", purchase_date=days(-400), cycle_months=6,
                   last_maintenance=days(-20))
    due = date.fromisoformat(factory.get("installed_machine", due_soon)["data"][
        "next_maintenance_due"])
    assert 0 < (due - date.today()).days <= 30

    run_scheduled_rules(app, now=utcnow() + timedelta(days=1))
    run_scheduled_rules(app, now=utcnow() + timedelta(days=2))      # a second tick
    assert notices(db, tenant_a, "machine_maintenance_reminder") == [tenant_a.admin_id,
                                                                     engineer]
    assert factory.get("installed_machine", due_soon)["data"]["maintenance_reminded"] is True

    # the maintenance is done: the next one will be reminded again
    factory.update("installed_machine", due_soon, last_maintenance=days(0))
    machine = factory.get("installed_machine", due_soon)["data"]
    assert machine["maintenance_reminded"] is False
    assert machine["next_maintenance_due"] > days(150)


def test_an_order_totals_its_lines_and_counts_for_its_dealer(factory):
    dealer = factory.create("dealer", name="杭州精工机床销售有限公司", tier="tier1",
                            region="east", annual_target=1000000)
    order = factory.create("sales_order", customer=factory.customer, dealer=dealer,
                           lines=[{"product": "cnc_v850", "quantity": 2, "unit_price": 260000},
                                  {"product": "laser_3015", "quantity": 1,
                                   "unit_price": 320000}], discount=5)
    data = factory.get("sales_order", order)["data"]
    assert (data["status"], data["total"], data["payable"]) == ("production", 840000, 798000)
    factory.update("sales_order", order, status="shipped", shipped_on=days(0),
                   tracking_no="SF1234567890")
    dealer_data = factory.get("dealer", dealer)["data"]
    assert (dealer_data["orders_total"], dealer_data["order_count"],
            dealer_data["performance"], dealer_data["rating"]) == (840000, 1, 84, "B")


# -- education ---------------------------------------------------------------------------
@pytest.fixture
def school(db, client, tenant_a):
    people = setup_template(db, tenant_a, "education",
                            {"course_consultant": 2, "campus_manager": 1, "director": 1,
                             "finance": 1})
    api = Api(client, tenant_a, "education")
    api.people = people
    api.lead = api.create("student_lead", student="王子涵", parent="王伟", source="referral",
                          parent_phone="+8613800001111", grade="g5", intended_course="math")
    return api


def test_an_enrollment_down_to_three_sessions_reminds_about_renewal(db, tenant_a, school):
    enrollment = school.create("enrollment", lead=school.lead, student="王子涵",
                               parent_phone="+8613800001111", course="math",
                               sessions_bought=10, sessions_used=5, amount=2000,
                               end_date=days(200))
    school.update("enrollment", enrollment, sessions_used=6)
    assert notices(db, tenant_a, "renewal_low_sessions") == []       # 4 left
    school.update("enrollment", enrollment, sessions_used=7)
    assert school.get("enrollment", enrollment)["data"]["sessions_remaining"] == 3
    assert notices(db, tenant_a, "renewal_low_sessions") == [tenant_a.admin_id]
    for used in (8, 9, 10):          # 2, 1, 0 left: reminded once, when it crossed 3
        school.update("enrollment", enrollment, sessions_used=used)
    assert notices(db, tenant_a, "renewal_low_sessions") == [tenant_a.admin_id]
    school.update("enrollment", enrollment, sessions_bought=20)    # renewed: 10 left
    school.update("enrollment", enrollment, sessions_used=17)      # down to 3 again
    assert notices(db, tenant_a, "renewal_low_sessions") == [tenant_a.admin_id] * 2


def test_a_contract_ending_within_thirty_days_and_a_trial_tomorrow_are_reminded(
        db, app, tenant_a, school):
    school.create("enrollment", student="李思", parent_phone="+8613800002222",
                  course="english", sessions_bought=48, sessions_used=10, amount=9600,
                  start_date=days(-300), end_date=days(25))
    school.create("enrollment", student="张晨", parent_phone="+8613800003333",
                  course="english", sessions_bought=48, sessions_used=10, amount=9600,
                  end_date=days(120))
    school.create("trial_lesson", lead=school.lead, course="math", lesson_date=days(1),
                  lesson_time="10:00")
    school.create("trial_lesson", lead=school.lead, course="math", lesson_date=days(4),
                  lesson_time="10:00")
    run_scheduled_rules(app)
    run_scheduled_rules(app, now=utcnow() + timedelta(minutes=1))
    assert notices(db, tenant_a, "renewal_period_end") == [tenant_a.admin_id]
    assert notices(db, tenant_a, "trial_reminder") == [tenant_a.admin_id]


def _pending(client, headers) -> list[dict[str, Any]]:
    return client.get("/api/v1/tasks?status=pending", headers=headers).get_json()["items"]


def test_a_refund_above_the_threshold_goes_to_the_director_and_finance_countersigns(
        client, tenant_a, school):
    enrollment = school.create("enrollment", student="王子涵", parent_phone="+8613800001111",
                               course="math", sessions_bought=96, sessions_used=10,
                               amount=17280, end_date=days(300))
    large = school.create("refund", enrollment=enrollment, student="王子涵",
                          sessions_refunded=50, amount=9000, reason="moving",
                          detail="搬家到外地 Moving to another city")
    small = school.create("refund", enrollment=enrollment, student="王子涵",
                          sessions_refunded=5, amount=900, reason="schedule",
                          detail="时间冲突 Schedule conflict")
    for refund in (large, small):
        response = client.post(f"{school.url('refund', refund)}/submit",
                               json={"flow": "refund_approval"}, headers=tenant_a.headers)
        assert response.status_code in (200, 201), response.get_json()
    director = school.headers_of(school.people["director"][0])
    finance = school.headers_of(school.people["finance"][0])
    manager = school.headers_of(school.people["campus_manager"][0])

    (task,) = _pending(client, director)        # only the large refund reaches the director
    assert (task["record"], task["node"]) == (large, "director")
    assert _pending(client, finance) == []      # finance signs after the director
    assert client.post(f"/api/v1/tasks/{task['id']}/approve", json={"comment": "同意"},
                       headers=director).status_code == 200
    (countersign,) = _pending(client, finance)
    assert (countersign["record"], countersign["node"]) == (large, "finance")
    assert client.post(f"/api/v1/tasks/{countersign['id']}/approve",
                       json={"comment": "已核对"}, headers=finance).status_code == 200
    assert school.get("refund", large)["data"]["status"] == "approved"

    (small_task,) = _pending(client, manager)   # below the threshold: the campus manager
    assert (small_task["record"], small_task["node"]) == (small, "campus_manager")
    assert client.post(f"/api/v1/tasks/{small_task['id']}/approve", json={},
                       headers=manager).status_code == 200
    assert school.get("refund", small)["data"]["status"] == "draft"   # finance still to sign
    (small_sign,) = _pending(client, finance)
    assert small_sign["record"] == small
    assert client.post(f"/api/v1/tasks/{small_sign['id']}/approve", json={},
                       headers=finance).status_code == 200
    assert school.get("refund", small)["data"]["status"] == "approved"


# -- retail ------------------------------------------------------------------------------
@pytest.fixture
def shop(db, client, tenant_a):
    people = setup_template(db, tenant_a, "retail", {"store_clerk": 1, "store_manager": 1})
    api = Api(client, tenant_a, "retail")
    api.people = people
    return api


def _buy(shop, member: int, amount: int, on: int = 0) -> None:
    shop.create("purchase", member=member, purchase_date=days(on), store="sh_xujiahui",
                lines=[{"product": "羊毛大衣", "category": "apparel", "quantity": 1,
                        "unit_price": amount}])


def test_a_member_crossing_the_spend_threshold_becomes_gold_and_is_notified(
        db, app, tenant_a, shop):
    member = shop.create("member", phone="+8613900001111", name="李娜")
    _buy(shop, member, 6000)          # the purchase's save upgrades the member at once
    assert shop.get("member", member)["data"]["tier"] == "silver"
    _buy(shop, member, 5000)
    data = shop.get("member", member)["data"]
    assert (data["total_spent"], data["tier"]) == (11000, "gold")
    quiet = shop.create("member", phone="+8613900002222", name="赵敏")
    _buy(shop, quiet, 800)
    assert shop.get("member", quiet)["data"]["tier"] == "normal"
    assert notices(db, tenant_a, "member_tier_silver") == [tenant_a.admin_id]
    assert notices(db, tenant_a, "member_tier_gold") == [tenant_a.admin_id]
    _buy(shop, member, 100)           # already gold: nobody is told again
    assert notices(db, tenant_a, "member_tier_gold") == [tenant_a.admin_id]


def test_a_member_silent_for_ninety_days_gets_one_reactivation_task(db, app, tenant_a, shop):
    clerk = shop.people["store_clerk"][0]
    silent = shop.create("member", phone="+8613900003333", name="周杰")
    _buy(shop, silent, 500, on=-100)
    active = shop.create("member", phone="+8613900004444", name="吴婷")
    _buy(shop, active, 500, on=-10)

    run_scheduled_rules(app, now=utcnow() + timedelta(days=1))
    run_scheduled_rules(app, now=utcnow() + timedelta(days=2))       # once per silence
    (task,) = shop.records("task")
    assert (task["data"]["kind"], task["data"]["member"]) == ("reactivation", silent)
    assert task["owner"] == clerk
    assert shop.get("member", silent)["data"]["reactivation_pending"] is True

    _buy(shop, silent, 300)           # back in the shop: the flag clears with the next run
    run_scheduled_rules(app, now=utcnow() + timedelta(days=3))
    assert shop.get("member", silent)["data"]["reactivation_pending"] is False


def test_rfm_scores_and_segments_are_formulas_over_the_purchases(shop):
    loyal = shop.create("member", phone="+8613900005555", name="陈静")
    for on, amount in ((-5, 2500), (-20, 2000), (-40, 1800)):
        _buy(shop, loyal, amount, on)
    newcomer = shop.create("member", phone="+8613900006666", name="Grace Lee")
    _buy(shop, newcomer, 8000, -10)
    lapsed = shop.create("member", phone="+8613900007777", name="刘洋")
    _buy(shop, lapsed, 300, -120)
    nobody = shop.create("member", phone="+8613900008888", name="孙宇")

    loyal_data = shop.get("member", loyal)["data"]
    assert (loyal_data["recency_days"], loyal_data["purchase_count"],
            loyal_data["total_spent"], loyal_data["last_purchase"]) == (5, 3, 6300, days(-5))
    assert (loyal_data["rfm"], loyal_data["segment"]) == ("533", "important_value")
    old_friend = shop.create("member", phone="+8613900009999", name="郑凯")
    for on in (-400, -380, -370, -20):       # F counts the purchases of the last 365 days
        _buy(shop, old_friend, 1500, on)
    friend = shop.get("member", old_friend)["data"]
    assert (friend["purchase_count"], friend["purchases_year"], friend["f_score"]) == (4, 1, 1)
    assert shop.get("member", newcomer)["data"]["segment"] == "important_develop"
    lapsed_data = shop.get("member", lapsed)["data"]
    assert (lapsed_data["recency_days"], lapsed_data["segment"]) == (120, "sleeping")
    assert shop.get("member", nobody)["data"]["segment"] == "no_purchase"


# -- every template installs with its sample data -----------------------------------------
@pytest.mark.parametrize("key", ["manufacturing", "education", "retail"])
def test_the_template_installs_with_its_sample_data(db, tenant_a, key):
    setup_template(db, tenant_a, key, {}, sample_data=True)
    bundle = shipped()[key]
    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        forms = {form.key: form for form in session.scalars(scope.select(Form))}
        for form_key, rows in bundle["sample_data"].items():
            count = len(session.scalars(scope.select(
                Record, Record.form_id == forms[form_key].id)).all())
            core = len(shipped()["sales_core"]["sample_data"].get(form_key, []))
            assert count == len(rows) + core, form_key
        assert len(session.scalars(scope.select(SavedView)).all()) == len(
            shipped()["sales_core"].get("views", [])) + len(bundle["views"])
        if key == "retail":
            members = session.scalars(scope.select(
                Record, Record.form_id == forms["member"].id)).all()
            assert len({member.data["segment"] for member in members}) >= 6
