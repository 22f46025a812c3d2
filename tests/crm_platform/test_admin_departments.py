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
