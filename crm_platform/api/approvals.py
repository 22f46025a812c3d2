"""Approvals at work: submit a record to a flow, the task inbox, task and instance actions,
in-app notifications. See docs/flows.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_platform.api import api, form_of, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.api.pagination import paginate
from crm_platform.api.render import iso
from crm_platform.auth.principal import Principal
from crm_platform.models import Flow, FlowInstance, FlowTask, Form, Notification
from crm_platform.scoping import TenantScope
from crm_platform.services.flows import approvals as service
from crm_platform.services.workspace import notifications as notification_service

TAGS = ("Approvals",)
COMMENT = {"type": "string", "maxLength": 2000}
TASK = schemas.obj({
    "id": schemas.ID, "instance": schemas.ID, "record": schemas.ID, "form": schemas.KEY,
    "flow": schemas.KEY, "node": {"type": "string"}, "assignee": schemas.nullable(schemas.ID),
    "status": {"type": "string"}, "comment": schemas.nullable({"type": "string"}),
    "due_at": schemas.nullable(schemas.TIMESTAMP), "created_at": schemas.TIMESTAMP},
    ("id", "instance", "record", "node", "status"))
TASK_DETAIL = schemas.obj({
    "task": TASK, "instance": {"type": "object"},
    "node": schemas.obj({"key": {"type": "string"}, "type": {"type": "string"},
                         "label": {}, "required": {"type": "array"}}, ("key", "type")),
    "fields": {"type": "object", "additionalProperties": {"enum": ["edit", "read"]}},
    "record": schemas.obj({"id": schemas.ID, "version": {"type": "integer"},
                           "data": {"type": "object"}, "locked": {"type": "boolean"}},
                          ("id", "data")),
    "actions": {"type": "array", "items": {"type": "string"}}},
    ("task", "instance", "node", "fields", "record", "actions"))
INSTANCE = schemas.obj({
    "id": schemas.ID, "flow": schemas.KEY, "flow_version": {"type": "integer"},
    "form": schemas.KEY, "record": schemas.ID, "status": {"type": "string"},
    "submitter": schemas.nullable(schemas.ID), "active": {"type": "array"},
    "tasks": {"type": "array", "items": TASK}, "created_at": schemas.TIMESTAMP,
    "updated_at": schemas.TIMESTAMP}, ("id", "flow", "record", "status", "tasks"))
SUBMIT = schemas.obj({"flow": schemas.KEY, "comment": COMMENT}, ("flow",))
TASK_ACTIONS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "approve": ("Approve (the node's editable fields may change with it)",
                {"comment": COMMENT, "fields": {"type": "object", "maxProperties": 200}}, ()),
    "reject": ("Reject (the node says where a rejection goes)", {"comment": COMMENT}, ()),
    "complete": ("Complete a handler step, filling in its fields (办理)",
                 {"comment": COMMENT, "fields": {"type": "object", "maxProperties": 200}}, ()),
    "return": ("Return to an earlier node, or to the submitter (退回)",
               {"comment": COMMENT, "node": {"type": "string", "maxLength": 63}}, ()),
    "transfer": ("Hand the task to someone else (转交)",
                 {"comment": COMMENT, "to": schemas.ID}, ("to",)),
    "add_signer": ("Add a signer before or after you (加签)",
                   {"comment": COMMENT, "to": schemas.ID,
                    "position": {"enum": ["before", "after"]}}, ("to",)),
    "comment": ("Comment without deciding", {"comment": COMMENT}, ("comment",)),
}
INSTANCE_ACTIONS: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "recall": ("Recall a pending approval (the submitter; 撤回)", {"comment": COMMENT}, ()),
    "urge": ("Remind whoever has a task (the submitter; 催办)", {"comment": COMMENT}, ()),
    "reassign": ("Give a task to someone else (an administrator)",
                 {"comment": COMMENT, "task": schemas.ID, "to": schemas.ID}, ("task", "to")),
}
READ = schemas.obj({"ids": {"type": "array", "items": schemas.ID, "maxItems": 500}}, ("ids",))
NOTIFICATION = schemas.obj({
    "id": schemas.ID, "kind": {"type": "string"}, "record": schemas.nullable(schemas.ID),
    "instance": schemas.nullable(schemas.ID), "payload": {"type": "object"},
    "read": {"type": "boolean"}, "created_at": schemas.TIMESTAMP},
    ("id", "kind", "read", "created_at"))


def _task(scope: TenantScope, task: FlowTask) -> dict[str, Any]:
    instance = scope.get(FlowInstance, task.instance_id, "instance")
    comment = next((entry.get("comment") for entry in instance.state.get("tasks", [])
                    if entry["id"] == task.number), None)
    return {"id": task.id, "instance": instance.id, "record": instance.record_id,
            "form": scope.get(Form, instance.form_id, "form").key,
            "flow": scope.get(Flow, instance.flow_id, "flow").key, "node": task.node,
            "assignee": task.assignee_id, "status": task.status, "comment": comment,
            "due_at": iso(task.due_at) if task.due_at else None,
            "created_at": iso(task.created_at)}


def _instance(scope: TenantScope, instance: FlowInstance) -> dict[str, Any]:
    tasks = scope.session.scalars(scope.select(
        FlowTask, FlowTask.instance_id == instance.id).order_by(FlowTask.id)).all()
    return {"id": instance.id, "flow": scope.get(Flow, instance.flow_id, "flow").key,
            "flow_version": instance.flow_version,
            "form": scope.get(Form, instance.form_id, "form").key,
            "record": instance.record_id, "status": instance.status,
            "submitter": instance.submitter_id, "active": instance.state.get("active", []),
            "tasks": [_task(scope, task) for task in tasks],
            "created_at": iso(instance.created_at), "updated_at": iso(instance.updated_at)}


@api.post("/apps/<app>/forms/<form>/records/<int:record_id>/submit")
@operation("Submit a record for approval", tags=TAGS, body=SUBMIT, responses={201: INSTANCE},
           description="Starts the flow's current version (a record returned to its "
                       "submitter is resubmitted); the record is locked while pending.")
def submit(principal: Principal, app: str, form: str, record_id: int, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    instance = service.submit(scope, principal, row, record_id, body["flow"],
                              body.get("comment"))
    return _instance(scope, instance), 201


@api.get("/tasks")
@operation("My approval inbox", tags=TAGS, query={**schemas.PAGE_QUERY, "status": {
    "enum": ["pending", "approved", "rejected", "completed", "transferred", "cancelled",
             "waiting"]}},
           responses={200: schemas.page_of(TASK)})
def inbox(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    return paginate(scope.session, service.inbox_query(scope, principal,
                                                       query.get("status", "pending")),
                    FlowTask, query, lambda task: _task(scope, task))


@api.get("/tasks/<int:task_id>")
@operation("A task with the record as its node shows it", tags=TAGS,
           responses={200: TASK_DETAIL},
           description="The record's values the node lets its assignee see, each field's "
                       "access (edit or read; hidden fields are left out) and the actions "
                       "the task takes now. Works without a role on the form: being the "
                       "assignee is enough.")
def get_task(principal: Principal, task_id: int):
    scope = scope_of(principal)
    view = service.task_view(scope, principal, task_id)
    pending = view.task.status == "pending"
    decide = ["approve", "reject"] if view.node["type"] == "approval" else ["complete"]
    return {"task": _task(scope, view.task), "instance": _instance(scope, view.instance),
            "node": {"key": view.node["key"], "type": view.node["type"],
                     "label": view.node.get("label"),
                     "required": list(view.node.get("required", []))},
            "fields": view.fields,
            "record": {"id": view.record.id, "version": view.record.version,
                       "data": view.values, "locked": view.record.locked},
            "actions": [*decide, "return", "transfer", "add_signer", "comment"]
            if pending and view.instance.status == "running" else []}


def _action_view(kind: str, act: Callable[..., FlowInstance], action: str, summary: str,
                 fields: dict[str, Any], required: tuple[str, ...]) -> Callable[..., Any]:
    """The view of POST /<kind>s/<id>/<action>: the service's `act`, the instance after."""
    def view(principal: Principal, body: dict[str, Any], **ids: int):
        scope = scope_of(principal)
        return _instance(scope, act(scope, principal, ids[f"{kind}_id"], action, body))

    view.__name__ = f"{kind}_{action}"
    return operation(summary, tags=TAGS, body=schemas.obj(fields, required),
                     responses={200: INSTANCE})(view)


