"""The approval engine: a pure state machine (DESIGN §5).

    run(definition, state, command, context) -> Step(state, effects)

`state` is plain JSON-ready data the platform stores with the instance; `effects` are what
the platform must do (lock the record, create a task in someone's inbox, set a timer,
notify, write history, set fields, finish). Nothing here reads a clock, a database or the
network: the context brings the time, the acting user, the record's values and a
`Directory` that answers "who has this role / who is this person's manager".

Commands: `submit`, `resubmit`, `approve`, `reject` (approval nodes), `complete` (handler
nodes: someone fills in fields, no vote), `return`, `transfer`, `add_signer`, `comment`,
`recall`, `urge`, `reassign`, `timeout`. A command that is not allowed raises
`FlowError` with a code (the platform answers 403 / 409) and changes nothing — the state
passed in is never modified.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from form_engine.errors import ExpressionError
from form_engine.expressions import EvaluationContext, Evaluator, compile_expression
from form_engine.validation import is_blank

URGE_INTERVAL = timedelta(hours=1)  # an instance's approvers are urged at most this often


class FlowError(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code, params)


class Directory(Protocol):
    """People questions only the platform can answer (always within one tenant)."""

    def active(self, users: Sequence[int]) -> list[int]: ...   # those still able to act

    def users_with_roles(self, roles: Sequence[str]) -> list[int]: ...

    def department_head(self, user: int, levels: int) -> int | None: ...

    def managers(self, user: int, levels: int) -> list[int]: ...

    def admins(self) -> list[int]: ...


@dataclass(frozen=True)
class Context:
    now: datetime
    actor: int | None                       # who sends the command (None: the system)
    record: Mapping[str, Any]               # the record's values, for conditions and fields
    directory: Directory
    is_admin: bool = False


@dataclass
class Step:
    state: dict[str, Any]
    effects: list[dict[str, Any]] = field(default_factory=list)


def condition_holds(source: str, values: Mapping[str, Any], evaluator: Evaluator) -> bool:
    """Whether a condition (an entry condition, a branch, a rule's) holds for a record's
    values; one that cannot be worked out does not hold."""
    try:
        return bool(evaluator.run(compile_expression(source), dict(values)))
    except ExpressionError:
        return False


def exact(number: int | float | Decimal) -> Decimal:
    """A definition's number as an exact Decimal: definitions read from JSON carry
    `Decimal`s, hand-built ones may carry floats (0.6 stays 0.6, not 0.59999…)."""
    return number if isinstance(number, Decimal) else Decimal(str(number))


def hours(number: int | float | Decimal) -> timedelta:
    """A time limit in hours (0.5, 1.25 …) as a timedelta, to the microsecond."""
    return timedelta(microseconds=int(exact(number) * 3_600_000_000))


def node_mode(node: Mapping[str, Any]) -> str:
    """How a node's tasks decide: approval nodes default to one after another; a handler
    node is done when any one of its handlers completes it, unless it says otherwise."""
    return node.get("mode", "sequential" if node["type"] == "approval" else "any")


def editable_fields(node: Mapping[str, Any]) -> set[str]:
    """The fields a task at this node may change: those marked `edit`, and those it must
    fill in (`required`)."""
    return {key for key, access in node.get("fields", {}).items() if access == "edit"} | set(
        node.get("required", ()))


def field_access(node: Mapping[str, Any], fields: Sequence[str], inputs: Set[str],
                 hidden: Set[str] = frozenset()) -> dict[str, str]:
    """What the assignee of a pending task at `node` sees of each field: `edit` or `read`
    (hidden fields are left out). The node decides for the fields it names; any other
    field is read-only, unless it is in `hidden` (what the assignee's roles hide). Only
    input fields (`inputs`) can be edited."""
    editable = editable_fields(node)
    named = node.get("fields", {})
    access: dict[str, str] = {}
    for key in fields:
        wanted = "edit" if key in editable else named.get(key) or (
            "hidden" if key in hidden else "read")
        if wanted == "edit" and key not in inputs:
            wanted = "read"
        if wanted != "hidden":
            access[key] = wanted
    return access


def resolve(parties: Sequence[Mapping[str, Any]], directory: Directory,
            record: Mapping[str, Any], submitter: int | None) -> list[int]:
    """The people a list of parties names — approvers, people copied or notified — each
    once, in order. Users named by id or by a user field count only while active; heads and
    managers are found from `submitter` (for a rule, whoever made the change)."""
    people: list[int] = []
    for party in parties:
        source = party["source"]
        if source == "users":
            found = directory.active(list(party["users"]))
        elif source == "roles":
            found = directory.users_with_roles(party["roles"])
        elif source == "user_field":
            value = record.get(party["field"])
            found = directory.active([value]) if isinstance(value, int) else []
        elif submitter is None:
            found = []
        elif source == "department_head":
            head = directory.department_head(submitter, party.get("levels", 1))
            found = [head] if head is not None else []
        elif source == "manager_chain":
            found = directory.managers(submitter, party.get("levels", 1))
        else:
            found = [submitter]
        people.extend(person for person in found if person not in people)
    return people


def new_state() -> dict[str, Any]:
    return {"status": "draft", "submitter": None, "active": [], "tasks": [], "joins": {},
            "approved_by": [], "passed": [], "next_task": 1}


def run(definition: Mapping[str, Any], state: Mapping[str, Any], command: Mapping[str, Any],
        context: Context) -> Step:
    """Apply `command`; returns the new state and the effects, or raises FlowError."""
    machine = _Machine(definition, copy.deepcopy(dict(state)), context)
    handler = _COMMANDS.get(command.get("type", ""))
    if handler is None:
        raise FlowError("flow_unknown_command", command=command.get("type"))
    handler(machine, command)
    return Step(machine.state, machine.effects)


class _Machine:
    def __init__(self, definition: Mapping[str, Any], state: dict[str, Any],
                 context: Context) -> None:
        self.definition = definition
        self.nodes = {node["key"]: node for node in definition["nodes"]}
        self.state = state
        self.context = context
        self.effects: list[dict[str, Any]] = []

    # -- helpers -----------------------------------------------------------------------
    def emit(self, kind: str, **data: Any) -> None:
        self.effects.append({"type": kind, **data})

    def history(self, action: str, node: str | None = None, comment: str | None = None,
                **extra: Any) -> None:
        self.emit("history", action=action, actor=self.context.actor, node=node,
                  comment=comment, **extra)

    def evaluate(self, source: str) -> bool:
        evaluator = Evaluator(EvaluationContext(lambda: self.context.now))
        return condition_holds(source, self.context.record, evaluator)

    def task(self, task_id: Any) -> dict[str, Any]:
        for task in self.state["tasks"]:
            if task["id"] == task_id:
                return task
        raise FlowError("flow_no_such_task", task=task_id)

    def node_tasks(self, node: str, *statuses: str) -> list[dict[str, Any]]:
        return [t for t in self.state["tasks"] if t["node"] == node and t["round"] ==
                self.state.get("round", 0) and (not statuses or t["status"] in statuses)]

    def require_running(self) -> None:
        if self.state["status"] != "running":
            raise FlowError("flow_not_running", status=self.state["status"])

    def own_task(self, command: Mapping[str, Any]) -> dict[str, Any]:
        self.require_running()
        task = self.task(command.get("task"))
        if task["status"] != "pending":
            raise FlowError("flow_task_closed", task=task["id"], status=task["status"])
        if task["assignee"] != self.context.actor and not self.context.is_admin:
            raise FlowError("flow_not_your_task", task=task["id"])
        return task

    # -- moving through the graph ------------------------------------------------------
    def enter(self, key: str) -> None:
        if self.state["status"] != "running":
            return
        node = self.nodes[key]
        kind = node["type"]
        if kind == "start":
            self.enter(node["next"])
        elif kind == "end":
            self.finish("approved")
        elif kind == "condition":
            target = next((branch["next"] for branch in node["branches"]
                           if self.evaluate(branch["when"])), node["default"])
            self.history("branch", key, taken=target)
            self.enter(target)
        elif kind == "parallel":
            self.state["joins"][node["join"]] = {"waiting": len(node["branches"])}
            for branch in node["branches"]:
                self.enter(branch)
        elif kind == "join":
            join = self.state["joins"].get(key, {"waiting": 1})
            join["waiting"] -= 1
            self.state["joins"][key] = join
            if join["waiting"] <= 0:
                self.state["joins"].pop(key, None)
                self.enter(node["next"])
        elif kind == "cc":
            self.emit("notify", node=key, users=self.resolve(node["recipients"]),
                      reason="cc")
            self.enter(node["next"])
        elif kind == "action":
            for action in node["actions"]:
                self.act(action, key)
            self.enter(node["next"])
        else:
            self.open_node(node)

    def act(self, action: Mapping[str, Any], node: str | None) -> None:
        """An action node's or a final action: an effect (a notify names its people)."""
        options = {k: v for k, v in action.items() if k != "type"}
        if action["type"] == "notify":
            options = {"users": self.resolve(options.pop("to", [])), "reason": "notify",
                       **options}
        self.emit(action["type"], node=node, **options)

    def resolve(self, parties: Sequence[Mapping[str, Any]]) -> list[int]:
        return resolve(parties, self.context.directory, self.context.record,
                       self.state["submitter"])

    def open_node(self, node: Mapping[str, Any]) -> None:
        key = node["key"]
        people = self.resolve(node["approvers"])
        resolved = bool(people)
        submitter = self.state["submitter"]
        if node.get("self_approval", "allow") != "allow":
            people = [person for person in people if person != submitter]
        if node.get("skip_repeat"):
            people = [p for p in people if p not in self.state["approved_by"]]
        if not people:
            if resolved:  # everyone was skipped: the submitter, or who already approved
                self.history("auto_skip", key)
                self.pass_node(key)
                return
            policy = node.get("on_nobody", "admin")
            self.history("nobody", key, policy=policy)
            if policy in ("skip", "auto_approve"):
                self.pass_node(key)
                return
            if policy == "auto_reject":
                self.finish("rejected")
                return
            people = self.context.directory.admins()
            if not people:
                self.finish("rejected")
                return
        self.state["active"].append(key)
        sequential = node_mode(node) == "sequential"
        for order, person in enumerate(people):
            self.add_task(key, person, "waiting" if sequential and order else "pending")

    def add_task(self, node_key: str, assignee: int, status: str,
                 position: int | None = None) -> dict[str, Any]:
        task = {"id": self.state["next_task"], "node": node_key, "assignee": assignee,
                "status": status, "round": self.state.get("round", 0), "comment": None}
        self.state["next_task"] += 1
        tasks = self.state["tasks"]
        tasks.insert(position if position is not None else len(tasks), task)
        if status == "pending":
            self.task_opened(task)
        return task

    def task_opened(self, task: dict[str, Any]) -> None:
        node = self.nodes[task["node"]]
        self.emit("task", task=task["id"], node=task["node"], assignee=task["assignee"],
                  fields=node.get("fields", {}))
        limit = node.get("time_limit")
        if limit:
            due = self.context.now + hours(limit["hours"])
            task["due"] = due.isoformat()
            self.emit("timer", task=task["id"], due=due.isoformat(),
                      on_timeout=limit["on_timeout"])

    def close_task(self, task: dict[str, Any], status: str) -> None:
        was_pending = task["status"] == "pending"
        task["status"] = status
        if was_pending:
            self.emit("task_closed", task=task["id"], status=status)

    def pass_node(self, key: str) -> None:
        if key in self.state["active"]:
            self.state["active"].remove(key)
        for task in self.node_tasks(key, "pending", "waiting"):
            self.close_task(task, "cancelled")
        self.state["passed"].append(key)
        self.enter(self.nodes[key]["next"])

    def finish(self, outcome: str) -> None:
        for task in self.state["tasks"]:
            if task["status"] in ("pending", "waiting"):
                self.close_task(task, "cancelled")
        self.state["active"] = []
        self.state["status"] = outcome
        self.history(outcome)
        final = "on_approve" if outcome == "approved" else "on_reject"
        for action in self.definition.get(final, []):
            self.act(action, None)
        self.emit("unlock")
        self.emit("finished", outcome=outcome)

    # -- deciding a node -----------------------------------------------------------------
    def decide(self, key: str) -> None:
        """After a vote: does the node pass, fail, or wait for more?"""
        node = self.nodes[key]
        mode = node_mode(node)
        tasks = [t for t in self.node_tasks(key) if t["status"] not in ("transferred",
                                                                          "cancelled")]
        approved = [t for t in tasks if t["status"] in ("approved", "completed")]
        rejected = [t for t in tasks if t["status"] == "rejected"]
        open_ = [t for t in tasks if t["status"] in ("pending", "waiting")]
        if rejected and mode != "ratio":
            self.node_rejected(node, veto=mode == "veto")
            return
        if mode == "ratio":
            needed = exact(node["ratio"]) * len(tasks)
            if len(approved) >= needed:
                self.pass_node(key)
            elif len(approved) + len(open_) < needed:
                self.node_rejected(node, veto=False)
            return
        # any (或签): one approval passes — not that of a signer added *before* someone,
        # whose turn comes after, nor while a signer added *after* someone is still to sign
        if mode == "any" and any(t.get("before") is None for t in approved) and not any(
                t.get("after") for t in open_):
            self.pass_node(key)
            return
        if not open_:
            self.pass_node(key)
            return
        if not any(t["status"] == "pending" for t in open_):
            self.activate(open_[0])  # sequential: the next in line

    def activate(self, task: dict[str, Any]) -> None:
        task["status"] = "pending"
        self.task_opened(task)

    def node_rejected(self, node: Mapping[str, Any], veto: bool) -> None:
        target = "end" if veto else node.get("reject_to", "end")
        for task in self.node_tasks(node["key"], "pending", "waiting"):
            self.close_task(task, "cancelled")
        if node["key"] in self.state["active"]:
            self.state["active"].remove(node["key"])
        if target == "end":
            self.finish("rejected")
        elif target == "submitter":
            self.send_back()
        else:
            self.return_to(target)

    def send_back(self) -> None:
        self.cancel_everything()
        self.state["status"] = "returned"
        self.history("returned_to_submitter")
        self.emit("unlock")
        self.emit("notify", users=[self.state["submitter"]], reason="returned")

    def return_to(self, key: str) -> None:
        self.cancel_everything()
        self.state["passed"] = self.state["passed"][:self.state["passed"].index(key)] if (
            key in self.state["passed"]) else self.state["passed"]
        self.history("returned", key)
        self.enter(key)

    def cancel_everything(self) -> None:
        for task in self.state["tasks"]:
            if task["status"] in ("pending", "waiting"):
                self.close_task(task, "cancelled")
        self.state["active"] = []
        self.state["joins"] = {}
        self.state["round"] = self.state.get("round", 0) + 1


# -- commands ---------------------------------------------------------------------------
def _submit(machine: _Machine, command: Mapping[str, Any]) -> None:
    state, definition = machine.state, machine.definition
    if state["status"] not in ("draft", "returned", "recalled"):
        raise FlowError("flow_already_running", status=state["status"])
    condition = definition.get("entry_condition")
    if condition and not machine.evaluate(condition):
        raise FlowError("flow_entry_condition", condition=condition)
    first = state["status"] == "draft"
    state.update(status="running", submitter=machine.context.actor, passed=[],
                 approved_by=[] if first else state["approved_by"])
    state["round"] = state.get("round", 0) + (0 if first else 1)
    machine.history("submit" if first else "resubmit", comment=command.get("comment"))
    machine.emit("lock")
    start = next(node["key"] for node in definition["nodes"] if node["type"] == "start")
    machine.enter(start)


def _approve(machine: _Machine, command: Mapping[str, Any]) -> None:
    _pass_task(machine, command, "approval", "approved", "approve")


def _complete(machine: _Machine, command: Mapping[str, Any]) -> None:
    _pass_task(machine, command, "handler", "completed", "complete")


def _pass_task(machine: _Machine, command: Mapping[str, Any], node_type: str, status: str,
               action: str) -> None:
    """Approve (an approval node) or complete (a handler node) a task, with the changes the
    node lets its assignee make; a handler must leave its `required` fields filled in."""
    task = machine.own_task(command)
    node = _node_of_type(machine, task, node_type, action)
    changes = dict(command.get("fields") or {})
    refused = sorted(set(changes) - editable_fields(node))
    if refused:
        raise FlowError("flow_field_not_editable", names=", ".join(refused))
    values = {**machine.context.record, **changes}
    missing = [key for key in node.get("required", ())
               if is_blank(values.get(key), lenient=True) or values.get(key) == {}]
    if missing:
        raise FlowError("flow_fields_required", names=", ".join(missing))
    if changes:
        machine.emit("set_fields", node=task["node"], values=changes)
    machine.close_task(task, status)
    task["comment"] = command.get("comment")
    if task["assignee"] not in machine.state["approved_by"]:
        machine.state["approved_by"].append(task["assignee"])
    machine.history(action, task["node"], command.get("comment"), task=task["id"])
    _after_added_signer(machine, task)
    machine.decide(task["node"])


def _node_of_type(machine: _Machine, task: Mapping[str, Any], node_type: str, action: str
                  ) -> Mapping[str, Any]:
    """A handler's task is completed, never voted on; an approver's is voted on."""
    node = machine.nodes[task["node"]]
    if node["type"] != node_type:
        raise FlowError("flow_wrong_action", action=action, node=task["node"])
    return node


def _after_added_signer(machine: _Machine, task: dict[str, Any]) -> None:
    """A signer added *before* someone: once they approve, that person's turn comes."""
    waiting_for = task.get("before")
    if waiting_for is not None:
        original = machine.task(waiting_for)
        if original["status"] == "waiting":
            machine.activate(original)


def _reject(machine: _Machine, command: Mapping[str, Any]) -> None:
    task = machine.own_task(command)
    _node_of_type(machine, task, "approval", "reject")
    machine.close_task(task, "rejected")
    task["comment"] = command.get("comment")
    machine.history("reject", task["node"], command.get("comment"), task=task["id"])
    machine.decide(task["node"])


def _return(machine: _Machine, command: Mapping[str, Any]) -> None:
    task = machine.own_task(command)
    target = command.get("node", "submitter")
    machine.history("return", task["node"], command.get("comment"), to=target)
    if target == "submitter":
        machine.send_back()
        return
    if target not in machine.state["passed"]:
        raise FlowError("flow_not_an_earlier_node", node=target)
    machine.return_to(target)


def _transfer(machine: _Machine, command: Mapping[str, Any], action: str = "transfer"
              ) -> None:
    task = machine.own_task(command)
    to = command.get("to")
    if not isinstance(to, int) or to == task["assignee"]:
        raise FlowError("flow_bad_assignee", to=to)
    position = machine.state["tasks"].index(task)
    machine.close_task(task, "transferred")
    new = machine.add_task(task["node"], to, "pending", position + 1)
    if task.get("before") is not None:
        new["before"] = task["before"]
    machine.history(action, task["node"], command.get("comment"), task=task["id"], to=to)


def _reassign(machine: _Machine, command: Mapping[str, Any]) -> None:
    if not machine.context.is_admin:
        raise FlowError("flow_admin_only")
    _transfer(machine, command, "reassign")


def _add_signer(machine: _Machine, command: Mapping[str, Any]) -> None:
    """加签: `before` — the added person approves first, then the task comes back;
    `after` — the added person approves after this task, before the node can pass."""
    task = machine.own_task(command)
    to, where = command.get("to"), command.get("position", "after")
    if not isinstance(to, int) or where not in ("before", "after"):
        raise FlowError("flow_bad_assignee", to=to)
    position = machine.state["tasks"].index(task)
    if where == "before":
        task["status"] = "waiting"
        machine.emit("task_closed", task=task["id"], status="waiting")
        added = machine.add_task(task["node"], to, "pending", position)
        added["before"] = task["id"]
    else:
        machine.add_task(task["node"], to, "waiting", position + 1)["after"] = True
    machine.history("add_signer", task["node"], command.get("comment"), to=to,
                    position=where)


def _comment(machine: _Machine, command: Mapping[str, Any]) -> None:
    machine.require_running()
    if not str(command.get("comment") or "").strip():
        raise FlowError("flow_empty_comment")
    machine.history("comment", command.get("node"), command.get("comment"))


def _recall(machine: _Machine, command: Mapping[str, Any]) -> None:
    machine.require_running()
    if machine.context.actor != machine.state["submitter"] and not machine.context.is_admin:
        raise FlowError("flow_submitter_only")
    machine.cancel_everything()
    machine.state["status"] = "recalled"
    machine.history("recall", comment=command.get("comment"))
    machine.emit("unlock")


def _urge(machine: _Machine, command: Mapping[str, Any]) -> None:
    machine.require_running()
    if machine.context.actor != machine.state["submitter"] and not machine.context.is_admin:
        raise FlowError("flow_submitter_only")
    last = machine.state.get("urged_at")
    if last is not None:
        wait = datetime.fromisoformat(last) + URGE_INTERVAL - machine.context.now
        if wait.total_seconds() > 0:
            raise FlowError("flow_urged_recently", retry_after=math.ceil(wait.total_seconds()))
    machine.state["urged_at"] = machine.context.now.isoformat()
    waiting = [t["assignee"] for t in machine.state["tasks"] if t["status"] == "pending"]
    machine.emit("notify", users=waiting, reason="urge")
    machine.history("urge", comment=command.get("comment"))


def _timeout(machine: _Machine, command: Mapping[str, Any]) -> None:
    """A task's time limit passed (sent by the platform's timer, as the system)."""
    if machine.state["status"] != "running":
        return  # the timer outlived the instance: nothing to do
    task = machine.task(command.get("task"))
    if task["status"] != "pending":
        return  # answered in time, or moved on
    limit = machine.nodes[task["node"]].get("time_limit") or {}
    action = limit.get("on_timeout", "remind")
    machine.history("timeout", task["node"], task=task["id"], on_timeout=action)
    if action == "remind":
        machine.emit("notify", users=[task["assignee"]], reason="overdue")
    elif action == "auto_approve":
        machine.close_task(task, "approved")
        machine.decide(task["node"])
    elif action == "auto_reject":
        machine.close_task(task, "rejected")
        machine.decide(task["node"])
    else:  # escalate: to the assignee's manager, else an administrator
        managers = machine.context.directory.managers(task["assignee"], 1)
        target = managers[0] if managers else next(iter(machine.context.directory.admins()),
                                                   None)
        if target is None or target == task["assignee"]:
            machine.emit("notify", users=[task["assignee"]], reason="overdue")
            return
        position = machine.state["tasks"].index(task)
        machine.close_task(task, "transferred")
        machine.add_task(task["node"], target, "pending", position + 1)
        machine.history("escalate", task["node"], task=task["id"], to=target)


_COMMANDS = {
    "submit": _submit, "resubmit": _submit, "approve": _approve, "reject": _reject,
    "complete": _complete,
    "return": _return, "transfer": _transfer, "reassign": _reassign,
    "add_signer": _add_signer, "comment": _comment, "recall": _recall, "urge": _urge,
    "timeout": _timeout,
}
