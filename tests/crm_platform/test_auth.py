"""Signing in for the API, bearer tokens, throttling and suspended tenants."""

from __future__ import annotations

from datetime import timedelta

from crm_platform.db import utcnow
from crm_platform.models import ApiToken
from tests.conftest import PASSWORD, bearer


def request_token(client, tenant: str, email: str, password: str = PASSWORD, **headers):
    return client.post("/api/v1/auth/token", json={"tenant": tenant, "email": email,
                                                   "password": password}, headers=headers)


def test_password_exchange_gives_a_working_token(client, tenant_a) -> None:
    response = request_token(client, "alpha", tenant_a.admin_email)
    assert response.status_code == 201
    token = response.get_json()["token"]
    me = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["user"]["email"] == tenant_a.admin_email
    assert me["tenant"]["slug"] == "alpha"
    assert me["is_tenant_admin"] is True


def test_token_is_stored_only_as_a_hash(client, db, tenant_a) -> None:
    token = request_token(client, "alpha", tenant_a.admin_email).get_json()["token"]
    with db.transaction() as session:
        stored = [row.token_hash for row in session.query(ApiToken)]
    assert token not in stored
    assert all(len(value) == 64 for value in stored)


def test_email_is_matched_case_insensitively(client, tenant_a) -> None:
    assert request_token(client, "alpha", tenant_a.admin_email.upper()).status_code == 201


def test_wrong_password_unknown_user_and_unknown_tenant_look_the_same(client, tenant_a) -> None:
    answers = [
        request_token(client, "alpha", tenant_a.admin_email, "wrong password"),
        request_token(client, "alpha", "nobody@alpha.example"),
        request_token(client, "no-such-tenant", tenant_a.admin_email),
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.get_json()["error"]["message"] for r in answers}) == 1
    assert answers[0].get_json()["error"]["code"] == "invalid_credentials"


def test_missing_or_garbage_bearer_is_401(client, tenant_a) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer("loom_not-a-token")).status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_repeated_failures_are_throttled_with_retry_after(make_app, make_tenant) -> None:
    app = make_app(login_max_failures=3, login_lockout_seconds=120)
    make_tenant("alpha")
    client = app.test_client()
    for _ in range(3):
        assert request_token(client, "alpha", "admin@alpha.example", "nope").status_code == 401
    locked = request_token(client, "alpha", "admin@alpha.example")  # even the right password
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 120
    assert locked.get_json()["error"]["code"] == "login_throttled"


def test_throttle_message_follows_accept_language(make_app, make_tenant) -> None:
    app = make_app(login_max_failures=1)
    make_tenant("alpha")
    client = app.test_client()
    request_token(client, "alpha", "admin@alpha.example", "nope")
    locked = request_token(client, "alpha", "admin@alpha.example", **{"Accept-Language": "zh-CN"})
    assert locked.status_code == 429
    assert "秒后重试" in locked.get_json()["error"]["message"]


def test_success_resets_the_account_counter(make_app, make_tenant) -> None:
    app = make_app(login_max_failures=3)
    make_tenant("alpha")
    client = app.test_client()
    for _ in range(2):
        request_token(client, "alpha", "admin@alpha.example", "nope")
    assert request_token(client, "alpha", "admin@alpha.example").status_code == 201
    for _ in range(2):
        request_token(client, "alpha", "admin@alpha.example", "nope")
    assert request_token(client, "alpha", "admin@alpha.example").status_code == 201


def test_suspended_tenant_cannot_sign_in_and_its_tokens_are_refused(
        client, tenant_a, platform_token) -> None:
    response = client.patch(f"/api/v1/admin/tenants/{tenant_a.id}", json={"status": "suspended"},
                            headers=bearer(platform_token))
    assert response.status_code == 200
    assert response.get_json()["status"] == "suspended"
    refused = client.get("/api/v1/me", headers=tenant_a.headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "tenant_suspended"
    assert request_token(client, "alpha", tenant_a.admin_email).status_code == 403
    client.patch(f"/api/v1/admin/tenants/{tenant_a.id}", json={"status": "active"},
                 headers=bearer(platform_token))
    assert client.get("/api/v1/me", headers=tenant_a.headers).status_code == 200


def test_revoked_token_is_refused(client, tenant_a) -> None:
    token = request_token(client, "alpha", tenant_a.admin_email).get_json()["token"]
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/me", headers=tenant_a.headers).status_code == 200


def test_expired_token_is_refused(client, db, tenant_a) -> None:
    with db.transaction() as session:
        for row in session.query(ApiToken):
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/v1/me", headers=tenant_a.headers).status_code == 401


def test_token_records_when_it_was_last_used(client, db, tenant_a) -> None:
    client.get("/api/v1/me", headers=tenant_a.headers)
    with db.transaction() as session:
        (row,) = session.query(ApiToken).all()
        assert row.last_used_at is not None
        assert utcnow() - row.last_used_at < timedelta(minutes=1)


def test_a_refused_request_still_records_the_tokens_use(client, db, tenant_a) -> None:
    """The use is written in its own transaction, not the request's (which a refusal rolls
    back, and which may run long: its row lock would hold the token's other requests)."""
    missing = client.get("/api/v1/apps/nothing/forms/here/records/1", headers=tenant_a.headers)
    assert missing.status_code == 404
    with db.transaction() as session:
        (row,) = session.query(ApiToken).all()
        assert row.last_used_at is not None


def test_deactivated_user_is_refused(client, tenant_a, make_tenant) -> None:
    created = client.post("/api/v1/admin/users", headers=tenant_a.headers, json={
        "email": "sam@alpha.example", "password": PASSWORD})
    user_id = created.get_json()["id"]
    token = request_token(client, "alpha", "sam@alpha.example").get_json()["token"]
    client.delete(f"/api/v1/admin/users/{user_id}", headers=tenant_a.headers)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "user_inactive"
    assert request_token(client, "alpha", "sam@alpha.example").status_code == 403


def test_platform_admin_signs_in_with_the_platform_tenant(client, platform_token) -> None:
    response = request_token(client, "platform", "root@loom.example")
    assert response.status_code == 201
    me = client.get("/api/v1/me", headers=bearer(response.get_json()["token"])).get_json()
    assert me["is_platform_admin"] is True


def test_concurrent_guesses_cannot_outrun_the_limit(make_app, make_tenant) -> None:
    """Attempts are claimed atomically before the password is checked."""
    from concurrent.futures import ThreadPoolExecutor

    app = make_app(login_max_failures=3)
    make_tenant("alpha")

    def attempt(_):
        return request_token(app.test_client(), "alpha", "admin@alpha.example", "nope").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(16)))
    assert statuses == [401] * 3 + [429] * 13