for _kind, _act, _actions in (("task", service.task_action, TASK_ACTIONS),
                              ("instance", service.instance_action, INSTANCE_ACTIONS)):
    for _action, (_summary, _fields, _required) in _actions.items():
        api.add_url_rule(f"/{_kind}s/<int:{_kind}_id>/{_action}", view_func=_action_view(
            _kind, _act, _action, _summary, _fields, _required), methods=["POST"])


@api.get("/instances/<int:instance_id>")
@operation("An approval instance: status, the active nodes and every task", tags=TAGS,
           responses={200: INSTANCE})
def get_instance(principal: Principal, instance_id: int):
    scope = scope_of(principal)
    return _instance(scope, service.get_instance(scope, principal, instance_id))


@api.get("/notifications")
@operation("My in-app notifications, newest last", tags=TAGS,
           query={**schemas.PAGE_QUERY, "unread": {"type": "boolean"}},
           responses={200: schemas.page_of(NOTIFICATION)})
def notifications(principal: Principal, query: dict[str, Any]):
    scope = scope_of(principal)
    return paginate(scope.session, notification_service.notifications_query(
        scope, principal, query.get("unread", False)), Notification, query, lambda note: {
            "id": note.id, "kind": note.kind, "record": note.record_id,
            "instance": note.instance_id, "payload": note.payload,
            "read": note.read_at is not None, "created_at": iso(note.created_at)})


@api.post("/notifications/read")
@operation("Mark notifications read", tags=TAGS, body=READ,
           responses={200: schemas.obj({"marked": {"type": "integer"}}, ("marked",))})
def read_notifications(principal: Principal, body: dict[str, Any]):
    return {"marked": notification_service.mark_read(scope_of(principal), principal, body["ids"])}
