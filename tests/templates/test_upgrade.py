"""Upgrading an installed template by three-way merge, on SQLite and PostgreSQL: the
tenant's changes and the new version's are both kept; a true conflict stops the upgrade
until it is resolved; records and running approvals follow the engine's version rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from crm_platform.auth.login import principal_for
from crm_platform.db import write_first
from crm_platform.errors import Conflict
from crm_platform.i18n import render_error
from crm_platform.models import App, Flow, FlowInstance, Form, Record, TemplateInstall, User
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import approvals
from crm_platform.services.flows import definitions as flow_service
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.forms import design
from crm_platform.services.records import operations as record_service
from crm_platform.services.templates.upgrade import plan_upgrade, upgrade_app
from tests.templates.test_install import fixture, install


@pytest.fixture(autouse=True)
def _in_app(app):
    with app.app_context():
        yield


def _admin(session, tenant):
    user = session.scalars(select(User).where(User.id == tenant.admin_id,
                                              User.tenant_id == tenant.id)).one()
    return principal_for(session, user, "session")


class World:
    def __init__(self, session, tenant) -> None:
        write_first(session)
        self.session, self.scope = session, TenantScope(session, tenant.id)
        self.admin = _admin(session, tenant)
        self.app = session.scalars(self.scope.select(App, App.key == "helpdesk")).one()

    def form(self, key: str) -> Form:
        return self.session.scalars(self.scope.select(Form, Form.key == key)).one()

    def flow(self, key: str) -> Flow:
        return self.session.scalars(self.scope.select(Flow, Flow.key == key)).one()

    def publish_form(self, key: str, change) -> None:
        form = self.form(key)
        definition = copy.deepcopy(form_service.version_row(self.scope, form).definition)
        change(definition)
        design.save_draft(self.scope, self.admin, form, definition)
        form_service.publish_form_version(self.scope, self.admin, form)

    def publish_flow(self, key: str, change) -> None:
        flow = self.flow(key)
        definition = copy.deepcopy(flow_service.version_row(self.scope, flow).definition)
        change(definition)
        flow_service.save_draft(self.scope, self.admin, self.app, flow, definition)
        flow_service.publish(self.scope, self.admin, self.app, flow)


def _customise(world: World) -> None:
    """The tenant's own changes: a field, a label, a rule's message, a flow node."""
    def ticket(definition: dict[str, Any]) -> None:
        definition["fields"].append({"key": "channel", "type": "text",
                                     "label": {"en": "Channel", "zh": "渠道"}})
        definition["layout"][0]["fields"].append("channel")
        definition["fields"][0]["label"] = {"en": "Problem", "zh": "问题"}
        definition["rules"][0]["message"] = {"en": "Ask Li Na first.", "zh": "请先问李娜。"}
    world.publish_form("ticket", ticket)

    def flow(definition: dict[str, Any]) -> None:
        nodes = definition["nodes"]
        nodes[0]["next"] = "copy"      # agents are told of each refund first
        nodes.insert(1, {"key": "copy", "type": "cc",
                         "recipients": [{"source": "roles", "roles": ["agent"]}],
                         "next": "lead"})
    world.publish_flow("refund_approval", flow)


def test_an_upgrade_keeps_the_tenants_changes_and_brings_the_new_versions(db, tenant_a):
    install(db, tenant_a, fixture("helpdesk_v1.json"))
    with db.transaction() as session:
        world = World(session, tenant_a)
        _customise(world)
        ticket = session.scalars(world.scope.select(Record, Record.form_id == world.form(
            "ticket").id).order_by(Record.id)).first()
        record_service.update_record(world.scope, world.admin, world.form("ticket"),
                                     ticket.id, {"refund": 300}, ticket.version)
        running = approvals.submit(world.scope, world.admin, world.form("ticket"), ticket.id,
                                   "refund_approval")
        running_id = running.id

    with db.transaction() as session:
        world = World(session, tenant_a)
        plan = upgrade_app(world.scope, world.admin, world.app, fixture("helpdesk_v2.json"))
        assert plan.conflicts == []
        assert {(change["part"], change["key"], change["change"]) for change in plan.changes
                } == {("forms", "ticket", "changed"), ("flows", "refund_approval", "changed")}

    with db.transaction() as session:
        world = World(session, tenant_a)
        form = world.form("ticket")
        assert form.published_version == 3     # v1, the tenant's, the upgrade's
        definition = form_service.version_row(world.scope, form).definition
        assert [field["key"] for field in definition["fields"]] == [
            "subject", "client", "status", "priority", "refund", "channel"]
        assert definition["fields"][0]["label"] == {"en": "Problem", "zh": "问题"}
        assert definition["rules"][0]["error_if"] == "refund > 8000"
        assert definition["rules"][0]["message"]["en"] == "Ask Li Na first."
        assert definition["layout"][0]["fields"] == [
            "subject", "client", "status", "priority", "refund", "channel"]
        nodes = flow_service.version_row(world.scope, world.flow("refund_approval")
                                         ).definition["nodes"]
        assert [(node["key"], node.get("next")) for node in nodes] == [
            ("start", "copy"), ("copy", "lead"), ("lead", "director"), ("director", "end"),
            ("end", None)]
        assert world.flow("refund_approval").published_version == 3
        # The approval submitted before the upgrade runs on, on the version it started on.
        instance = session.get(FlowInstance, (tenant_a.id, running_id))
        assert (instance.status, instance.flow_version) == ("running", 2)
        # A refund of 6 000 was refused before (5 000); the new threshold lets it through.
        created, _new = record_service.create_record(world.scope, world.admin, form, {
            "subject": "退货", "refund": 6000, "priority": "urgent"})
        assert created.data["priority"] == "urgent"
        row = session.scalars(world.scope.select(TemplateInstall)).one()
        assert (row.version, row.bundle["manifest"]["version"]) == ("2.0.0", "2.0.0")


def test_a_true_conflict_stops_the_upgrade_until_it_is_resolved(db, tenant_a):
    install(db, tenant_a, fixture("helpdesk_v1.json"), sample_data=False)
    with db.transaction() as session:
        world = World(session, tenant_a)

        def stricter(definition: dict[str, Any]) -> None:
            definition["rules"][0]["error_if"] = "refund > 3000"
        world.publish_form("ticket", stricter)

    with db.transaction() as session:
        world = World(session, tenant_a)
        plan = plan_upgrade(world.scope, world.admin, world.app, fixture("helpdesk_v2.json"))
        assert [conflict.as_dict() for conflict in plan.conflicts] == [{
            "path": "forms/ticket/rules/refund_cap/error_if",
            "base": {"value": "refund > 5000"}, "mine": {"value": "refund > 3000"},
            "theirs": {"value": "refund > 8000"}}]
        with pytest.raises(Conflict) as refused:
            upgrade_app(world.scope, world.admin, world.app, fixture("helpdesk_v2.json"))
        body = render_error(refused.value, "zh")
        assert body["code"] == "upgrade_conflicts"
        assert body["fields"] == [{
            "path": "forms/ticket/rules/refund_cap/error_if", "code": "upgrade_conflict",
            "message": 'forms/ticket/rules/refund_cap/error_if：您的是 "refund > 3000"，'
                       '新版本的是 "refund > 8000"。'}]
        assert world.form("ticket").published_version == 2       # nothing applied

    with db.transaction() as session:
        world = World(session, tenant_a)
        upgrade_app(world.scope, world.admin, world.app, fixture("helpdesk_v2.json"),
                    {"forms/ticket/rules/refund_cap/error_if": "mine"})
        definition = form_service.version_row(world.scope, world.form("ticket")).definition
        assert definition["rules"][0]["error_if"] == "refund > 3000"
        assert "priority" in [field["key"] for field in definition["fields"]]


def test_an_upgrade_is_refused_when_it_cannot_apply(db, tenant_a):
    install(db, tenant_a, fixture("helpdesk_v1.json"), sample_data=False)
    with db.transaction() as session:
        world = World(session, tenant_a)
        with pytest.raises(Conflict) as refused:   # the same version again
            plan_upgrade(world.scope, world.admin, world.app, fixture("helpdesk_v1.json"))
        assert refused.value.code == "not_newer"
        other = fixture("helpdesk_v2.json")
        other["manifest"]["key"] = "crm"
        with pytest.raises(Conflict) as refused:
            plan_upgrade(world.scope, world.admin, world.app, other)
        assert refused.value.code == "other_template"
        form = world.form("ticket")                # a draft nobody published
        draft = copy.deepcopy(form.draft)
        draft["label"] = {"en": "Cases", "zh": "案例"}
        design.save_draft(world.scope, world.admin, form, draft)
        with pytest.raises(Conflict) as refused:
            plan_upgrade(world.scope, world.admin, world.app, fixture("helpdesk_v2.json"))
        assert [problem.path for problem in refused.value.fields] == ["forms.ticket"]
