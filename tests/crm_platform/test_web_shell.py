"""The workspace shell on every signed-in page (apps, language, notifications, account)
and the start page (my apps, what waits for me, what I changed lately)."""

from __future__ import annotations

from functools import partial

import pytest

from tests.conftest import PASSWORD, bearer, created
from tests.crm_platform.test_web import csrf_from, sign_in

DEAL = {"key": "deal", "label": {"en": "Deal", "zh": "商机"}, "title": "{name} {margin}",
        "fields": [{"key": "name", "type": "text"}, {"key": "margin", "type": "text"},
                   {"key": "amount", "type": "currency"}]}
MEMO = {"key": "memo", "label": {"en": "Board memo", "zh": "董事会备忘"},
        "fields": [{"key": "subject", "type": "text"}]}
RECORDS = "/api/v1/apps/crm/forms/deal/records"


@pytest.fixture
def rep(client, tenant_a) -> dict:
    """A sales rep who reads their own deals (margin hidden) and no board memos."""
    post = partial(created, client, headers=tenant_a.headers)
    role = post("/api/v1/admin/roles", {"key": "rep", "name": "Rep"})
    user = post("/api/v1/admin/users", {"email": "rep@alpha.example", "name": "Rita Rep",
                                        "password": PASSWORD, "roles": [role["id"]]})
    token = post("/api/v1/admin/tokens", {"user_id": user["id"], "name": "rep"})["token"]
    post("/api/v1/apps", {"key": "crm", "name": "CRM"})
    for form in (DEAL, MEMO):
        post("/api/v1/apps/crm/forms", form)
        client.post(f"/api/v1/apps/crm/forms/{form['key']}/publish", json={},
                    headers=tenant_a.headers)
    post("/api/v1/apps", {"key": "board", "name": "Board room"})
    for form, rights in (("deal", {"can_create": True, "read": "own", "update": "own",
                                   "hidden_fields": ["margin"]}),
                         ("memo", {"read": "none"})):
        response = client.put(f"/api/v1/apps/crm/forms/{form}/permissions",
                              headers=tenant_a.headers,
                              json={"items": [{"role": "rep", **rights}]})
        assert response.status_code == 200, response.get_json()
    return {"id": user["id"], "headers": bearer(token), "email": "rep@alpha.example"}


def published_flow(client, tenant_a, approver: int) -> None:
    """Flow `big` on deals: one approval step, `boss`, by `approver`."""
    created(client, "/api/v1/apps/crm/flows", {"key": "big", "form": "deal", "nodes": [
        {"key": "start", "type": "start", "next": "boss"},
        {"key": "boss", "type": "approval", "next": "end",
         "approvers": [{"source": "users", "users": [approver]}]},
        {"key": "end", "type": "end"}]}, tenant_a.headers)
    created(client, "/api/v1/apps/crm/flows/big/publish", {}, tenant_a.headers)


def test_home_lists_only_the_forms_and_records_the_user_may_read(client, tenant_a, rep):
    created(client, RECORDS, {"data": {"name": "Boss deal"}}, tenant_a.headers)
    handed = created(client, RECORDS, {"data": {"name": "Rita", "margin": "SECRET-M"}},
                     tenant_a.headers)
    assert client.post(f"{RECORDS}/{handed['id']}/transfer", json={"owner": rep["id"]},
                       headers=tenant_a.headers).status_code == 200
    assert client.patch(f"{RECORDS}/{handed['id']}", json={"data": {"name": "Rita's deal"}},
                        headers=rep["headers"]).status_code == 200
    assert sign_in(client, "alpha", rep["email"]).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Rita Rep" in page and "Deal" in page and "Rita&#39;s deal" in page
    assert "Board memo" not in page        # a form the rep may not read
    assert "Board room" not in page        # an app with nothing the rep may open
    assert "Boss deal" not in page         # another user's record
    assert "SECRET-M" not in page           # a field the rep's role hides, even in a title


