"""Installing a bundle, exporting an app, and what a bad bundle is told: on SQLite and
PostgreSQL, through the services (the API, CLI and gallery page have their own tests)."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_platform.auth.login import principal_for
from crm_platform.auth.principal import Principal
from crm_platform.db import write_first
from crm_platform.errors import LoomError, ValidationFailed
from crm_platform.i18n import render_error
from crm_platform.models import App, Flow, Form, Notification, Record, Role, SavedView, User
from crm_platform.scoping import TenantScope
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.identity.users import create_user
from crm_platform.services.records import operations as record_service
from crm_platform.services.templates.export import export_app
from crm_platform.services.templates.install import install_bundle
from templates_gallery.bundles import read_bundle, without_samples

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _in_app(app):
    with app.app_context():   # publishing queues index builds on the app's job runner
        yield


def fixture(name: str) -> dict[str, Any]:
    return read_bundle((FIXTURES / name).read_bytes())


def _admin(session, tenant) -> Principal:
    user = session.scalars(select(User).where(User.id == tenant.admin_id,
                                              User.tenant_id == tenant.id)).one()
    return principal_for(session, user, "session")


def _agents(db, tenant, count: int = 2) -> list[int]:
    with db.transaction() as session:
        scope = TenantScope(session, tenant.id)
        admin = _admin(session, tenant)
        role = session.scalars(scope.select(Role, Role.key == "agent")).one()
        return [create_user(scope, admin, {
            "email": f"agent{n}@alpha.example", "name": f"Agent {n}",
            "password": "correct horse battery", "roles": [role.id]}).id for n in range(count)]


def install(db, tenant, bundle, **options) -> str:
    with db.transaction() as session:
        write_first(session)   # SQLite: index builds of an earlier install may be writing
        scope = TenantScope(session, tenant.id)
        return install_bundle(scope, _admin(session, tenant), copy.deepcopy(bundle),
                              **options).key


def export(db, tenant, app_key: str, **options) -> dict[str, Any]:
    with db.transaction() as session:
        scope = TenantScope(session, tenant.id)
        app = session.scalars(scope.select(App, App.key == app_key)).one()
        return export_app(scope, _admin(session, tenant), app, **options)


def test_install_builds_a_working_app_through_the_services(db, tenant_a):
    bundle = fixture("helpdesk_v1.json")
    with db.transaction() as session:   # the roles exist before the users who hold them
        scope = TenantScope(session, tenant_a.id)
        from crm_platform.services.templates.install import ensure_roles
        ensure_roles(scope, _admin(session, tenant_a), bundle["roles"])
    agents = _agents(db, tenant_a)

    assert install(db, tenant_a, bundle) == "helpdesk"

    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        forms = {form.key: form for form in session.scalars(scope.select(Form))}
        assert {key: form.published_version for key, form in forms.items()} == {
            "client": 1, "ticket": 1}
        flows = {flow.key: (flow.kind, flow.published_version)
                 for flow in session.scalars(scope.select(Flow))}
        assert flows == {"refund_approval": ("approval", 1),
                         "close_notice": ("automation", 1)}
        tickets = session.scalars(scope.select(Record, Record.form_id == forms["ticket"].id)
                                  .order_by(Record.id)).all()
        clients = session.scalars(scope.select(Record, Record.form_id == forms["client"].id)
                                  .order_by(Record.id)).all()
        assert [ticket.data["client"] for ticket in tickets] == [
            clients[0].id, clients[1].id, clients[0].id]     # $ref resolved
        assert [ticket.owner_id for ticket in tickets[:2]] == agents   # owner_role in turn
        assert tickets[2].owner_id == tenant_a.admin_id    # no owner_role: the installer
        board = session.scalars(scope.select(SavedView)).one()
        assert (board.kind, board.visibility, board.definition["group_by"]) == (
            "kanban", "everyone", "status")
        # Sample records went in before the rules: no "ticket closed" notice for them.
        assert session.scalar(scope.filter(select(func.count()).select_from(Notification),
                                           Notification)) == 0
        # The rule runs from now on, for the agent who owns a ticket.
        ticket_form = forms["ticket"]
        agent = principal_for(session, session.scalars(select(User).where(
            User.id == agents[0], User.tenant_id == tenant_a.id)).one(), "session")
        record_service.update_record(scope, agent, ticket_form, tickets[0].id,
                                     {"status": "closed"}, tickets[0].version)
    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        notices = session.scalars(scope.select(Notification)).all()
        assert [notice.user_id for notice in notices] == [agents[0]]


def test_install_then_export_gives_the_bundle_back(db, tenant_a):
    bundle = fixture("helpdesk_v1.json")
    install(db, tenant_a, bundle, sample_data=False)

    exported = export(db, tenant_a, "helpdesk")

    assert exported == without_samples(_normal(bundle))


def test_an_exported_app_with_its_records_installs_into_another_tenant(db, tenant_a, tenant_b):
    install(db, tenant_a, fixture("helpdesk_v1.json"))
    exported = export(db, tenant_a, "helpdesk", sample_data=True)
    assert [row["data"]["subject"] for row in exported["sample_data"]["ticket"]] == [
        "打印机卡纸", "Invoice copy", "上门维修"]

    install(db, tenant_b, exported, app_key="support")

    with db.transaction() as session:
        scope = TenantScope(session, tenant_b.id)
        form = session.scalars(scope.select(Form, Form.key == "client")).one()
        clients = session.scalars(scope.select(Record, Record.form_id == form.id)).all()
        assert sorted(record.data["name"] for record in clients) == [
            "Northwind Trading", "上海华信科技有限公司"]
        assert sorted(record.data["tickets"] for record in clients) == [1, 2]


def test_a_refused_sample_record_leaves_nothing_behind(db, tenant_a):
    bundle = fixture("helpdesk_v1.json")
    bundle["sample_data"]["ticket"][1]["data"]["refund"] = 9000   # the rule refuses it

    with pytest.raises(ValidationFailed) as refused:
        install(db, tenant_a, bundle)

    assert [problem.path for problem in refused.value.fields] == [
        "sample_data.ticket[1].data.refund"]
    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        assert session.scalars(scope.select(App)).all() == []
        assert session.scalars(scope.select(Role, Role.key == "agent")).all() == []


def test_a_bad_bundle_is_refused_whole_naming_each_problem(db, tenant_a):
    bundle = fixture("helpdesk_v1.json")
    bundle["forms"][1]["fields"][3]["type"] = "money"
    bundle["forms"][1]["rules"][0]["error_if"] = "refund >"
    bundle["flows"][0]["nodes"][1]["approvers"][0]["roles"] = ["boss"]
    bundle["permissions"]["ticket"][0]["role"] = "nobody"
    bundle["sample_data"]["ticket"][0]["data"]["client"] = {"$ref": "k9"}
    bundle["manifest"]["surprise"] = True

    with pytest.raises(LoomError) as refused:
        install(db, tenant_a, bundle)
    assert [problem.path for problem in refused.value.fields] == ["manifest.surprise"]

    del bundle["manifest"]["surprise"]
    with pytest.raises(ValidationFailed) as refused:
        install(db, tenant_a, bundle)
    paths = [problem.path for problem in refused.value.fields]
    assert paths == ["forms.ticket.fields[3].type", "forms.ticket.rules[0].error_if",
                     "flows.refund_approval", "permissions.ticket[0].role",
                     "sample_data.ticket[0].data.client"]
    body = render_error(refused.value, "zh")
    assert "money" in body["fields"][0]["message"]
    assert "boss" in body["fields"][2]["message"] and "角色" in body["fields"][2]["message"]
    assert "k9" in body["fields"][4]["message"]


def _normal(bundle: dict[str, Any]) -> dict[str, Any]:
    from templates_gallery.bundles import normalised
    return normalised(bundle)


def test_markers_in_subtable_rows_are_resolved_and_checked(db, tenant_a):
    bundle = fixture("helpdesk_v1.json")
    ticket = bundle["forms"][1]
    ticket["fields"].append({"key": "visits", "type": "subtable",
                             "label": {"en": "Visits", "zh": "上门记录"}, "fields": [
                                 {"key": "on", "type": "date", "label": {"en": "On", "zh": "日期"}},
                                 {"key": "note", "type": "text",
                                  "label": {"en": "Note", "zh": "备注"}},
                                 {"key": "with", "type": "lookup", "form": "client",
                                  "display_field": "name",
                                  "label": {"en": "With", "zh": "陪同客户"}}]})
    ticket["layout"][0]["fields"].append("visits")
    row = bundle["sample_data"]["ticket"][0]["data"]
    row["visits"] = [{"on": {"$days": -3}, "note": "首次上门", "with": {"$ref": "k2"}},
                     {"on": {"$days": 0}}]
    broken = copy.deepcopy(bundle)
    broken["sample_data"]["ticket"][0]["data"]["visits"][1]["on"] = {"$days": "soon"}
    with pytest.raises(ValidationFailed) as refused:
        install(db, tenant_a, broken)
    assert [problem.path for problem in refused.value.fields] == [
        "sample_data.ticket[0].data.visits[1].on"]

    install(db, tenant_a, bundle)

    with db.transaction() as session:
        scope = TenantScope(session, tenant_a.id)
        form = session.scalars(scope.select(Form, Form.key == "ticket")).one()
        first = session.scalars(scope.select(Record, Record.form_id == form.id)
                                .order_by(Record.id)).first()
        today = form_service.now_in(scope).date()
        assert [visit["on"] for visit in first.data["visits"]] == [
            (today - timedelta(days=3)).isoformat(), today.isoformat()]
        second_client = first.data["visits"][0]["with"]
    exported = export(db, tenant_a, "helpdesk", sample_data=True)   # a lookup in a line too
    assert exported["sample_data"]["ticket"][0]["data"]["visits"][0]["with"] == {
        "$ref": f"client_{second_client}"}


@pytest.mark.parametrize(("change", "path"), [
    (lambda b: b["flows"][0].__setitem__("form", []), "flows[0].form"),
    (lambda b: b["views"][0].__setitem__("roles", 5), "views[0].roles"),
    (lambda b: b["views"][0].__setitem__("roles", [{}]), "views[0].roles[0]"),
    (lambda b: b["sample_data"]["ticket"][0]["data"].__setitem__("client", {"$ref": ["k1"]}),
     "sample_data.ticket[0].data.client"),
    (lambda b: b["sample_data"]["ticket"][0]["data"].__setitem__("refund", {"$days": "x"}),
     "sample_data.ticket[0].data.refund"),
    # a ref to a record made later (tickets come after clients) or to itself
    (lambda b: b["sample_data"]["client"][0]["data"].__setitem__("name", {"$ref": "k2"}),
     "sample_data.client[0].data.name"),
    (lambda b: b["sample_data"]["client"][0].__setitem__("data", _nested(200)),
     "sample_data.client[0].data"),
], ids=["flow form", "view roles", "view role", "ref kind", "days kind", "ref later", "deep"])
def test_a_malformed_bundle_is_a_clear_refusal_not_a_crash(change, path) -> None:
    from crm_platform.services.templates.checks import checked_bundle

    bundle = fixture("helpdesk_v1.json")
    change(bundle)
    with pytest.raises(ValidationFailed) as refused:
        checked_bundle(bundle, "en")
    assert refused.value.fields[0].path.startswith(path)


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value
