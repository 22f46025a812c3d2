"""Tenant isolation matrix: tenant B's token on tenant A's objects is a plain 404.

Every API route with a path parameter is discovered from the app's URL map, and every
parameter must have a value in tenant A's world below — a new route whose parameter is
missing fails the test, so each new endpoint joins the matrix. For each route and method,
B's administrator gets the same answer as for an object that never existed, the body
carries none of A's data, and A's objects are unchanged afterwards.
"""

from __future__ import annotations

import io
import json
import re

import pytest

from crm_platform.models import OutboxEntry

# Platform routes: only platform admins; everyone else gets 403 for every id alike
# (tested in test_admin_tenants), so they reveal nothing either.
PLATFORM_ROUTES = {"/api/v1/admin/tenants/<int:tenant_id>"}
# The shipped templates are the same for every tenant: `<key>` names no tenant's object
# (installing one makes an app in the caller's own tenant, tested in tests/templates).
SHARED_ROUTES = {"/api/v1/templates/<key>", "/api/v1/templates/<key>/install"}
GHOSTS = {"user_id": "987654321", "department_id": "987654321", "role_id": "987654321",
          "token_id": "987654321", "app": "ghostapp", "form": "ghostform",
          "record_id": "987654321", "import_id": "987654321", "flow": "ghostflow",
          "task_id": "987654321", "instance_id": "987654321", "entry_id": "987654321",
          "automation": "ghostrule", "view_id": "987654321"}
DEFINITION = {"key": "secretform", "fields": [{"key": "name", "type": "text"}]}


SECRET_FLOW = {"key": "secretflow", "form": "secretform", "nodes": [
    {"key": "start", "type": "start", "next": "boss"},
    {"key": "boss", "type": "approval", "approvers": [{"source": "submitter"}], "next": "end"},
    {"key": "end", "type": "end"}]}


SECRET_RULE = {"key": "secretrule", "form": "secretform", "trigger": {"on": "deleted"},
               "actions": [{"type": "webhook", "url": "https://secret.example/rule"}]}


def body_for(rule: str, method: str) -> dict | None:
    """A valid body, so that a 404 is not hidden behind a 422."""
    if rule.endswith("/submit"):
        return {"flow": "secretflow"}
    if rule.startswith(("/api/v1/tasks/", "/api/v1/instances/")):
        action = rule.rsplit("/", 1)[-1]
        return {"transfer": {"to": 1}, "add_signer": {"to": 1}, "comment": {"comment": "x"},
                "reassign": {"task": 1, "to": 1}}.get(action, {})
    if rule.endswith("/rollback"):
        return {"version": 1}
    if "/flows" in rule and method in ("PUT", "POST"):
        return SECRET_FLOW
    if "/automations" in rule and method in ("PUT", "POST"):
        return SECRET_RULE
    if rule.endswith("/permissions"):
        return {"items": []}
    if "/views" in rule and method in ("PUT", "POST"):
        return {"name": "Renamed", "kind": "list"}
    if rule.endswith("/transfer"):
        return {"owner": 1}
    if rule.endswith("/batch"):
        return {"items": [{"data": {"name": "Renamed"}}]}
    if "/records" in rule and method in ("PATCH", "POST"):
        return {"data": {"name": "Renamed"}}
    if method == "PATCH":
        return {"name": "Renamed"}
    if method == "PUT" or rule.endswith("/forms"):
        return DEFINITION
    if rule.endswith("/evaluate"):
        return {"data": {}}
    return {} if method == "POST" else None
SECRETS = ("Secret", "secret", "admin@alpha.example")
# A valid sheet for the secret form: an upload is read before the form is looked up, so a
# bad one would be a 422 that hides the 404 under test.
SHEET = b"name\nRenamed\n"


def upload_rules(app) -> set[str]:
    """Routes that take a multipart/form-data upload instead of a JSON body."""
    return {rule.rule for rule in app.url_map.iter_rules()
            if getattr(getattr(app.view_functions[rule.endpoint], "openapi", None), "upload",
                       None) is not None}


