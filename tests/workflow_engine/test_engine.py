"""The approval engine, scenario by scenario, as the people using it would tell them.

The engine is pure: each step gets the definition, the state, a command and a context (the
time, who acts, the record's values, and a directory of people) and returns the new state
and what the platform must do. `People` below is that directory for a small company:

    1 Ann (sales rep) -> 2 Max (sales manager) -> 3 Dora (director)
    4 Fei, 5 Fu (finance); 6..10 the board; 11 Ada (admin)
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from workflow_engine.definition import check_flow
from workflow_engine.engine import Context, FlowError, new_state, run

ANN, MAX, DORA, FEI, FU, ADA = 1, 2, 3, 4, 5, 11
BOARD = [6, 7, 8, 9, 10]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIELDS = {"amount": "currency", "discount": "percent", "sales_rep": "user",
          "stage": "select"}


ROLES = {"director": [DORA], "finance": [FEI, FU], "board": BOARD, "empty": []}
MANAGER = {ANN: MAX, MAX: DORA}
INACTIVE = {99}  # someone who left the company


class People:

    def active(self, users):
        return [user for user in users if user not in INACTIVE]

    def users_with_roles(self, roles):
        return [user for role in roles for user in ROLES.get(role, [])]

    def department_head(self, user, levels):
        return DORA

    def managers(self, user, levels):
        chain, current = [], user
        for _ in range(levels):
            current = MANAGER.get(current)
            if current is None:
                break
            chain.append(current)
        return chain

    def admins(self):
        return [ADA]


QUOTE = {
    "key": "quote", "form": "quote",
    "entry_condition": "discount > 10 or amount > 1000000",
    "nodes": [
        {"key": "start", "type": "start", "next": "manager"},
        {"key": "manager", "type": "approval", "mode": "any", "on_nobody": "admin",
         "approvers": [{"source": "manager_chain", "levels": 1}],
         "fields": {"discount": "edit"}, "reject_to": "submitter",
         "time_limit": {"hours": 2, "on_timeout": "escalate"}, "next": "size"},
        {"key": "size", "type": "condition",
         "branches": [{"when": "amount > 1000000", "next": "director"}], "default": "end"},
        {"key": "director", "type": "approval", "on_nobody": "admin",
         "approvers": [{"source": "roles", "roles": ["director"]}], "next": "finance"},
        {"key": "finance", "type": "approval", "mode": "all", "on_nobody": "admin",
         "approvers": [{"source": "roles", "roles": ["finance"]}], "next": "end"},
        {"key": "end", "type": "end"},
    ],
    "on_approve": [{"type": "set_fields", "values": {"stage": "approved"}}],
}


class Instance:
    """One record's trip through a flow, remembering every effect."""

    def __init__(self, definition: dict[str, Any], record: dict[str, Any]) -> None:
        assert check_flow(definition, FIELDS) == [], check_flow(definition, FIELDS)
        self.definition = definition
        self.record = record
        self.state = new_state()
        self.effects: list[dict[str, Any]] = []
        self.now = NOW

    def do(self, actor: int | None, kind: str, admin: bool = False, **command: Any
           ) -> list[dict[str, Any]]:
        context = Context(now=self.now, actor=actor, record=self.record, directory=People(),
                          is_admin=admin)
        step = run(self.definition, self.state, {"type": kind, **command}, context)
        self.state = step.state
        self.effects.extend(step.effects)
        return step.effects

    def inbox(self, user: int) -> list[int]:
        return [t["id"] for t in self.state["tasks"]
                if t["assignee"] == user and t["status"] == "pending"]

    def approve(self, user: int, **extra: Any) -> list[dict[str, Any]]:
        (task,) = self.inbox(user)
        return self.do(user, "approve", task=task, **extra)

    def reject(self, user: int, **extra: Any) -> list[dict[str, Any]]:
        (task,) = self.inbox(user)
        return self.do(user, "reject", task=task, **extra)

    @property
    def status(self) -> str:
        return self.state["status"]

    def actions(self) -> list[str]:
        return [e["action"] for e in self.effects if e["type"] == "history"]


def test_a_discount_over_ten_percent_goes_to_the_sales_manager() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    effects = quote.do(ANN, "submit")
    assert {"type": "lock"} in effects
    assert quote.inbox(MAX) and quote.status == "running"
    quote.approve(MAX, comment="ok")
    assert quote.status == "approved"
    assert {"type": "set_fields", "node": None, "values": {"stage": "approved"}} in (
        quote.effects)
    assert quote.effects[-2:] == [{"type": "unlock"},
                                  {"type": "finished", "outcome": "approved"}]
    assert quote.actions() == ["submit", "approve", "branch", "approved"]


