"""Roles and API tokens, administered per tenant."""

from __future__ import annotations

from tests.conftest import bearer


def test_custom_roles_can_be_created_renamed_and_deleted(client, tenant_a) -> None:
    created = client.post("/api/v1/admin/roles", json={"key": "sales_rep", "name": "Sales rep"},
                          headers=tenant_a.headers)
    assert created.status_code == 201
    role = created.get_json()
    renamed = client.patch(f"/api/v1/admin/roles/{role['id']}", json={"name": "Sales"},
                           headers=tenant_a.headers)
    assert renamed.get_json()["name"] == "Sales"
    assert client.delete(f"/api/v1/admin/roles/{role['id']}",
                         headers=tenant_a.headers).status_code == 204
    assert client.get(f"/api/v1/admin/roles/{role['id']}",
                      headers=tenant_a.headers).status_code == 404


def test_built_in_roles_are_protected(client, tenant_a) -> None:
    roles = client.get("/api/v1/admin/roles", headers=tenant_a.headers).get_json()["items"]
    admin = next(r for r in roles if r["key"] == "admin")
    assert admin["is_system"] is True
    response = client.delete(f"/api/v1/admin/roles/{admin['id']}", headers=tenant_a.headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "system_role"


def test_role_key_is_unique_and_well_formed(client, tenant_a) -> None:
    taken = client.post("/api/v1/admin/roles", json={"key": "admin", "name": "Again"},
                        headers=tenant_a.headers)
    assert taken.get_json()["error"]["fields"][0]["code"] == "taken"
    bad = client.post("/api/v1/admin/roles", json={"key": "Bad Key", "name": "x"},
                      headers=tenant_a.headers)
    assert bad.get_json()["error"]["fields"][0] == {
        "path": "key", "code": "bad_pattern",
        "message": "key has characters that are not allowed here."}


def test_admin_issues_a_named_token_shown_once_then_revokes_it(client, tenant_a) -> None:
    created = client.post("/api/v1/admin/tokens", headers=tenant_a.headers, json={
        "user_id": tenant_a.admin_id, "name": "ERP sync", "expires_in_days": 30})
    assert created.status_code == 201
    token = created.get_json()
    assert token["token"].startswith("loom_") and token["expires_at"]
    assert client.get("/api/v1/me", headers=bearer(token["token"])).status_code == 200
    shown = client.get(f"/api/v1/admin/tokens/{token['id']}", headers=tenant_a.headers).get_json()
    assert "token" not in shown and shown["name"] == "ERP sync"
    assert shown["prefix"] == token["token"][:12]
    revoked = client.delete(f"/api/v1/admin/tokens/{token['id']}", headers=tenant_a.headers)
    assert revoked.get_json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=bearer(token["token"])).status_code == 401


def test_tokens_list_filters_by_user(client, tenant_a) -> None:
    listed = client.get(f"/api/v1/admin/tokens?user_id={tenant_a.admin_id}",
                        headers=tenant_a.headers).get_json()["items"]
    assert [t["user_id"] for t in listed] == [tenant_a.admin_id]
    assert client.get("/api/v1/admin/tokens?user_id=999999",
                      headers=tenant_a.headers).get_json()["items"] == []
