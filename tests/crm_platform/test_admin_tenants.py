"""Platform administrators create, list, rename and suspend tenants."""

from __future__ import annotations

from tests.conftest import PASSWORD, bearer

NEW_TENANT = {"slug": "globex", "name": "Globex", "default_locale": "zh",
              "admin": {"email": "boss@globex.example", "password": PASSWORD}}


def test_platform_admin_creates_a_tenant_whose_admin_can_sign_in(client, platform_token) -> None:
    response = client.post("/api/v1/admin/tenants", json=NEW_TENANT,
                           headers=bearer(platform_token))
    assert response.status_code == 201
    assert response.get_json()["slug"] == "globex"
    assert response.get_json()["status"] == "active"
    token = client.post("/api/v1/auth/token", json={
        "tenant": "globex", "email": "boss@globex.example", "password": PASSWORD})
    assert token.status_code == 201
    me = client.get("/api/v1/me", headers=bearer(token.get_json()["token"])).get_json()
    assert me["is_tenant_admin"] is True
    assert me["user"]["locale"] == "zh"
    roles = client.get("/api/v1/admin/roles", headers=bearer(token.get_json()["token"]))
    assert {r["key"] for r in roles.get_json()["items"]} == {"admin", "designer"}


def test_slug_must_be_free_and_not_reserved(client, platform_token, tenant_a) -> None:
    taken = client.post("/api/v1/admin/tenants", json={**NEW_TENANT, "slug": "alpha"},
                        headers=bearer(platform_token))
    assert taken.status_code == 422
    assert taken.get_json()["error"]["fields"][0] == {
        "path": "slug", "code": "taken", "message": "slug alpha is already in use."}
    reserved = client.post("/api/v1/admin/tenants", json={**NEW_TENANT, "slug": "platform"},
                           headers=bearer(platform_token))
    assert reserved.get_json()["error"]["fields"][0]["code"] == "reserved"


def test_bad_admin_email_is_reported_at_its_path_and_nothing_is_created(
        client, platform_token) -> None:
    body = {**NEW_TENANT, "admin": {"email": "not-an-email", "password": PASSWORD}}
    response = client.post("/api/v1/admin/tenants", json=body, headers=bearer(platform_token))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "admin.email"
    listed = client.get("/api/v1/admin/tenants", headers=bearer(platform_token)).get_json()
    assert listed["items"] == []


def test_list_pages_with_a_cursor_and_hides_the_platform_tenant(client, platform_token,
                                                               make_tenant) -> None:
    for slug in ("t-one", "t-two", "t-three"):
        make_tenant(slug)
    first = client.get("/api/v1/admin/tenants?limit=2", headers=bearer(platform_token)).get_json()
    assert [t["slug"] for t in first["items"]] == ["t-one", "t-two"]
    second = client.get(f"/api/v1/admin/tenants?limit=2&cursor={first['next_cursor']}",
                        headers=bearer(platform_token)).get_json()
    assert [t["slug"] for t in second["items"]] == ["t-three"]
    assert second["next_cursor"] is None


def test_tenant_admins_cannot_manage_tenants(client, tenant_a) -> None:
    for response in (
        client.get("/api/v1/admin/tenants", headers=tenant_a.headers),
        client.post("/api/v1/admin/tenants", json=NEW_TENANT, headers=tenant_a.headers),
        client.patch(f"/api/v1/admin/tenants/{tenant_a.id}", json={"status": "suspended"},
                     headers=tenant_a.headers),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "platform_admin_required"


def test_unknown_tenant_id_is_404(client, platform_token) -> None:
    response = client.get("/api/v1/admin/tenants/999999", headers=bearer(platform_token))
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "tenant 999999 was not found."