def test_a_pending_task_shows_on_the_approvers_home(client, tenant_a, rep):
    published_flow(client, tenant_a, tenant_a.admin_id)
    record = created(client, RECORDS, {"data": {"name": "Needs a yes"}}, rep["headers"])
    submitted = client.post(f"{RECORDS}/{record['id']}/submit", json={"flow": "big"},
                            headers=rep["headers"])
    assert submitted.status_code in (200, 201), submitted.get_json()
    assert sign_in(client, "alpha", tenant_a.admin_email).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Waiting for me" in page and "Needs a yes" in page and "boss" in page
    assert 'aria-label="Notifications, 1 unread"' in page


def test_the_language_switch_saves_the_users_own_language(client, tenant_a, rep):
    sign_in(client, "alpha", rep["email"])
    page = client.get("/").get_data(as_text=True)
    switched = client.post("/preferences/language", data={
        "locale": "zh", "next": "/notifications", "csrf_token": csrf_from(page)})
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/notifications")
    chinese = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "我的应用" in chinese and "商机" in chinese
    assert "My apps" not in chinese
    me = client.get("/api/v1/me", headers=rep["headers"]).get_json()
    assert me["user"]["locale"] == "zh"     # the same setting as PATCH /api/v1/me


def test_the_language_switch_never_redirects_to_another_site(client):
    page = client.get("/login").get_data(as_text=True)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post("/preferences/language", data={
            "locale": "zh", "next": target, "csrf_token": csrf_from(page)})
        assert response.headers["Location"] in ("/", "http://localhost/"), target
    assert "登录" in client.get("/login").get_data(as_text=True)  # a visitor's choice holds


def test_signing_in_returns_to_the_page_asked_for(client, tenant_a):
    asked = client.get("/notifications")
    assert asked.status_code == 302 and "next=/notifications" in asked.headers["Location"]
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    response = client.post("/login", data={
        "tenant": "alpha", "email": tenant_a.admin_email, "password": PASSWORD,
        "next": "/notifications", "csrf_token": csrf_from(page)})
    assert response.headers["Location"].endswith("/notifications")


def test_notifications_are_listed_and_marked_read(client, tenant_a, rep):
    published_flow(client, tenant_a, rep["id"])
    record = created(client, RECORDS, {"data": {"name": "Ask Rita"}}, rep["headers"])
    client.post(f"{RECORDS}/{record['id']}/submit", json={"flow": "big"},
                headers=rep["headers"])
    sign_in(client, "alpha", rep["email"])
    page = client.get("/notifications").get_data(as_text=True)
    assert "A task waits for you at “boss”" in page and "Ask Rita" in page
    client.post("/notifications/read", data={"csrf_token": csrf_from(page)})
    after = client.get("/notifications").get_data(as_text=True)
    assert 'aria-label="Notifications, 0 unread"' in after and "Mark all as read" not in after


def test_times_follow_the_users_language_and_time_zone(client, tenant_a, rep):
    client.patch("/api/v1/me", json={"locale": "zh", "timezone": "Asia/Shanghai"},
                 headers=rep["headers"])
    created(client, RECORDS, {"data": {"name": "时区"}}, rep["headers"])
    sign_in(client, "alpha", rep["email"])
    page = client.get("/").get_data(as_text=True)
    assert "年" in page and "月" in page     # 2026年12月2日 08:30, not Dec 2, 2026


def test_the_api_reference_is_a_readable_page_of_every_operation(client):
    response = client.get("/api/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/api/v1/apps/{app}/forms/{form}/records" in page and "PATCH" in page
    assert "<script>" not in page and " on" + "click=" not in page


def test_pages_in_chinese_show_errors_in_chinese(client, tenant_a):
    client.get("/login", headers={"Accept-Language": "zh-CN"})
    missing = client.get("/no/such/page", headers={"Accept-Language": "zh-CN",
                                                   "Accept": "text/html"})
    assert missing.status_code == 404
    assert '<html lang="zh-CN">' in missing.get_data(as_text=True)
