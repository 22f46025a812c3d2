"""Running automation rules on record changes, in the change's own transaction.

After a record is created, changed or deleted through the record service, every published
rule of its form whose trigger and condition hold (`workflow_engine.automations.fires`)
runs its actions: set fields (which is itself a change, so rules cascade), assign the
owner (round robin on an atomic counter — fair under concurrent creates — least loaded,
or from a user field), notify, queue a webhook in the outbox, start an approval. Each
firing is in the record's history. A cascade stops at `MAX_DEPTH` rules deep, and a rule
that would fire again on the same record inside its own cascade is a loop: it is stopped
and the history says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func

from crm_platform.auth.principal import Principal
from crm_platform.db import utcnow
from crm_platform.errors import LoomError, ValidationFailed, engine_fields
from crm_platform.models import (
    Flow,
    FlowVersion,
    Form,
    Notification,
    OutboxEntry,
    Record,
    RecordHistory,
    User,
)
from crm_platform.scoping import TenantScope
from crm_platform.services.flows.people import with_people
from crm_platform.services.forms import definitions as form_service
from crm_platform.services.identity.directory import PlatformDirectory
from crm_platform.services.records.resolver import PlatformResolver
from form_engine.errors import ExpressionError
from form_engine.expressions import EvaluationContext, Evaluator, compile_expression
from form_engine.validation import stored_values
from workflow_engine.automations import fires
from workflow_engine.engine import resolve

MAX_DEPTH = 5
_CHAIN = "loom.automation_chain"


# (version row id, published at) -> definition: published versions never change, so a
# process may keep them; each save only asks which versions are current (no JSON).
_DEFINITIONS: dict[tuple[int, Any], dict[str, Any]] = {}


def _rules(scope: TenantScope, form: Form) -> list[dict[str, Any]]:
    current = [tuple(row) for row in scope.session.execute(scope.filter(scope.select(
        Flow, Flow.form_id == form.id, Flow.kind == "automation").join(
        FlowVersion, (FlowVersion.flow_id == Flow.id)
        & (FlowVersion.version == Flow.published_version)).with_only_columns(
        FlowVersion.id, FlowVersion.published_at).order_by(Flow.id), FlowVersion))]
    for key in current:
        if key not in _DEFINITIONS:
            row = scope.session.get(FlowVersion, (scope.tenant_id, key[0]))
            if len(_DEFINITIONS) > 10_000:
                _DEFINITIONS.clear()
            _DEFINITIONS[key] = dict(row.definition) if row is not None else {}
    return [_DEFINITIONS[key] for key in current if _DEFINITIONS.get(key)]


def has_rules(scope: TenantScope, form: Form) -> bool:
    return bool(_rules(scope, form))


def evaluator_for(scope: TenantScope) -> Evaluator:
    """An evaluator whose today() is the tenant's day (not UTC's)."""
    return Evaluator(EvaluationContext(timezone=form_service.type_env(scope).timezone))


def on_change(scope: TenantScope, actor: Principal, form: Form, record: Record, event: str,
              before: Mapping[str, Any] | None) -> None:
    """Run the form's rules for this change (called through the record-change hook).

    `recomputed`: the record's formulas or rollups changed without it being edited (a
    related record was written, or the day turned); its `updated` rules that watch one of
    the changed fields run, as the system."""
    rules = _rules(scope, form)
    if event == "recomputed":
        after = record.data
        changed = {key for key in {*(before or {}), *after}
                   if (before or {}).get(key) != after.get(key)}
        rules = [rule for rule in rules if rule["trigger"]["on"] == "updated"
                 and changed & set(rule["trigger"].get("fields", ()))]
        _run_rules(scope, Principal.console(scope.tenant_id), form, record, "updated",
                   before, rules, isolated=True)
        return
    _run_rules(scope, actor, form, record, event, before, rules)


def _run_rules(scope: TenantScope, actor: Principal, form: Form, record: Record, event: str,
               before: Mapping[str, Any] | None, rules: list[dict[str, Any]],
               isolated: bool = False) -> None:
    """`isolated`: a firing nobody's change asked for (a value changed by itself) — an
    action that fails (an approval already running, a record that no longer validates)
    is undone and noted in the record's history, and what caused it goes on."""
    if not rules:
        return
    chain: list[tuple[str, int]] = scope.session.info.setdefault(_CHAIN, [])
    # conditions see typed values, as scheduled rules do: a date is a date, not its text
    compiled = form_service.compiled(scope, form_service.published_row(scope, form))
    after = stored_values(compiled, record.data)
    before = None if before is None else stored_values(compiled, before)
    evaluator = evaluator_for(scope)
    for rule in rules:
        if not fires(rule, event, before, after, evaluator=evaluator):
            continue
        link = (rule["key"], record.id)
        if link in chain or len(chain) >= MAX_DEPTH:
            write_history(scope, actor, record, "automation_stopped", rule["key"], event,
                          reason="loop" if link in chain else "depth",
                          chain=[k for k, _ in chain])
            continue
        chain.append(link)
        try:
            if isolated:
                _fire_isolated(scope, actor, form, record, rule, event)
            else:
                fire(scope, actor, form, record, rule, event)
        finally:
            chain.pop()


