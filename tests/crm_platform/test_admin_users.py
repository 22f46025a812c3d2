"""Tenant administrators manage users: roles, managers, departments, deactivation."""

from __future__ import annotations

import pytest

from tests.conftest import bearer


def create_user(client, world, **body):
    body.setdefault("email", "sam@alpha.example")
    return client.post("/api/v1/admin/users", json=body, headers=world.headers)


def role_id(client, world, key: str) -> int:
    roles = client.get("/api/v1/admin/roles", headers=world.headers).get_json()["items"]
    return next(r["id"] for r in roles if r["key"] == key)


def test_create_user_with_roles_department_and_manager(client, tenant_a) -> None:
    department = client.post("/api/v1/admin/departments", json={"name": "Sales"},
                             headers=tenant_a.headers).get_json()
    designer = role_id(client, tenant_a, "designer")
    response = create_user(client, tenant_a, name="Sam", locale="zh", roles=[designer],
                           department_id=department["id"], manager_id=tenant_a.admin_id)
    assert response.status_code == 201
    user = response.get_json()
    assert user["email"] == "sam@alpha.example"
    assert user["locale"] == "zh"
    assert [r["key"] for r in user["roles"]] == ["designer"]
    assert user["department_id"] == department["id"]
    assert user["manager_id"] == tenant_a.admin_id
    assert "password_hash" not in user


def test_email_is_normalised_and_unique_in_the_tenant(client, tenant_a, tenant_b) -> None:
    assert create_user(client, tenant_a, email="Sam@Alpha.Example").get_json()["email"] == (
        "sam@alpha.example")
    again = create_user(client, tenant_a, email="SAM@alpha.example")
    assert again.status_code == 422
    assert again.get_json()["error"]["fields"][0]["code"] == "taken"
    # the same address may exist in another tenant
    assert create_user(client, tenant_b, email="sam@alpha.example").status_code == 201


def test_manager_chain_cannot_loop(client, tenant_a) -> None:
    sam = create_user(client, tenant_a, manager_id=tenant_a.admin_id).get_json()
    response = client.patch(f"/api/v1/admin/users/{tenant_a.admin_id}",
                            json={"manager_id": sam["id"]}, headers=tenant_a.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0] == {
        "path": "manager_id", "code": "creates_cycle",
        "message": "manager_id would make a cycle: user cannot report to itself."}


def test_references_to_another_tenant_are_dangling(client, tenant_a, tenant_b) -> None:
    foreign_department = client.post("/api/v1/admin/departments", json={"name": "B-Sales"},
                                     headers=tenant_b.headers).get_json()["id"]
    foreign_role = role_id(client, tenant_b, "designer")
    response = create_user(client, tenant_a, department_id=foreign_department,
                           manager_id=tenant_b.admin_id, roles=[foreign_role])
    assert response.status_code == 422
    paths = {f["path"] for f in response.get_json()["error"]["fields"]}
    assert paths <= {"department_id", "manager_id", "roles[0]"} and paths
    listed = client.get("/api/v1/admin/users", headers=tenant_a.headers).get_json()["items"]
    assert [u["email"] for u in listed] == [tenant_a.admin_email]


def test_the_last_admin_cannot_be_removed(client, tenant_a) -> None:
    response = client.delete(f"/api/v1/admin/users/{tenant_a.admin_id}", headers=tenant_a.headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "last_admin"
    demoted = client.patch(f"/api/v1/admin/users/{tenant_a.admin_id}", json={"roles": []},
                           headers=tenant_a.headers)
    assert demoted.status_code == 409
    me = client.get("/api/v1/me", headers=tenant_a.headers).get_json()
    assert me["is_tenant_admin"] is True


def test_deactivate_keeps_the_user_but_marks_them_inactive(client, tenant_a) -> None:
    admin_role = role_id(client, tenant_a, "admin")
    sam = create_user(client, tenant_a, roles=[admin_role]).get_json()
    response = client.delete(f"/api/v1/admin/users/{sam['id']}", headers=tenant_a.headers)
    assert response.status_code == 200
    assert response.get_json()["is_active"] is False
    inactive = client.get("/api/v1/admin/users?active=false", headers=tenant_a.headers)
    assert [u["id"] for u in inactive.get_json()["items"]] == [sam["id"]]


def test_members_cannot_administer(client, tenant_a, member_token) -> None:
    for response in (
        client.get("/api/v1/admin/users", headers=bearer(member_token)),
        client.post("/api/v1/admin/users", json={"email": "x@alpha.example"},
                    headers=bearer(member_token)),
        client.get(f"/api/v1/admin/users/{tenant_a.admin_id}", headers=bearer(member_token)),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "tenant_admin_required"
    assert client.get("/api/v1/me", headers=bearer(member_token)).status_code == 200


def test_short_password_is_refused_with_the_limit(client, tenant_a) -> None:
    response = create_user(client, tenant_a, password="short")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0] == {
        "path": "password", "code": "password_too_weak",
        "message": "password must have at least 8 characters."}


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, client, db,
                                                                 tenant_a) -> None:
    from concurrent.futures import ThreadPoolExecutor

    admin_role = role_id(client, tenant_a, "admin")
    second = create_user(client, tenant_a, roles=[admin_role]).get_json()
    targets = [tenant_a.admin_id, second["id"]]

    def demote(user_id):
        return app.test_client().patch(f"/api/v1/admin/users/{user_id}", json={"roles": []},
                                       headers=tenant_a.headers).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(demote, targets))
    assert statuses.count(200) <= 1, statuses
    from crm_platform.scoping import TenantScope
    from crm_platform.services.identity.roles import active_admin_ids

    with db.transaction() as session:
        assert len(active_admin_ids(TenantScope(session, tenant_a.id))) >= 1


@pytest.mark.parametrize("password", ["password", "12345678", "Passw0rd!", "qwertyuiop",
                                      "iloveyou123", "zhang1988"])
def test_common_and_easily_guessed_passwords_are_refused(client, tenant_a, password) -> None:
    response = create_user(client, tenant_a, password=password)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "password_too_common"


def test_a_password_made_of_the_accounts_own_email_is_refused(client, tenant_a) -> None:
    response = create_user(client, tenant_a, email="wang.fang@alpha.example",
                           password="wang.fang2024")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "password_too_common"
