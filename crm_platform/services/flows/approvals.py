"""Running approval flows: submit a record, act on tasks and instances, read the inbox.

The engine (`workflow_engine.engine`) decides; this module feeds it the instance's state,
the acting user, the record's values and a directory of people, then carries out the
effects in the same transaction: the record's lock, the inbox rows, timers, in-app
notifications, the record's history (every action with its comment), field changes and
the outbox for what leaves the transaction. Instances run on the flow version they started
with; a command is refused (nothing changes) with the engine's reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow, write_first
from crm_platform.errors import Conflict, FieldError, LoomError, NotFound, ValidationFailed
from crm_platform.models import (
    Flow,
    FlowInstance,
    FlowTask,
    FlowTimer,
    FlowVersion,
    Form,
    Notification,
    OutboxEntry,
    Record,
    RecordHistory,
    User,
)
from crm_platform.scoping import TenantScope, is_valid_id
from crm_platform.services.flows.people import with_people
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.identity.directory import PlatformDirectory
from crm_platform.services.records import operations as record_service
from crm_platform.services.records.access import access_for, hidden_from_any_role
from form_engine.validation import stored_values
from workflow_engine.engine import Context, FlowError, field_access, new_state, run

# How the engine's refusals read over HTTP.
_STATUS = {"flow_not_your_task": 403, "flow_admin_only": 403, "flow_submitter_only": 403,
           "flow_no_such_task": 404, "flow_task_closed": 409, "flow_not_running": 409,
           "flow_already_running": 409, "flow_urged_recently": 429}


def _engine_error(error: FlowError) -> LoomError:
    headers = ({"Retry-After": str(error.params["retry_after"])}
               if "retry_after" in error.params else None)
    return LoomError(error.code, headers=headers,
                     **{k: str(v) for k, v in error.params.items()}
                     ).with_status(_STATUS.get(error.code, 422))


# (database, tenant and its creation, flow, version) -> definition: a published flow
# version never changes, so a process keeps it and a step reads nothing for it. The
# tenant's creation time tells apart tenants of two databases that reuse ids.
_DEFINITIONS: dict[tuple[Any, ...], Mapping[str, Any]] = {}


def _definition(scope: TenantScope, instance: FlowInstance) -> Mapping[str, Any]:
    """The flow version the instance runs on (never the newest, unless it started there)."""
    tenant = form_service.tenant_of(scope)   # read for the form's types anyway
    key = (str(scope.session.get_bind().engine.url), scope.tenant_id, tenant.created_at,
           instance.flow_id, instance.flow_version)
    if key not in _DEFINITIONS:
        row = scope.session.scalars(scope.select(
            FlowVersion, FlowVersion.flow_id == instance.flow_id,
            FlowVersion.version == instance.flow_version)).first()
        if row is None:
            raise NotFound("resource_not_found", resource="flow", id=instance.flow_id)
        if len(_DEFINITIONS) > 10_000:
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = row.definition
    return _DEFINITIONS[key]


def _step(scope: TenantScope, actor: Principal, instance: FlowInstance, record: Record,
          command: Mapping[str, Any], now: datetime | None = None,
          acting: FlowTask | None = None) -> None:
    form = scope.get(Form, instance.form_id, "form")
    _row, compiled = record_service.current_version(scope, form)
    context = Context(now=now or utcnow(), actor=actor.acting_user_id,
                      record={**with_people(record), **stored_values(compiled, record.data)},
                      directory=PlatformDirectory(scope), is_admin=actor.is_tenant_admin)
    try:
        step = run(_definition(scope, instance), instance.state, command, context)
    except FlowError as error:
        raise _engine_error(error) from error
    existing = {task["id"] for task in instance.state.get("tasks", [])}
    instance.state = step.state
    instance.status = step.state["status"]
    _Effects(scope, actor, instance, record, form, existing, acting).apply(step.effects)
    scope.session.flush()


class _Effects:
    def __init__(self, scope: TenantScope, actor: Principal, instance: FlowInstance,
                 record: Record, form: Form, existing: set[int],
                 acting: FlowTask | None = None) -> None:
        self.scope, self.actor, self.instance = scope, actor, instance
        self.record, self.form = record, form
        self.existing = existing        # the task numbers the instance had before the step
        self.known = {acting.number: acting} if acting is not None else {}
        self._tasks: dict[int, FlowTask] | None = None

    def apply(self, effects: list[dict[str, Any]]) -> None:
        for effect in effects:
            getattr(self, "on_" + effect["type"], self.on_outbox)(effect)

    def on_lock(self, _effect: Mapping[str, Any]) -> None:
        self.record.locked = True

    def on_unlock(self, _effect: Mapping[str, Any]) -> None:
        self.record.locked = False

    def on_task(self, effect: Mapping[str, Any]) -> None:
        """A task opens — or opens again, after a signer added before it has signed."""
        task = self._task_row(effect["task"])
        if task is None:
            self.known[effect["task"]] = self.scope.add(FlowTask(
                instance_id=self.instance.id, number=effect["task"], node=effect["node"],
                assignee_id=effect["assignee"], status="pending"))
        else:
            task.status, task.closed_at = "pending", None
        self.notify([effect["assignee"]], "task", node=effect["node"])

    def _rows(self) -> dict[int, FlowTask]:
        """The instance's inbox rows by the engine's task number, read once per step."""
        if self._tasks is None:
            self._tasks = {task.number: task for task in self.scope.session.scalars(
                self.scope.select(FlowTask, FlowTask.instance_id == self.instance.id))}
        return self._tasks

    def _task_row(self, number: int) -> FlowTask | None:
        """The inbox row of a task: the one acted on and those opened in this step are at
        hand, a task the engine has just opened has none yet; the others are read (all
        of the instance's, once)."""
        if number in self.known:
            return self.known[number]
        if number not in self.existing:
            return None
        return self._rows().get(number)

    def on_task_closed(self, effect: Mapping[str, Any]) -> None:
        task = self._task_row(effect["task"])
        if task is not None:
            task.status = effect["status"]
            task.closed_at = None if effect["status"] == "waiting" else utcnow()

    def on_timer(self, effect: Mapping[str, Any]) -> None:
        due = datetime.fromisoformat(effect["due"])
        self.scope.add(FlowTimer(instance_id=self.instance.id, task_number=effect["task"],
                                 due_at=due))
        task = self._task_row(effect["task"])
        if task is not None:
            task.due_at = due

    def on_notify(self, effect: Mapping[str, Any]) -> None:
        self.notify(effect.get("users", []), effect.get("reason", "notify"),
                    node=effect.get("node"), message=effect.get("message"))

    def notify(self, users: Sequence[int | None], kind: str, **payload: Any) -> None:
        for user in dict.fromkeys(u for u in users if u is not None):
            self.scope.add(Notification(user_id=user, kind=kind, record_id=self.record.id,
                                        instance_id=self.instance.id,
                                        payload={k: v for k, v in payload.items()
                                                 if v is not None}))

    def on_history(self, effect: Mapping[str, Any]) -> None:
        details = {key: value for key, value in effect.items()
                   if key not in ("type", "action", "actor", "comment") and value is not None}
        self.scope.add(RecordHistory(
            record_id=self.record.id, action=f"flow_{effect['action']}"[:32],
            version=self.record.version, form_version=self.record.form_version,
            actor_id=effect.get("actor"), changes={"flow": details},
            comment=effect.get("comment")))

    def on_set_fields(self, effect: Mapping[str, Any]) -> None:
        record_service.system_update(self.scope, self.actor, self.form, self.record,
                                     dict(effect.get("values", {})))

    def on_create_record(self, effect: Mapping[str, Any]) -> None:
        """A flow's `create_record` action: a record of another form, in this transaction."""
        record_service.create_by_system(self.scope, self.actor, self.form.app_id,
                                        effect["form"], dict(effect.get("data") or {}))

    def on_finished(self, effect: Mapping[str, Any]) -> None:
        self.notify([self.instance.submitter_id], effect["outcome"])

    def on_outbox(self, effect: Mapping[str, Any]) -> None:
        """Webhooks, e-mail, new records: written now, delivered by the dispatcher."""
        self.scope.add(OutboxEntry(kind=effect["type"], payload={
            **{k: v for k, v in effect.items() if k != "type"},
            "record": self.record.id, "instance": self.instance.id}))


# -- commands ----------------------------------------------------------------------------
def submit(scope: TenantScope, actor: Principal, form: Form, record_id: int, flow_key: str,
           comment: str | None = None) -> FlowInstance:
    """Start `flow_key`'s current version on a record the actor may change."""
    write_first(scope.session)  # SQLite: two submits must not both see no running flow
    # row-locked, so two submits of one record queue up: 404 when the actor cannot see
    # the record, 403 when they may not change it
    record = record_service.locked_record(scope, actor, form, record_id, action="update")
    flow = scope.session.scalars(scope.select(
        Flow, Flow.form_id == form.id, Flow.key == flow_key, Flow.kind == "approval")).first()
    if flow is None:
        raise NotFound("resource_not_found", resource="flow", id=flow_key)
    if flow.published_version is None:
        raise Conflict("flow_not_published", flow=flow_key)
    running = scope.session.scalars(scope.select(
        FlowInstance, FlowInstance.record_id == record.id,
        FlowInstance.status.in_(("running", "returned")))).first()
    if running is not None:
        if running.status == "returned" and running.flow_id == flow.id:
            _step(scope, actor, running, record, {"type": "resubmit", "comment": comment})
            return running
        raise Conflict("flow_already_running", instance=running.id)
    instance = scope.add(FlowInstance(flow_id=flow.id, flow_version=flow.published_version,
                                      form_id=form.id, record_id=record.id, status="draft",
                                      state=new_state(), submitter_id=actor.acting_user_id))
    scope.session.flush()
    _step(scope, actor, instance, record, {"type": "submit", "comment": comment})
    return instance


def locked_instance(scope: TenantScope, instance_id: int) -> FlowInstance:
    """The instance, read after taking its row for this transaction: `SELECT … FOR
    UPDATE` on PostgreSQL; SQLite ignores FOR UPDATE and reads before a transaction's
    first write, so there the database's write lock is taken first (`write_first`) — two
    concurrent actions then run one after the other, the second on what the first left."""
    if not is_valid_id(instance_id):
        raise NotFound("resource_not_found", resource="instance", id=instance_id)
    write_first(scope.session)
    instance = scope.session.scalars(scope.select(
        FlowInstance, FlowInstance.id == instance_id).with_for_update().execution_options(
        populate_existing=True)).first()
    if instance is None:
        raise NotFound("resource_not_found", resource="instance", id=instance_id)
    return instance


def _claim(scope: TenantScope, task: FlowTask) -> None:
    """A task is decided once: only a pending task may be acted on (a conditional update,
    one row or a 409), so of many concurrent approvals exactly one goes through."""
    if scope.session.execute(scope.update(
            FlowTask, FlowTask.id == task.id, FlowTask.status == "pending").values(
            status=FlowTask.status)).rowcount != 1:
        scope.session.refresh(task)
        raise Conflict("flow_task_closed", status=task.status)


def _colleague(scope: TenantScope, user_id: Any, path: str = "to") -> int:
    """The user a task is handed to: an active user of the caller's tenant, or a 422
    naming `path` (a user of another tenant is no different from none at all)."""
    user = scope.reference(User, user_id, path, "user")
    if not user.is_active:
        raise ValidationFailed(fields=[FieldError(path, "user_inactive", {"value": user_id})])
    return user.id


def _assigned_task(scope: TenantScope, actor: Principal, task_id: int) -> FlowTask:
    """A task of the actor's (any task, for an administrator); to anyone else it does not
    exist."""
    task = scope.find(FlowTask, task_id)
    if task is None or not (task.assignee_id == actor.user_id or actor.is_tenant_admin):
        raise NotFound("resource_not_found", resource="task", id=task_id)
    return task


@dataclass(frozen=True)
class TaskView:
    """A task with the record as its assignee sees it at the task's node."""

    task: FlowTask
    instance: FlowInstance
    record: Record
    node: Mapping[str, Any]
    fields: dict[str, str]          # field key -> "edit" | "read"; hidden fields absent

    @property
    def values(self) -> dict[str, Any]:
        return {key: value for key, value in self.record.data.items() if key in self.fields}


def task_view(scope: TenantScope, actor: Principal, task_id: int) -> TaskView:
    """The record through the task: approvers see it even without a role on the form, as
    the node's field permissions say — what they may edit, what they may read, and nothing
    of the fields the node hides. A field the node does not name is hidden if the
    assignee's roles hide it — or, for someone with no role on the form, if any role
    does. Only a pending task opens the record: once it is decided, transferred or
    cancelled, the task shows no values (the record itself is there for whoever may read
    it)."""
    task = _assigned_task(scope, actor, task_id)
    instance = scope.get(FlowInstance, task.instance_id, "instance")
    form = scope.get(Form, instance.form_id, "form")
    record = scope.get(Record, instance.record_id, "record")
    node = next(node for node in _definition(scope, instance)["nodes"]
                if node["key"] == task.node)
    if task.status != "pending" or instance.status != "running":
        return TaskView(task, instance, record, node, {})
    _row, compiled = record_service.current_version(scope, form)
    access = access_for(scope, actor, form)
    hidden = access.hidden if access.read != "none" else hidden_from_any_role(scope, form)
    shown = [field.key for field in compiled.fields if field.kind != "layout"]
    return TaskView(task, instance, record, node,
                    field_access(node, shown, compiled.input_keys, hidden))


def task_action(scope: TenantScope, actor: Principal, task_id: int, action: str,
                body: Mapping[str, Any]) -> FlowInstance:
    """approve / reject / complete / return / transfer / add_signer / comment on an inbox
    task. Only its assignee (or an administrator) may."""
    task = _assigned_task(scope, actor, task_id)
    # the instance first, as timers and other actions take it: no crosswise waits
    instance = locked_instance(scope, task.instance_id)
    if action != "comment":
        _claim(scope, task)
    record = scope.get(Record, instance.record_id, "record")
    command = {"type": action, "task": task.number,
               **{key: body[key] for key in ("comment", "fields", "node", "position")
                  if key in body}}
    if "to" in body:
        command["to"] = _colleague(scope, body["to"])
    if action == "comment":
        command["node"] = task.node
    try:
        _step(scope, actor, instance, record, command, acting=task)
    except ValidationFailed as error:  # the approver's own edits came as `fields`
        raise error.moved("data", "fields", set(command.get("fields") or ())) from None
    return instance


def instance_action(scope: TenantScope, actor: Principal, instance_id: int, action: str,
                    body: Mapping[str, Any]) -> FlowInstance:
    """recall / urge (the submitter), reassign (an administrator)."""
    instance = get_instance(scope, actor, instance_id)
    instance = locked_instance(scope, instance.id)
    record = scope.get(Record, instance.record_id, "record")
    command: dict[str, Any] = {"type": action, "comment": body.get("comment")}
    if action == "reassign":
        task = scope.session.scalars(scope.select(
            FlowTask, FlowTask.instance_id == instance.id, FlowTask.id == body.get("task"))
        ).first()
        if task is None:
            raise ValidationFailed(fields=[FieldError("task", "no_such_reference", {
                "resource": "task", "value": body.get("task")})])
        command.update(task=task.number, to=_colleague(scope, body.get("to")))
    _step(scope, actor, instance, record, command)
    return instance


def run_timeout(scope: TenantScope, system: Principal, instance: FlowInstance, record: Record,
                task_number: int, now: datetime) -> None:
    """A timer fell due: the engine applies the node's on_timeout (as the system)."""
    _step(scope, system, instance, record, {"type": "timeout", "task": task_number}, now)


def get_instance(scope: TenantScope, actor: Principal, instance_id: int) -> FlowInstance:
    """An instance the actor submitted, has a task in, or whose record they may read (else
    the same 404 as none at all)."""
    instance = scope.find(FlowInstance, instance_id)
    if instance is None:
        raise NotFound("resource_not_found", resource="instance", id=instance_id)
    if instance.submitter_id == actor.user_id or scope.session.scalars(scope.select(
            FlowTask, FlowTask.instance_id == instance.id,
            FlowTask.assignee_id == actor.user_id).with_only_columns(FlowTask.id)).first():
        return instance
    form = scope.get(Form, instance.form_id, "form")
    try:
        record_service.get_record(scope, actor, form, instance.record_id)
    except NotFound:
        raise NotFound("resource_not_found", resource="instance", id=instance_id) from None
    return instance


def inbox_query(scope: TenantScope, actor: Principal, status: str) -> Select[tuple[FlowTask]]:
    return scope.select(FlowTask, FlowTask.assignee_id == actor.user_id,
                        FlowTask.status == status)