def test_a_small_discount_does_not_need_approval() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 5})
    with pytest.raises(FlowError) as refused:
        quote.do(ANN, "submit")
    assert refused.value.code == "flow_entry_condition"
    assert quote.state == new_state()


def test_a_million_goes_to_the_director_then_finance_must_all_sign() -> None:
    quote = Instance(QUOTE, {"amount": 2_000_000, "discount": 0})
    quote.do(ANN, "submit")
    quote.approve(MAX)
    assert quote.inbox(DORA) and not quote.inbox(FEI)
    quote.approve(DORA)
    assert quote.inbox(FEI) and quote.inbox(FU)        # countersign: both at once
    quote.approve(FEI)
    assert quote.status == "running"                   # Fu has not signed yet
    quote.approve(FU)
    assert quote.status == "approved"


def test_one_finance_rejection_rejects_the_countersign() -> None:
    quote = Instance(QUOTE, {"amount": 2_000_000, "discount": 0})
    quote.do(ANN, "submit")
    quote.approve(MAX)
    quote.approve(DORA)
    quote.approve(FEI)
    quote.reject(FU, comment="margin too thin")
    assert quote.status == "rejected"
    assert not quote.inbox(FEI) and not quote.inbox(FU)
    assert quote.effects[-1] == {"type": "finished", "outcome": "rejected"}


def board_flow(mode: str, **extra: Any) -> dict[str, Any]:
    return {"key": "board", "nodes": [
        {"key": "start", "type": "start", "next": "board"},
        {"key": "board", "type": "approval", "mode": mode, "on_nobody": "admin",
         "approvers": [{"source": "roles", "roles": ["board"]}], "next": "end", **extra},
        {"key": "end", "type": "end"}]}


def test_three_of_five_is_enough_for_a_ratio_node() -> None:
    vote = Instance(board_flow("ratio", ratio=0.6), {})
    vote.do(ANN, "submit")
    vote.approve(6)
    vote.reject(7)
    vote.approve(8)
    assert vote.status == "running"
    vote.approve(9)
    assert vote.status == "approved"
    assert not any(vote.inbox(member) for member in BOARD)   # the last one's task closed


def test_a_ratio_node_fails_once_the_ratio_is_out_of_reach() -> None:
    vote = Instance(board_flow("ratio", ratio=0.6), {})
    vote.do(ANN, "submit")
    vote.reject(6)
    vote.reject(7)
    assert vote.status == "running"       # 3 of the remaining 3 could still carry it
    vote.reject(8)
    assert vote.status == "rejected"


def test_a_ratio_read_from_json_as_a_decimal_counts_exactly() -> None:
    vote = Instance(board_flow("ratio", ratio=Decimal("0.6")), {})
    vote.do(ANN, "submit")
    for member in BOARD[:2]:
        vote.approve(member)
    assert vote.status == "running"
    vote.approve(BOARD[2])                    # 3 of 5 is exactly 0.6
    assert vote.status == "approved"


def test_one_veto_ends_the_whole_flow() -> None:
    vote = Instance(board_flow("veto", reject_to="submitter"), {})
    vote.do(ANN, "submit")
    for member in BOARD[:4]:
        vote.approve(member)
    vote.reject(10, comment="no")
    assert vote.status == "rejected"       # a veto is final, whatever reject_to says


def test_return_to_the_first_node_and_resubmit() -> None:
    quote = Instance(QUOTE, {"amount": 2_000_000, "discount": 0})
    quote.do(ANN, "submit")
    quote.approve(MAX)
    (task,) = quote.inbox(DORA)
    quote.do(DORA, "return", task=task, node="manager", comment="check the margin")
    assert quote.inbox(MAX) and not quote.inbox(DORA)
    quote.approve(MAX)
    quote.approve(DORA)
    quote.approve(FEI)
    quote.approve(FU)
    assert quote.status == "approved"


def test_rejected_back_to_the_submitter_who_changes_it_and_resubmits() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 25})
    quote.do(ANN, "submit")
    effects = quote.reject(MAX, comment="25 % is too much")
    assert quote.status == "returned"
    assert {"type": "unlock"} in effects                 # Ann may edit the quote again
    quote.record["discount"] = 12
    quote.do(ANN, "resubmit")
    quote.approve(MAX)
    assert quote.status == "approved"