def send(client, path: str, rule: str, method: str, headers: dict[str, str],
         uploads: set[str]):
    """The request for `rule`: a valid JSON body, or a valid multipart upload."""
    if rule in uploads and method == "POST":
        return client.open(path, method=method, headers=headers,
                           data={"file": (io.BytesIO(SHEET), "sheet.csv")},
                           content_type="multipart/form-data")
    return client.open(path, method=method, headers=headers, json=body_for(rule, method))


def parameter_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in PLATFORM_ROUTES | SHARED_ROUTES:
            continue
        if not re.search(r"<(?:\w+:)?\w+>", rule.rule):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.rule, method))
    return routes


def fill(rule: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"the isolation matrix has no value for <{name}> in {rule}"
        return values[name]

    return re.sub(r"<(?:\w+:)?(\w+)>", value, rule)


def masked(text: str, values: dict[str, str], rule: str) -> str:
    """`text` with the values of the rule's own parameters replaced by their names."""
    names = re.findall(r"<(?:\w+:)?(\w+)>", rule)
    for name in sorted(names, key=lambda n: -len(values[n])):
        text = text.replace(values[name], f"<{name}>")
    return text


@pytest.fixture
def world_a(client, tenant_a) -> dict[str, str]:
    """One of everything in tenant A, with names that must never reach tenant B."""
    headers = tenant_a.headers

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, (path, response.get_json())
        return response.get_json()

    user = post("/api/v1/admin/users", {"email": "secret-person@alpha.example",
                                        "name": "Secret Person"})
    department = post("/api/v1/admin/departments", {"name": "Secret Department"})
    role = post("/api/v1/admin/roles", {"key": "secret_role", "name": "Secret Role"})
    token = post("/api/v1/admin/tokens", {"user_id": tenant_a.admin_id, "name": "Secret Token"})
    post("/api/v1/apps", {"key": "secretapp", "name": "Secret App"})
    post("/api/v1/apps/secretapp/forms", {"key": "secretform", "label": "Secret Form",
                                          "fields": [{"key": "name", "type": "text",
                                                      "label": "Secret Name"}]})
    publish = client.post("/api/v1/apps/secretapp/forms/secretform/publish", json={},
                          headers=headers)
    assert publish.status_code == 201
    record = post("/api/v1/apps/secretapp/forms/secretform/records",
                  {"data": {"name": "Secret Record"}})
    imported = client.post("/api/v1/apps/secretapp/forms/secretform/imports", headers=headers,
                           data={"file": (io.BytesIO(b"name\nSecret Import\n"),
                                          "secret.csv"), "dry_run": "true"},
                           content_type="multipart/form-data")
    assert imported.status_code == 201, imported.get_json()
    post("/api/v1/apps/secretapp/flows", SECRET_FLOW)
    post("/api/v1/apps/secretapp/flows/secretflow/publish", {})
    post("/api/v1/apps/secretapp/automations", SECRET_RULE)
    post("/api/v1/apps/secretapp/automations/secretrule/publish", {})
    view = post("/api/v1/apps/secretapp/forms/secretform/views", {
        "name": "Secret View", "kind": "list", "search": "Secret", "visibility": "everyone"})
    instance = post(f"/api/v1/apps/secretapp/forms/secretform/records/{record['id']}/submit",
                    {"flow": "secretflow", "comment": "Secret comment"})
    with client.application.extensions["loom.db"].transaction() as session:
        entry = OutboxEntry(tenant_id=tenant_a.id, kind="webhook", status="failed",
                            attempts=8, payload={"url": "https://secret.example/hook"})
        session.add(entry)
        session.flush()
        entry_id = entry.id
    return {"user_id": str(user["id"]), "department_id": str(department["id"]),
            "role_id": str(role["id"]), "token_id": str(token["id"]),
            "app": "secretapp", "form": "secretform", "record_id": str(record["id"]),
            "import_id": str(imported.get_json()["id"]), "flow": "secretflow",
            "task_id": str(instance["tasks"][0]["id"]), "instance_id": str(instance["id"]),
            "entry_id": str(entry_id), "automation": "secretrule", "view_id": str(view["id"])}


def snapshot(client, tenant_a, world: dict[str, str]) -> dict[str, object]:
    headers = tenant_a.headers
    paths = [f"/api/v1/admin/users/{world['user_id']}",
             f"/api/v1/admin/departments/{world['department_id']}",
             f"/api/v1/admin/roles/{world['role_id']}",
             f"/api/v1/admin/tokens/{world['token_id']}",
             "/api/v1/apps/secretapp", "/api/v1/apps/secretapp/forms/secretform",
             "/api/v1/apps/secretapp/forms/secretform/versions",
             f"/api/v1/apps/secretapp/forms/secretform/records/{world['record_id']}",
             f"/api/v1/apps/secretapp/forms/secretform/records/{world['record_id']}/history",
             "/api/v1/apps/secretapp/forms/secretform/records",
             f"/api/v1/imports/{world['import_id']}",
             "/api/v1/apps/secretapp/flows/secretflow",
             "/api/v1/apps/secretapp/flows/secretflow/versions",
             f"/api/v1/instances/{world['instance_id']}", "/api/v1/tasks",
             "/api/v1/notifications", "/api/v1/admin/outbox",
             "/api/v1/apps/secretapp/automations/secretrule",
             f"/api/v1/apps/secretapp/forms/secretform/views/{world['view_id']}"]
    return {path: client.get(path, headers=headers).get_json() for path in paths}


def test_tenant_b_gets_404_on_every_object_of_tenant_a(app, client, tenant_a, tenant_b,
                                                       world_a) -> None:
    routes = parameter_routes(app)
    assert len(routes) >= 20
    uploads = upload_rules(app)
    assert "/api/v1/apps/<app>/forms/<form>/imports" in uploads
    before = snapshot(client, tenant_a, world_a)
    for rule, method in routes:
        answer = send(client, fill(rule, world_a), rule, method, tenant_b.headers, uploads)
        baseline = send(client, fill(rule, GHOSTS), rule, method, tenant_b.headers, uploads)
        where = f"{method} {rule}"
        assert answer.status_code == 404, (where, answer.get_data(as_text=True)[:300])
        assert baseline.status_code == 404, where
        # Identical to "never existed", but for the identifier the caller sent itself.
        assert (masked(answer.get_data(as_text=True), world_a, rule)
                == masked(baseline.get_data(as_text=True), GHOSTS, rule)), where
    assert snapshot(client, tenant_a, world_a) == before


@pytest.mark.parametrize("listing", ["/api/v1/admin/users", "/api/v1/admin/departments",
                                     "/api/v1/admin/roles", "/api/v1/admin/tokens",
                                     "/api/v1/apps"])
def test_lists_show_only_the_callers_tenant(client, tenant_b, world_a, listing) -> None:
    items = client.get(listing, headers=tenant_b.headers).get_json()["items"]
    text = json.dumps(items)
    assert not any(secret in text for secret in SECRETS)


def test_tenant_b_cannot_point_its_objects_at_tenant_a(client, tenant_a, tenant_b,
                                                      world_a) -> None:
    for body in ({"email": "x@bravo.example", "department_id": int(world_a["department_id"])},
                 {"email": "y@bravo.example", "manager_id": tenant_a.admin_id}):
        response = client.post("/api/v1/admin/users", json=body, headers=tenant_b.headers)
        assert response.status_code == 422
        assert response.get_json()["error"]["fields"][0]["code"] == "no_such_reference"
    token = client.post("/api/v1/admin/tokens", headers=tenant_b.headers,
                        json={"user_id": tenant_a.admin_id, "name": "steal"})
    assert token.status_code == 422


def test_the_same_keys_in_two_tenants_are_two_different_things(client, tenant_a, tenant_b,
                                                               world_a) -> None:
    client.post("/api/v1/apps", json={"key": "secretapp", "name": "Bravo's own"},
                headers=tenant_b.headers)
    mine = client.get("/api/v1/apps/secretapp", headers=tenant_b.headers).get_json()
    assert mine["name"] == "Bravo's own"
    forms = client.get("/api/v1/apps/secretapp/forms", headers=tenant_b.headers).get_json()
    assert forms["items"] == []
