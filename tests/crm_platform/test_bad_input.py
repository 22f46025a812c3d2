"""Bad input on every endpoint that takes a body: a clear 4xx in the caller's locale, never
a 500, never a half-written change."""

from __future__ import annotations

import re

import pytest

from tests.conftest import bearer

BAD_BODIES = {
    "malformed": (b'{"name": ', "application/json", 400, "malformed_json"),
    "trailing garbage": (b'{"name": "x"} trailing', "application/json", 400, "malformed_json"),
    "not utf-8": (b'{"name": "\xff\xfe"}', "application/json", 400, "malformed_json"),
    "NaN": (b'{"name": NaN}', "application/json", 400, "malformed_json"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed_json"),
    "huge integer": (b'{"name": ' + b"9" * 5000 + b"}", "application/json", 400,
                     "malformed_json"),
    "a list, not an object": (b"[1, 2]", "application/json", 422, "validation_failed"),
    "empty body": (b"", "application/json", 400, "malformed_json"),
    "form-encoded": (b"name=x", "application/x-www-form-urlencoded", 415,
                     "unsupported_media_type"),
}


def body_routes(app) -> list[tuple[str, str, bool]]:
    """(route with {placeholders}, method, whether the engine checks the body itself).

    JSON bodies only: a multipart upload (the import) takes no JSON, so these bodies mean
    nothing to it; its bad uploads are checked in test_imports.py
    (test_bad_uploads_are_clear_422s and the bad-file tests)."""
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None or (spec.body is None and spec.raw_body is None):
            continue
        for method in (rule.methods or set()) & {"POST", "PATCH", "PUT"}:
            routes.append((re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method,
                           spec.raw_body is not None))
    return sorted(routes)


@pytest.fixture
def targets(client, tenant_a, platform_token):
    department = client.post("/api/v1/admin/departments", json={"name": "D"},
                             headers=tenant_a.headers).get_json()["id"]
    role = client.post("/api/v1/admin/roles", json={"key": "r", "name": "R"},
                       headers=tenant_a.headers).get_json()["id"]
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=tenant_a.headers)
    client.post("/api/v1/apps/crm/forms", headers=tenant_a.headers,
                json={"key": "lead", "fields": [{"key": "name", "type": "text"}]})
    client.post("/api/v1/apps/crm/forms/lead/publish", json={}, headers=tenant_a.headers)
    record = client.post("/api/v1/apps/crm/forms/lead/records", json={"data": {"name": "x"}},
                         headers=tenant_a.headers).get_json()["id"]
    client.post("/api/v1/apps/crm/flows", headers=tenant_a.headers, json={
        "key": "approval", "form": "lead", "nodes": [
            {"key": "start", "type": "start", "next": "end"}, {"key": "end", "type": "end"}]})
    client.post("/api/v1/apps/crm/automations", headers=tenant_a.headers, json={
        "key": "rule", "form": "lead", "trigger": {"on": "created"},
        "actions": [{"type": "set_fields", "values": {"name": "y"}}]})
    view = client.post("/api/v1/apps/crm/forms/lead/views", json={"name": "V", "kind": "list"},
                       headers=tenant_a.headers).get_json()["id"]
    ids = {"user_id": tenant_a.admin_id, "tenant_id": tenant_a.id, "view_id": view,
           "department_id": department, "role_id": role, "app": "crm", "form": "lead",
           "record_id": record, "flow": "approval", "task_id": 1, "instance_id": 1,
           "automation": "rule", "key": "sales_core"}

    def headers_for(path: str, **extra: str) -> dict[str, str]:
        token = platform_token if "/admin/tenants" in path else tenant_a.token
        return bearer(token, **extra)

    return ids, headers_for


def test_every_body_endpoint_rejects_each_bad_body_cleanly(app, client, targets) -> None:
    ids, headers_for = targets
    routes = body_routes(app)
    assert len(routes) >= 10
    for template, method, engine_checked in routes:
        path = template.format(**ids)
        for name, (raw, content_type, status, code) in BAD_BODIES.items():
            if engine_checked and code == "validation_failed":
                code = "definition_invalid"
            response = client.open(path, method=method, data=raw, headers=headers_for(
                path, **{"Content-Type": content_type}))
            where = f"{method} {template} with {name}"
            assert response.status_code == status, (where, response.get_json())
            error = response.get_json()["error"]
            assert error["code"] == code, where
            assert error["message"], where