def test_returning_to_a_node_not_yet_passed_is_refused() -> None:
    quote = Instance(QUOTE, {"amount": 2_000_000, "discount": 0})
    quote.do(ANN, "submit")
    (task,) = quote.inbox(MAX)
    with pytest.raises(FlowError) as refused:
        quote.do(MAX, "return", task=task, node="finance")
    assert refused.value.code == "flow_not_an_earlier_node"


def test_add_a_signer_before_me() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    (task,) = quote.inbox(MAX)
    quote.do(MAX, "add_signer", task=task, to=FEI, position="before",
             comment="finance, please check first")
    assert quote.inbox(FEI) and not quote.inbox(MAX)
    quote.approve(FEI)
    assert quote.inbox(MAX) and quote.status == "running"
    quote.approve(MAX)
    assert quote.status == "approved"


def test_add_a_signer_after_me() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    (task,) = quote.inbox(MAX)
    quote.do(MAX, "add_signer", task=task, to=DORA, position="after")
    quote.approve(MAX)
    assert quote.status == "running" and quote.inbox(DORA)
    quote.approve(DORA)
    assert quote.status == "approved"


def test_transfer_a_task_to_a_colleague() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    (task,) = quote.inbox(MAX)
    quote.do(MAX, "transfer", task=task, to=DORA, comment="on leave")
    assert quote.inbox(DORA) and not quote.inbox(MAX)
    quote.approve(DORA)
    assert quote.status == "approved"
    assert "transfer" in quote.actions()


def test_only_the_assignee_may_act_on_a_task() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    (task,) = quote.inbox(MAX)
    before = copy.deepcopy(quote.state)
    with pytest.raises(FlowError) as refused:
        quote.do(ANN, "approve", task=task)
    assert refused.value.code == "flow_not_your_task"
    assert quote.state == before
    quote.do(ADA, "reassign", task=task, to=DORA, admin=True)   # an administrator may
    assert quote.inbox(DORA)


def test_the_submitter_recalls_a_pending_quote() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    with pytest.raises(FlowError):
        quote.do(MAX, "recall")                          # not theirs to recall
    effects = quote.do(ANN, "recall", comment="wrong customer")
    assert quote.status == "recalled" and not quote.inbox(MAX)
    assert {"type": "unlock"} in effects


def test_urge_reminds_whoever_has_the_task() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    assert {"type": "notify", "users": [MAX], "reason": "urge"} in quote.do(ANN, "urge")


def test_urging_again_waits_an_hour() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    quote.do(ANN, "urge")
    quote.now = NOW + timedelta(minutes=59)
    with pytest.raises(FlowError) as refused:
        quote.do(ANN, "urge")
    assert refused.value.code == "flow_urged_recently"
    assert refused.value.params["retry_after"] == 60
    quote.now = NOW + timedelta(hours=1)
    assert any(e["reason"] == "urge" for e in quote.do(ANN, "urge") if e["type"] == "notify")


def test_the_approver_may_edit_the_discount_and_nothing_else() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    (task,) = quote.inbox(MAX)
    with pytest.raises(FlowError) as refused:
        quote.do(MAX, "approve", task=task, fields={"amount": 1})
    assert refused.value.code == "flow_field_not_editable"
    effects = quote.do(MAX, "approve", task=task, fields={"discount": 10})
    assert {"type": "set_fields", "node": "manager", "values": {"discount": 10}} in effects


def test_a_two_hour_first_response_timeout_escalates_to_the_manager() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    effects = quote.do(ANN, "submit")
    (timer,) = [e for e in effects if e["type"] == "timer"]
    assert timer["due"] == (NOW + timedelta(hours=2)).isoformat()
    quote.now = NOW + timedelta(hours=2, minutes=1)      # the platform's clock fires it
    quote.do(None, "timeout", task=timer["task"])
    assert not quote.inbox(MAX) and quote.inbox(DORA)    # Max's manager
    assert "escalate" in quote.actions()
    quote.do(None, "timeout", task=timer["task"])         # a late duplicate: nothing
    assert quote.inbox(DORA)


@pytest.mark.parametrize("hours", [Decimal("0.5"), 0.5])
def test_a_fractional_time_limit_falls_due_to_the_minute(hours) -> None:
    flow = copy.deepcopy(QUOTE)
    flow["nodes"][1]["time_limit"] = {"hours": hours, "on_timeout": "remind"}
    effects = Instance(flow, {"amount": 50_000, "discount": 15}).do(ANN, "submit")
    (timer,) = [e for e in effects if e["type"] == "timer"]
    assert timer["due"] == (NOW + timedelta(minutes=30)).isoformat()