def test_spelling_the_email_differently_does_not_reset_the_count(make_app, make_tenant) -> None:
    app = make_app(login_max_failures=2)
    make_tenant("alpha")
    client = app.test_client()
    for spelling in ("admin@alpha.example", " ADMIN@alpha.example", "admin@ALPHA.example  "):
        request_token(client, "alpha", spelling, "nope")
    assert request_token(client, "alpha", "admin@alpha.example").status_code == 429


def test_text_no_database_can_store_is_refused_before_it_reaches_one(client, tenant_a) -> None:
    for email in (b"a\\u0000b@alpha.example", b"\\ud800@alpha.example"):
        response = client.post("/api/v1/auth/token", content_type="application/json",
                               data=b'{"tenant": "alpha", "email": "' + email +
                               b'", "password": "whatever"}')
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "malformed_json"
    assert request_token(client, "alpha", "x" * 5000).status_code == 422


def test_hostile_web_sign_in_is_just_wrong(client, tenant_a) -> None:
    from tests.crm_platform.test_web import csrf_from

    for tenant, email in (("alpha", "a\x00b@alpha.example"), ("alpha", "x" * 5000),
                          ("al\x00pha", tenant_a.admin_email)):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"tenant": tenant, "email": email,
                                               "password": "whatever", "csrf_token": token})
        assert response.status_code == 401, (tenant[:10], email[:10])


def test_client_address_comes_from_a_trusted_proxy(make_app, make_tenant) -> None:
    app = make_app(trusted_proxies=1, login_max_failures=1)
    make_tenant("alpha")
    client = app.test_client()
    for email in ("a@alpha.example", "b@alpha.example", "c@alpha.example", "d@alpha.example"):
        request_token(client, "alpha", email, "nope", **{"X-Forwarded-For": "203.0.113.9"})
    # the address 203.0.113.9 is locked now (4 failures), another address is not
    locked = request_token(client, "alpha", "admin@alpha.example",
                           **{"X-Forwarded-For": "203.0.113.9"})
    assert locked.status_code == 429
    other = request_token(client, "alpha", "admin@alpha.example",
                          **{"X-Forwarded-For": "198.51.100.7"})
    assert other.status_code == 201


def test_a_user_sets_their_own_language_and_time_zone(client, member_token) -> None:
    headers = bearer(member_token)
    changed = client.patch("/api/v1/me", json={"locale": "zh", "timezone": "Europe/Berlin"},
                           headers=headers)
    assert changed.status_code == 200, changed.get_json()
    user = changed.get_json()["user"]
    assert (user["locale"], user["timezone"]) == ("zh", "Europe/Berlin")
    # the next request speaks the user's new language
    wrong = client.patch("/api/v1/me", json={"timezone": "Mars/Olympus"}, headers=headers)
    assert wrong.status_code == 422
    field = wrong.get_json()["error"]["fields"][0]
    assert field["path"] == "timezone"
    assert not field["message"].isascii()
    back = client.patch("/api/v1/me", json={"timezone": None}, headers=headers).get_json()
    assert back["user"]["timezone"] is None


def test_a_user_cannot_give_themselves_roles_or_another_address(client, member_token) -> None:
    refused = client.patch("/api/v1/me", json={"roles": [1], "email": "boss@alpha.example"},
                           headers=bearer(member_token))
    assert refused.status_code == 422
    assert {item["path"] for item in refused.get_json()["error"]["fields"]} >= {"roles"}
