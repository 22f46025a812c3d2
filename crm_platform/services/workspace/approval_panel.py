"""What a record's page shows of its approvals: the flows it may be submitted to, the flow
it is in (where it stands, who holds it), and the reader's own task on it, if any."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.models import Flow, FlowInstance, FlowTask, FlowVersion, Form, Record, User
from crm_platform.scoping import TenantScope
from crm_platform.services.records.access import access_for, in_scope

OPEN = ("running", "returned")


@dataclass
class ApprovalPanel:
    flows: list[tuple[str, Any]] = field(default_factory=list)  # (key, name) to submit to
    instance: FlowInstance | None = None
    holders: list[tuple[str, str]] = field(default_factory=list)  # (node, person) pending
    my_task: FlowTask | None = None
    can_submit: bool = False
    decisions: tuple[str, ...] = ()  # what the reader's task offers


def approval_panel(scope: TenantScope, actor: Principal, form: Form, record: Record
                   ) -> ApprovalPanel:
    panel = ApprovalPanel()
    flows = scope.session.scalars(scope.select(
        Flow, Flow.form_id == form.id, Flow.kind == "approval",
        Flow.published_version.is_not(None)).order_by(Flow.key)).all()
    panel.flows = [(flow.key, flow.draft.get("name") or flow.key) for flow in flows]
    panel.instance = scope.session.scalars(scope.select(
        FlowInstance, FlowInstance.record_id == record.id).order_by(
        FlowInstance.id.desc()).limit(1)).first()
    if panel.instance is not None and panel.instance.status in OPEN:
        tasks = scope.session.scalars(scope.select(
            FlowTask, FlowTask.instance_id == panel.instance.id,
            FlowTask.status == "pending").order_by(FlowTask.id)).all()
        people = dict(scope.session.execute(scope.select(
            User, User.id.in_([task.assignee_id for task in tasks if task.assignee_id]))
            .with_only_columns(User.id, User.name)).all())
        panel.holders = [(task.node, people.get(task.assignee_id, "")) for task in tasks]
        panel.my_task = next((task for task in tasks if task.assignee_id == actor.user_id),
                             None)
    if panel.my_task is not None:
        node_types = {node["key"]: node["type"] for node in _nodes(scope, panel.instance)}
        decide = (("approve", "reject") if node_types.get(panel.my_task.node) == "approval"
                  else ("complete",))
        panel.decisions = (*decide, "return", "transfer")
    access = access_for(scope, actor, form)
    returned = panel.instance is not None and panel.instance.status == "returned"
    panel.can_submit = bool(panel.flows) and in_scope(scope, actor, access.update, record) and (
        panel.instance is None or panel.instance.status not in OPEN or returned)
    return panel


def _nodes(scope: TenantScope, instance: FlowInstance) -> list[dict[str, Any]]:
    version = scope.session.scalars(scope.select(
        FlowVersion, FlowVersion.flow_id == instance.flow_id,
        FlowVersion.version == instance.flow_version)).first()
    return list((version.definition if version is not None else {}).get("nodes", []))
