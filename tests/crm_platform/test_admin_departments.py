"""Departments form a tree with a head each."""

from __future__ import annotations


def create(client, world, **body):
    return client.post("/api/v1/admin/departments", json=body, headers=world.headers)


def test_build_a_tree_with_heads(client, tenant_a) -> None:
    company = create(client, tenant_a, name="Company", head_id=tenant_a.admin_id).get_json()
    sales = create(client, tenant_a, name="Sales", parent_id=company["id"]).get_json()
    north = create(client, tenant_a, name="North", parent_id=sales["id"]).get_json()
    assert company["head_id"] == tenant_a.admin_id
    assert north["parent_id"] == sales["id"]
    children = client.get(f"/api/v1/admin/departments?parent_id={sales['id']}",
                          headers=tenant_a.headers).get_json()["items"]
    assert [d["name"] for d in children] == ["North"]


def test_moving_a_department_under_its_own_child_is_refused(client, tenant_a) -> None:
    sales = create(client, tenant_a, name="Sales").get_json()
    north = create(client, tenant_a, name="North", parent_id=sales["id"]).get_json()
    response = client.patch(f"/api/v1/admin/departments/{sales['id']}",
                            json={"parent_id": north["id"]}, headers=tenant_a.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["code"] == "creates_cycle"
    itself = client.patch(f"/api/v1/admin/departments/{sales['id']}",
                          json={"parent_id": sales["id"]}, headers=tenant_a.headers)
    assert itself.status_code == 422


def test_only_empty_departments_can_be_deleted(client, tenant_a) -> None:
    sales = create(client, tenant_a, name="Sales").get_json()
    north = create(client, tenant_a, name="North", parent_id=sales["id"]).get_json()
    busy = client.delete(f"/api/v1/admin/departments/{sales['id']}", headers=tenant_a.headers)
    assert busy.status_code == 409
    assert busy.get_json()["error"]["message"] == (
        "The department still has 1 sub-department(s) and 0 member(s).")
    assert client.delete(f"/api/v1/admin/departments/{north['id']}",
                         headers=tenant_a.headers).status_code == 204
    assert client.delete(f"/api/v1/admin/departments/{sales['id']}",
                         headers=tenant_a.headers).status_code == 204


def test_head_must_be_a_user_of_the_tenant(client, tenant_a, tenant_b) -> None:
    response = create(client, tenant_a, name="Sales", head_id=tenant_b.admin_id)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][0]["path"] == "head_id"


def test_a_deleted_departments_records_keep_everything_but_the_department(
        client, db, tenant_a) -> None:
    """On PostgreSQL the reference holds the tenant and cannot be nulled by the database
    (docs/scaling.md): the service clears it, as SQLite's ON DELETE SET NULL does."""
    from crm_platform.models import Record
    from crm_platform.scoping import TenantScope
    from tests.conftest import created, published_app

    sales = create(client, tenant_a, name="Sales").get_json()
    admin = f"/api/v1/admin/users/{tenant_a.admin_id}"
    assert client.patch(admin, json={"department_id": sales["id"]},
                        headers=tenant_a.headers).status_code == 200
    published_app(client, tenant_a.headers, "crm",
                  {"key": "lead", "fields": [{"key": "name", "type": "text"}]})
    record = created(client, "/api/v1/apps/crm/forms/lead/records",
                     {"data": {"name": "Acme"}}, tenant_a.headers)
    assert client.patch(admin, json={"department_id": None},
                        headers=tenant_a.headers).status_code == 200
    with db.transaction() as session:
        assert TenantScope(session, tenant_a.id).find(Record, record["id"]).department_id == (
            sales["id"])

    assert client.delete(f"/api/v1/admin/departments/{sales['id']}",
                         headers=tenant_a.headers).status_code == 204
    with db.transaction() as session:
        kept = TenantScope(session, tenant_a.id).find(Record, record["id"])
        assert (kept.department_id, kept.data["name"]) == (None, "Acme")