def _fire_isolated(scope: TenantScope, actor: Principal, form: Form, record: Record,
                   rule: Mapping[str, Any], event: str) -> None:
    try:
        with scope.session.begin_nested():
            fire(scope, actor, form, record, rule, event)
    except (LoomError, ExpressionError) as error:
        scope.session.expire(record)
        write_history(scope, actor, record, "automation_failed", rule["key"], event,
                      error=error.code)


def fire(scope: TenantScope, actor: Principal, form: Form, record: Record,
         rule: Mapping[str, Any], event: str, **details: Any) -> None:
    """One firing of `rule` on `record`: written to the history, then its actions, in
    order (a change, a scheduled occurrence)."""
    write_history(scope, actor, record, "automation", rule["key"], event, **details)
    for action in rule["actions"]:
        ACTIONS[action["type"]](scope, actor, form, record, rule, action, event)


def write_history(scope: TenantScope, actor: Principal, record: Record, action: str,
                  rule: str, event: str, **details: Any) -> None:
    scope.add(RecordHistory(record_id=record.id, action=action, version=record.version,
                            form_version=record.form_version, actor_id=actor.acting_user_id,
                            changes={"automation": {"rule": rule, "event": event,
                                                    **details}}))


def _set_fields(scope: TenantScope, actor: Principal, form: Form, record: Record,
                rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    if event == "deleted":
        return
    from crm_platform.services.records.operations import system_update

    values = dict(action.get("values", {}))
    if action.get("expressions"):
        values.update(_worked_out(scope, form, record, rule, action["expressions"],
                                  actor.locale))
    system_update(scope, actor, form, record, values)


def _worked_out(scope: TenantScope, form: Form, record: Record, rule: Mapping[str, Any],
                sources: Mapping[str, str], locale: str) -> dict[str, Any]:
    """{key: expression} worked out over the record's (typed) values, as JSON values; an
    expression that fails is the rule's failure, named (a 422, never a 500)."""
    evaluator = evaluator_for(scope)
    compiled = form_service.compiled(scope, form_service.published_row(scope, form))
    names = {**stored_values(compiled, record.data), "id": record.id}
    values = {}
    for key, source in sources.items():
        try:
            value = evaluator.run(compile_expression(source), names)
        except ExpressionError as error:
            raise ValidationFailed("automation_failed", fields=engine_fields(
                [error.problem(f"automations.{rule['key']}.{key}")], locale),
                rule=rule["key"]) from None
        values[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def _candidates(scope: TenantScope, action: Mapping[str, Any]) -> list[int]:
    directory = PlatformDirectory(scope)
    if "users" in action:
        return directory.active(list(action["users"]))
    return directory.users_with_roles([action["role"]])


def _assign_owner(scope: TenantScope, actor: Principal, form: Form, record: Record,
                  rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    if event == "deleted":
        return
    strategy = action["strategy"]
    owner: int | None
    if strategy == "by_field":
        value = with_people(record).get(action["field"])
        owner = value if isinstance(value, int) else None
    else:
        people = _candidates(scope, action)
        if not people:
            return
        if strategy == "round_robin":
            turn = PlatformResolver(scope, form).next_sequence(f"~rr_{rule['key']}"[:63], "")
            owner = people[(turn - 1) % len(people)]
        else:  # least_loaded: fewest live records of this form
            counts = dict(scope.session.execute(scope.filter(
                scope.select(Record, Record.form_id == form.id, Record.deleted_at.is_(None),
                             Record.owner_id.in_(people))
                .with_only_columns(Record.owner_id, func.count()).group_by(Record.owner_id),
                Record)).all())
            owner = min(people, key=lambda person: (counts.get(person, 0),
                                                    people.index(person)))
    user = scope.find(User, owner) if owner is not None else None
    if user is None or not user.is_active or record.owner_id == user.id:
        return
    record.owner_id, record.department_id = user.id, user.department_id
    record.version += 1
    record.updated_at = utcnow()
    write_history(scope, actor, record, "assign", rule["key"], event, owner=user.id)


def _people(scope: TenantScope, actor: Principal, record: Record,
            action: Mapping[str, Any]) -> list[int]:
    """The users an action's `to` names; heads and managers are those of whoever made the
    change (nobody's, for a change the system made)."""
    return resolve(action.get("to", []), PlatformDirectory(scope), with_people(record),
                   actor.acting_user_id)


def _notify(scope: TenantScope, actor: Principal, form: Form, record: Record,
            rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    for person in _people(scope, actor, record, action):
        scope.add(Notification(user_id=person, kind="automation", record_id=record.id,
                               payload={"rule": rule["key"], "event": event,
                                        **({"message": action["message"]}
                                           if "message" in action else {})}))


def _webhook(scope: TenantScope, actor: Principal, form: Form, record: Record,
             rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    scope.add(OutboxEntry(kind="webhook", payload={
        "url": action["url"], "rule": rule["key"], "event": event, "form": form.key,
        "record": record.id, "data": dict(record.data)}))


def _send_email(scope: TenantScope, actor: Principal, form: Form, record: Record,
                rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    """One outbox entry per language among the recipients; the dispatcher sends it."""
    from form_engine.messages import label_text

    people = _people(scope, actor, record, action)
    by_locale: dict[str, list[str]] = {}
    for user in people:
        row = scope.find(User, user)
        if row is not None:
            by_locale.setdefault(row.locale, []).append(row.email)
    address = record.data.get(action.get("to_field", "")) if "to_field" in action else None
    if isinstance(address, str) and address:
        by_locale.setdefault("en", []).append(address)
    for locale, emails in by_locale.items():
        scope.add(OutboxEntry(kind="send_email", payload={
            "to": sorted(set(emails)), "subject": label_text(action["subject"], locale),
            "body": label_text(action["body"], locale), "rule": rule["key"],
            "record": record.id, "event": event}))


def _create_record(scope: TenantScope, actor: Principal, form: Form, record: Record,
                   rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    """A record of another form of the app, its fields worked out from this record
    (`{"title": "'Follow up ' + name", "customer": "id"}`), checked like any new record."""
    from crm_platform.services.records.operations import create_by_system

    data = _worked_out(scope, form, record, rule, action.get("values", {}), actor.locale)
    if isinstance(action.get("data"), Mapping):  # an approval flow's literal data
        data.update(action["data"])
    create_by_system(scope, actor, form.app_id, action["form"], data)


def _start_approval(scope: TenantScope, actor: Principal, form: Form, record: Record,
                    rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    if event == "deleted":
        return
    from crm_platform.services.flows.approvals import submit

    submit(scope, actor, form, record.id, action["flow"])


def _release_to_pool(scope: TenantScope, actor: Principal, form: Form, record: Record,
                     rule: Mapping[str, Any], action: Mapping[str, Any], event: str) -> None:
    """The record goes back to the pool: no owner (e.g. a customer nobody followed up)."""
    if event == "deleted" or record.owner_id is None:
        return
    previous = record.owner_id
    record.owner_id, record.department_id = None, None
    record.version += 1
    record.updated_at = utcnow()
    write_history(scope, actor, record, "release", rule["key"], event, owner=previous)


ACTIONS = {"set_fields": _set_fields, "assign_owner": _assign_owner, "notify": _notify,
           "webhook": _webhook, "start_approval": _start_approval,
           "release_to_pool": _release_to_pool, "send_email": _send_email,
           "create_record": _create_record}