def test_unknown_fields_and_wrong_types_are_named(client, tenant_a) -> None:
    response = client.post("/api/v1/admin/users", headers=tenant_a.headers, json={
        "email": 42, "roles": "admin", "locale": "fr", "nickname": "x"})
    assert response.status_code == 422
    fields = {f["path"]: f for f in response.get_json()["error"]["fields"]}
    assert fields["email"]["code"] == "wrong_type"
    assert fields["email"]["message"] == "email must be text."
    assert fields["roles"]["message"] == "roles must be a list."
    assert fields["locale"]["code"] == "not_one_of"
    assert fields["nickname"]["message"] == "nickname is not a known field."


def test_missing_and_nested_fields_carry_their_path(client, platform_token) -> None:
    response = client.post("/api/v1/admin/tenants", headers=bearer(platform_token), json={
        "slug": "x", "admin": {"password": 5, "extra": True}})
    fields = {f["path"]: f["code"] for f in response.get_json()["error"]["fields"]}
    assert fields == {"name": "required", "slug": "too_short", "admin.email": "required",
                      "admin.password": "wrong_type", "admin.extra": "unknown_field"}


def test_messages_follow_the_users_locale(client, make_tenant) -> None:
    chinese = make_tenant("zhong", locale="zh")
    response = client.post("/api/v1/admin/users", headers=chinese.headers,
                           json={"email": 1, "zzz": 2})
    error = response.get_json()["error"]
    assert error["message"] == "请求中有 2 处问题，详见 fields。"
    messages = {f["path"]: f["message"] for f in error["fields"]}
    assert messages == {"email": "email 的类型应为文本。", "zzz": "zzz 不是已知字段。"}
    malformed = client.post("/api/v1/admin/users", headers={**chinese.headers,
                            "Content-Type": "application/json"}, data=b"{")
    assert malformed.get_json()["error"]["message"].startswith("请求体不是有效的 JSON")


def test_anonymous_callers_get_accept_language(client) -> None:
    response = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert response.get_json()["error"]["message"] == "需要身份验证：请提供 Bearer 令牌或先登录。"
    english = client.get("/api/v1/me", headers={"Accept-Language": "en-GB"})
    assert english.get_json()["error"]["message"].startswith("Authentication is required")


def test_oversize_body_is_413_naming_the_limit(make_app, make_tenant) -> None:
    app = make_app(max_body_bytes=2048)
    world = make_tenant("alpha")
    client = app.test_client()
    response = client.post("/api/v1/admin/departments", headers=world.headers,
                           json={"name": "x" * 5000})
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == (
        "The request body is larger than the limit of 2048 bytes.")
    listed = client.get("/api/v1/admin/departments", headers=world.headers).get_json()
    assert listed["items"] == []


def test_bad_query_parameters_are_422(client, tenant_a) -> None:
    for query, path in (("limit=abc", "limit"), ("limit=0", "limit"), ("limit=5000", "limit"),
                        ("cursor=%%%", "cursor"), ("active=maybe", "active")):
        response = client.get(f"/api/v1/admin/users?{query}", headers=tenant_a.headers)
        assert response.status_code == 422, query
        assert response.get_json()["error"]["fields"][0]["path"] == path, query


def test_unknown_paths_and_methods_use_the_error_body(client, tenant_a) -> None:
    missing = client.get("/api/v1/no-such-thing", headers=tenant_a.headers)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/admin/users", headers=tenant_a.headers, json={})
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"


def test_a_failed_request_writes_nothing(client, tenant_a) -> None:
    """The user row is flushed before the bad role id is found; the request rolls back."""
    response = client.post("/api/v1/admin/users", headers=tenant_a.headers,
                           json={"email": "half@alpha.example", "roles": [999999]})
    assert response.status_code == 422
    users = client.get("/api/v1/admin/users", headers=tenant_a.headers).get_json()["items"]
    assert "half@alpha.example" not in [u["email"] for u in users]


HUGE_ID = 2**63          # one past BIGINT
HUGE_VERSION = 2**31     # one past INTEGER


