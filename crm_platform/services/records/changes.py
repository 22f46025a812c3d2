"""Record changes, announced to whoever listens: the record-change hook.

The records package writes records and knows nothing of what reacts to a write; packages
above it (flows: automation rules) subscribe a `Listener` when the application starts
(`subscribe`, from their `init_app`). Every write path — one record, a batch, an import —
announces its changes here, in the change's own transaction, after the record and its
history are flushed, so a listener's own writes commit or roll back with the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.auth.principal import Principal
from crm_platform.models import Form, Record
from crm_platform.scoping import TenantScope


@dataclass(frozen=True)
class Listener:
    """`listens_to(scope, form)` says cheaply whether any change of this form matters to
    the listener (bulk writes skip loading their records when none does);
    `changed(scope, actor, form, record, event, before)` reacts to one change, where
    `event` is created | updated | deleted, `assigned` (a new owner: a transfer, a claim)
    or `recomputed` (formulas or rollups changed because related records were written or
    the day turned; `actor` is the system), and `before` the data before (None on
    create)."""

    listens_to: Callable[[TenantScope, Form], bool]
    changed: Callable[[TenantScope, Principal, Form, Record, str,
                       Mapping[str, Any] | None], None]


_LISTENERS: dict[str, Listener] = {}


def subscribe(name: str, listener: Listener) -> None:
    """Add (or replace: subscribing again under the same name is harmless) a listener."""
    _LISTENERS[name] = listener


def announce(scope: TenantScope, actor: Principal, form: Form, record: Record, event: str,
             before: Mapping[str, Any] | None) -> None:
    """One record changed."""
    scope.session.flush()
    for listener in tuple(_LISTENERS.values()):
        listener.changed(scope, actor, form, record, event, before)


def announce_recomputed(scope: TenantScope, form: Form,
                        changed: Iterable[tuple[Record, Mapping[str, Any]]]) -> None:
    """Many records' formulas or rollups changed by themselves (`recomputed`, as the
    system): each (record, data before) is announced to the listeners that care about
    the form — asked once, not once per record."""
    listening = [item for item in tuple(_LISTENERS.values()) if item.listens_to(scope, form)]
    if not listening:
        return
    scope.session.flush()
    system = Principal.console(scope.tenant_id)
    for record, before in changed:
        for listener in listening:
            listener.changed(scope, system, form, record, "recomputed", before)


def announce_created(scope: TenantScope, actor: Principal, form: Form,
                     record_ids: Iterable[int]) -> None:
    """Many records were created at once (a batch, an import): each is announced as a
    create, and nothing is loaded when no listener cares about the form."""
    listening = [item for item in tuple(_LISTENERS.values()) if item.listens_to(scope, form)]
    if not listening:
        return
    scope.session.flush()
    for record_id in record_ids:
        record = scope.find(Record, record_id)
        if record is not None:
            for listener in listening:
                listener.changed(scope, actor, form, record, "created", None)
