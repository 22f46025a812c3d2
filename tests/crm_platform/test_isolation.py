"""Tenant isolation matrix: tenant B's token on tenant A's objects is a plain 404.

Every API route that takes an id is discovered from the app's URL map; a route missing
from OBJECTS below fails the test, so each new endpoint must join the matrix. For each
route and method, B's administrator gets the same 404 as for an id that never existed,
the body carries none of A's data, and A's object is unchanged afterwards.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest

# path parameter -> (how to create one in tenant A, a valid body for PATCH)
OBJECTS = {
    "user_id": ("/api/v1/admin/users", {"email": "secret-person-{n}@alpha.example",
                                        "name": "Secret Person"}, {"name": "Renamed"}),
    "department_id": ("/api/v1/admin/departments", {"name": "Secret Department"},
                      {"name": "Renamed"}),
    "role_id": ("/api/v1/admin/roles", {"key": "secret_role_{n}", "name": "Secret Role"},
                {"name": "Renamed"}),
    "token_id": ("/api/v1/admin/tokens", None, {}),
}
# Routes whose id is not tenant-scoped: platform admins only; anyone else gets 403 for
# every id alike (tested in test_admin_tenants), so they leak nothing either.
PLATFORM_ROUTES = {"/api/v1/admin/tenants/<int:tenant_id>"}
NEVER_EXISTED = 987654321
_serial = itertools.count()


def id_routes(app) -> list[tuple[str, str, str]]:
    """Every API route with a path parameter (an id, or later an app or form key)."""
    routes = []
    for rule in app.url_map.iter_rules():
        parameters = re.findall(r"<(?:\w+:)?(\w+)>", rule.rule)
        if not parameters or not rule.rule.startswith("/api/") or rule.rule in PLATFORM_ROUTES:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method, parameters[0]))
    return routes


def test_every_id_route_is_in_the_matrix(app) -> None:
    missing = {parameter for _rule, _method, parameter in id_routes(app)} - set(OBJECTS)
    assert not missing, f"add these to the isolation matrix: {missing}"


def _create_in_a(client, tenant_a, parameter: str) -> tuple[int, dict]:
    path, template, _patch = OBJECTS[parameter]
    n = next(_serial)
    body = ({key: value.format(n=n) for key, value in template.items()} if template
            else {"user_id": tenant_a.admin_id, "name": "Secret Token"})
    response = client.post(path, json=body, headers=tenant_a.headers)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    return created["id"], created


def _call(client, method: str, url: str, headers: dict, body: dict | None):
    return client.open(url, method=method, headers=headers,
                       json=body if method in ("POST", "PUT", "PATCH") else None)


def test_tenant_b_gets_404_on_every_object_of_tenant_a(app, client, tenant_a, tenant_b) -> None:
    routes = id_routes(app)
    assert len(routes) >= 11  # users 3, departments 3, roles 3, tokens 2
    for rule, method, parameter in routes:
        object_id, created = _create_in_a(client, tenant_a, parameter)
        patch_body = OBJECTS[parameter][2]
        url = rule.replace(f"<int:{parameter}>", str(object_id))
        ghost = rule.replace(f"<int:{parameter}>", str(NEVER_EXISTED))
        assert "<" not in url, f"the matrix cannot fill {rule} yet"

        answer = _call(client, method, url, tenant_b.headers, patch_body)
        baseline = _call(client, method, ghost, tenant_b.headers, patch_body)

        where = f"{method} {rule}"
        assert answer.status_code == 404, where
        assert baseline.status_code == 404, where
        error = answer.get_json()["error"]
        assert error["code"] == baseline.get_json()["error"]["code"] == "resource_not_found"
        text = json.dumps(answer.get_json())
        for secret in ("Secret", "secret", tenant_a.admin_email):
            assert secret not in text, where
        # A's object is untouched.
        get_url = rule.replace(f"<int:{parameter}>", str(object_id))
        after = client.get(get_url, headers=tenant_a.headers)
        assert after.status_code == 200, where
        unchanged = {key: value for key, value in created.items()
                     if key not in ("token", "updated_at")}
        assert {key: after.get_json()[key] for key in unchanged} == unchanged, where


@pytest.mark.parametrize("listing", ["/api/v1/admin/users", "/api/v1/admin/departments",
                                     "/api/v1/admin/roles", "/api/v1/admin/tokens"])
def test_lists_show_only_the_callers_tenant(client, tenant_a, tenant_b, listing) -> None:
    for parameter in OBJECTS:
        _create_in_a(client, tenant_a, parameter)
    items = client.get(listing, headers=tenant_b.headers).get_json()["items"]
    text = json.dumps(items)
    assert "Secret" not in text and "secret" not in text and tenant_a.admin_email not in text


def test_tenant_b_cannot_point_its_objects_at_tenant_a(client, tenant_a, tenant_b) -> None:
    department_id, _ = _create_in_a(client, tenant_a, "department_id")
    for body in ({"email": "x@bravo.example", "department_id": department_id},
                 {"email": "y@bravo.example", "manager_id": tenant_a.admin_id}):
        response = client.post("/api/v1/admin/users", json=body, headers=tenant_b.headers)
        assert response.status_code == 422
        assert response.get_json()["error"]["fields"][0]["code"] == "no_such_reference"
    token = client.post("/api/v1/admin/tokens", headers=tenant_b.headers,
                        json={"user_id": tenant_a.admin_id, "name": "steal"})
    assert token.status_code == 422