@pytest.fixture
def crm_form(client, tenant_a) -> str:
    headers = tenant_a.headers
    for path, body in (("/api/v1/apps", {"key": "crm", "name": "CRM"}),
                       ("/api/v1/apps/crm/forms", {"key": "lead", "fields": [
                           {"key": "name", "type": "text"}]}),
                       ("/api/v1/apps/crm/forms/lead/publish", {}),
                       ("/api/v1/apps/crm/flows", {"key": "ok", "form": "lead", "nodes": [
                           {"key": "start", "type": "start", "next": "end"},
                           {"key": "end", "type": "end"}]}),
                       ("/api/v1/apps/crm/automations", {
                           "key": "tell", "form": "lead", "trigger": {"on": "deleted"},
                           "actions": [{"type": "webhook", "url": "https://x.example/h"}]})):
        assert client.post(path, json=body, headers=headers).status_code == 201
    return "/api/v1/apps/crm/forms/lead"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", f"/records/{HUGE_ID}", None),
    ("PATCH", f"/records/{HUGE_ID}", {"data": {"name": "x"}}),
    ("DELETE", f"/records/{HUGE_ID}", None),
    ("GET", f"/records/{HUGE_ID}/history", None),
    ("POST", f"/records/{HUGE_ID}/restore", {}),
    ("GET", f"/records/{10**30}", None),
    ("GET", '/records?filter={"field":"id","op":"eq","value":' + f"{HUGE_ID}}}", None),
    ("GET", '/records?filter={"field":"owner","op":"in","value":' + f"[1,{HUGE_ID}]}}", None),
    ("GET", f"/render?version={HUGE_VERSION}", None),
    ("GET", f"/schema?version={HUGE_VERSION}", None),
    ("GET", "/schema?version=99999999999999999999", None),
    ("POST", "/evaluate", {"data": {}, "version": HUGE_VERSION}),
    ("POST", "/records/batch", {"items": [{"id": 1, "data": {}, "version": HUGE_VERSION}]}),
    ("POST", "/../../flows/ok/rollback", {"version": HUGE_VERSION}),
    ("POST", "/../../automations/tell/rollback", {"version": HUGE_VERSION}),
])
def test_oversized_ids_and_versions_are_4xx(client, tenant_a, crm_form, method, path,
                                            body) -> None:
    url = crm_form + path if not path.startswith("/../../") else (
        "/api/v1/apps/crm" + path[len("/../.."):])
    response = client.open(url, method=method, json=body, headers=tenant_a.headers)
    assert 400 <= response.status_code < 500, (url, response.get_data(as_text=True)[:300])
    assert response.get_json()["error"]["code"]


def test_an_if_match_beyond_any_version_is_a_bad_request(client, tenant_a, crm_form) -> None:
    record = client.post(f"{crm_form}/records", json={"data": {"name": "x"}},
                         headers=tenant_a.headers).get_json()
    response = client.patch(f"{crm_form}/records/{record['id']}", json={"data": {}},
                            headers={**tenant_a.headers, "If-Match": f'"{HUGE_VERSION}"'})
    assert response.status_code == 400


def test_the_openapi_documents_state_the_bounds(client, tenant_a, crm_form) -> None:
    platform = client.get("/api/v1/openapi.json").get_json()
    record = platform["paths"]["/api/v1/apps/{app}/forms/{form}/records/{record_id}"]
    (parameter,) = [p for p in record["get"]["parameters"] if p["name"] == "record_id"]
    assert parameter["schema"]["maximum"] == 2**63 - 1
    app_doc = client.get("/api/v1/apps/crm/openapi.json", headers=tenant_a.headers).get_json()
    parameters = [p for item in app_doc["paths"].values() for op in item.values()
                  for p in (op if isinstance(op, list) else op.get("parameters", []))]
    bounded = [p for p in parameters if p["in"] == "path"]
    assert bounded and all(p["schema"]["maximum"] == 2**63 - 1 for p in bounded)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/admin/roles", {"key": "admin\n", "name": "Sneaky"}, "key"),
    ("/api/v1/apps", {"key": "crm\n", "name": "CRM"}, "key"),
    ("/api/v1/apps/crm/forms", {"key": "lead", "fields": [
        {"key": "name\n", "type": "text", "indexed": True}]}, "fields[0].key"),
    ("/api/v1/apps/crm/forms", {"key": "lead\n", "fields": [
        {"key": "name", "type": "text"}]}, "key"),
])
def test_an_identifier_with_a_trailing_newline_is_refused(client, tenant_a, path, body,
                                                          field) -> None:
    if path != "/api/v1/apps":
        client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"},
                    headers=tenant_a.headers)
    response = client.post(path, json=body, headers=tenant_a.headers)
    assert response.status_code == 422, response.get_json()
    assert field in [f["path"] for f in response.get_json()["error"]["fields"]]


def test_nul_in_a_search_or_a_filter_is_a_4xx_naming_it(client, tenant_a, crm_form) -> None:
    for query, field in (("search=%00", "search"),
                         ('filter={"field":"name","op":"eq","value":"a\\u0000b"}', "filter")):
        response = client.get(f"{crm_form}/records?{query}", headers=tenant_a.headers)
        assert response.status_code == 422, (query, response.get_json())
        assert response.get_json()["error"]["fields"][0]["path"] == field