def test_a_timer_after_the_answer_does_nothing() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    effects = quote.do(ANN, "submit")
    (timer,) = [e for e in effects if e["type"] == "timer"]
    quote.approve(MAX)
    assert quote.do(None, "timeout", task=timer["task"]) == []
    assert quote.status == "approved"


def test_nobody_to_approve_follows_the_policy() -> None:
    definition = board_flow("all")
    definition["nodes"][1]["approvers"] = [{"source": "roles", "roles": ["empty"]}]
    definition["nodes"][1]["on_nobody"] = "auto_approve"
    flow = Instance(definition, {})
    flow.do(ANN, "submit")
    assert flow.status == "approved" and "nobody" in flow.actions()
    definition["nodes"][1]["on_nobody"] = "admin"
    flow = Instance(definition, {})
    flow.do(ANN, "submit")
    assert flow.inbox(ADA)


def test_someone_who_left_is_nobody_to_approve() -> None:
    definition = board_flow("any")
    definition["nodes"][1]["approvers"] = [{"source": "users", "users": [99]},
                                           {"source": "user_field", "field": "sales_rep"}]
    flow = Instance(definition, {"sales_rep": 99})
    flow.do(ANN, "submit")
    assert "nobody" in flow.actions() and flow.inbox(ADA) and not flow.inbox(99)


def test_no_self_approval_and_no_second_approval_by_the_same_person() -> None:
    definition = {"key": "expense", "nodes": [
        {"key": "start", "type": "start", "next": "lead"},
        {"key": "lead", "type": "approval", "self_approval": "skip",
         "approvers": [{"source": "users", "users": [MAX]}], "next": "head"},
        {"key": "head", "type": "approval", "skip_repeat": True, "on_nobody": "admin",
         "approvers": [{"source": "manager_chain", "levels": 1}], "next": "end"},
        {"key": "end", "type": "end"}]}
    by_max = Instance(definition, {})
    by_max.do(MAX, "submit")          # Max's own expense: his lead step is skipped
    assert by_max.inbox(DORA) and "auto_skip" in by_max.actions()
    by_ann = Instance(definition, {})
    by_ann.do(ANN, "submit")
    by_ann.approve(MAX)               # Max approved as lead; as Ann's manager he is skipped
    assert by_ann.status == "approved"


def test_parallel_branches_meet_before_going_on() -> None:
    definition = {"key": "contract", "nodes": [
        {"key": "start", "type": "start", "next": "split"},
        {"key": "split", "type": "parallel", "branches": ["legal", "money"], "join": "meet"},
        {"key": "legal", "type": "approval", "approvers": [{"source": "users",
                                                            "users": [DORA]}],
         "next": "meet"},
        {"key": "money", "type": "approval", "on_nobody": "admin",
         "approvers": [{"source": "roles", "roles": ["finance"]}], "mode": "any",
         "next": "meet"},
        {"key": "meet", "type": "join", "next": "notify"},
        {"key": "notify", "type": "cc", "recipients": [{"source": "submitter"}],
         "next": "end"},
        {"key": "end", "type": "end"}]}
    contract = Instance(definition, {})
    contract.do(ANN, "submit")
    assert contract.inbox(DORA) and contract.inbox(FEI) and contract.inbox(FU)
    contract.approve(FU)
    assert contract.status == "running" and not contract.inbox(FEI)   # any: Fu was enough
    effects = contract.approve(DORA)
    assert {"type": "notify", "node": "notify", "users": [ANN], "reason": "cc"} in effects
    assert contract.status == "approved"


def test_running_instances_keep_the_version_they_started_with() -> None:
    v1 = copy.deepcopy(QUOTE)
    quote = Instance(v1, {"amount": 2_000_000, "discount": 0})
    quote.do(ANN, "submit")
    quote.approve(MAX)
    v2 = copy.deepcopy(QUOTE)    # v2 drops the director step
    v2["nodes"][2]["branches"][0]["next"] = "finance"
    del v2["nodes"][3]
    assert check_flow(v2, FIELDS) == []
    quote.approve(DORA)          # the instance still runs on v1: Dora's step exists
    assert quote.inbox(FEI)


def test_the_state_passed_in_is_never_changed() -> None:
    quote = Instance(QUOTE, {"amount": 50_000, "discount": 15})
    quote.do(ANN, "submit")
    before = copy.deepcopy(quote.state)
    context = Context(now=NOW, actor=MAX, record=quote.record, directory=People())
    run(QUOTE, quote.state, {"type": "approve", "task": quote.inbox(MAX)[0]}, context)
    assert quote.state == before
