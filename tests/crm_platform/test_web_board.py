"""The kanban board: columns by a select field with counts and totals; moving a card by
dragging or by its "Move to …" menu goes through the record service, and a refusal is
said in the user's language with the record left as it was."""

from __future__ import annotations

import re

import pytest

from tests.conftest import created, published_app
from tests.crm_platform.test_web import csrf_from, sign_in

DEAL = {"key": "deal", "label": {"en": "Deal", "zh": "商机"}, "title": "{name}",
        "fields": [{"key": "name", "type": "text"},
                   {"key": "stage", "type": "select", "label": {"en": "Stage", "zh": "阶段"},
                    "options": [{"value": "lead", "label": {"en": "Lead", "zh": "线索"}},
                                {"value": "won", "label": {"en": "Won", "zh": "赢单"}}]},
                   {"key": "amount", "type": "currency", "currency": "CNY"}],
        "rules": [{"key": "won_needs_amount", "error_if": "stage == 'won' and not amount",
                   "field": "amount",
                   "message": {"en": "A won deal needs its amount",
                               "zh": "赢单必须填写金额"}}]}
RECORDS = "/api/v1/apps/crm/forms/deal/records"
BOARD = "/apps/crm/deal/board"


@pytest.fixture
def pipeline(client, tenant_a):
    published_app(client, tenant_a.headers, "crm", DEAL)
    ids = {name: created(client, RECORDS, {"data": {"name": name, "stage": "lead",
                                                    **({"amount": amount} if amount else {})}},
                         tenant_a.headers)["id"]
           for name, amount in (("Big", 5000), ("Small", 700), ("Blank", None))}
    sign_in(client, "alpha", tenant_a.admin_email)
    return ids


def stage_of(client, tenant_a, record_id: int) -> str:
    return client.get(f"{RECORDS}/{record_id}", headers=tenant_a.headers).get_json()[
        "data"]["stage"]


def move(client, record_id: int, value: str, dragged: bool = False, version: int = 1):
    token = csrf_from(client.get(BOARD).get_data(as_text=True))
    return client.post(f"/apps/crm/deal/{record_id}/move", data={
        "csrf_token": token, "field": "stage", "value": value, "version": str(version),
        "back": BOARD}, headers={"X-Loom-Drag": "1"} if dragged else {})


def test_the_board_has_a_column_per_stage_with_count_and_total(client, pipeline):
    page = re.sub(r"\s+", " ", client.get(BOARD).get_data(as_text=True))
    lead = page[page.index('aria-labelledby="col-1"'):page.index('aria-labelledby="col-2"')]
    assert "Lead" in lead and "<span>3</span>" in lead and "CN¥5,700.00" in lead
    assert "Big" in lead and 'aria-label="Move Big to Won"' in lead


def test_move_to_changes_the_stage_without_dragging(client, tenant_a, pipeline):
    response = move(client, pipeline["Big"], "won")
    assert response.status_code == 302
    assert stage_of(client, tenant_a, pipeline["Big"]) == "won"
    assert "Moved “Big” to Won." in client.get(BOARD).get_data(as_text=True)


def test_a_move_a_rule_refuses_is_explained_and_changes_nothing(client, tenant_a, pipeline):
    client.patch("/api/v1/me", json={"locale": "zh"}, headers=tenant_a.headers)
    refused = move(client, pipeline["Blank"], "won")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "赢单必须填写金额" in page
    assert stage_of(client, tenant_a, pipeline["Blank"]) == "lead"


def test_a_drag_answers_the_new_board_or_the_reason(client, tenant_a, pipeline):
    moved = move(client, pipeline["Small"], "won", dragged=True)
    assert moved.status_code == 200 and 'id="board"' in moved.get_data(as_text=True)
    refused = move(client, pipeline["Blank"], "won", dragged=True)
    assert refused.status_code == 422
    assert "A won deal needs its amount" in refused.get_data(as_text=True)
    stale = move(client, pipeline["Small"], "lead", dragged=True, version=1)
    assert stale.status_code == 412 and stage_of(client, tenant_a, pipeline["Small"]) == "won"


def test_a_board_needs_a_single_choice_field(client, pipeline):
    response = client.get(f"{BOARD}?by=name")
    assert response.status_code == 422


def test_a_board_saved_as_a_view_keeps_its_grouping_and_total(client, pipeline):
    token = csrf_from(client.get(f"{BOARD}?sum=").get_data(as_text=True))
    saved = client.post("/apps/crm/deal/views", data={
        "csrf_token": token, "name": "Pipeline, no totals", "kind": "kanban", "by": "stage",
        "q": "Big"})
    assert saved.status_code == 302 and "/board?view=" in saved.headers["Location"]
    page = re.sub(r"\s+", " ", client.get(saved.headers["Location"]).get_data(as_text=True))
    assert "Pipeline, no totals" in page and "Big" in page and "Small" not in page
    assert "CN¥" not in page.split('id="board"')[1].split("</section>")[0]
