"""The templates API: install a bundle file, export, clone into another tenant, upgrade
with a conflict resolved; what a bad file and a caller without the right are told."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests.conftest import bearer

FIXTURES = Path(__file__).parent / "fixtures"


def _upload(client, headers, content: bytes, **fields):
    return client.post("/api/v1/templates/install", headers=headers,
                       data={"file": (io.BytesIO(content), "helpdesk.loom.json"), **fields},
                       content_type="multipart/form-data")


def test_install_export_clone_and_upgrade_through_the_api(client, tenant_a, tenant_b):
    v1 = (FIXTURES / "helpdesk_v1.json").read_bytes()
    installed = _upload(client, tenant_a.headers, v1)
    assert installed.status_code == 201, installed.get_json()
    assert installed.get_json() == {"app": "helpdesk", "template": "helpdesk",
                                    "version": "1.0.0"}
    listed = client.get("/api/v1/apps/helpdesk/forms/ticket/records",
                        headers=tenant_a.headers).get_json()
    assert len(listed["items"]) == 3

    exported = client.get("/api/v1/apps/helpdesk/export?sample_data=true",
                          headers=tenant_a.headers)
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == (
        'attachment; filename="helpdesk-1.0.0.loom.json"')
    cloned = _upload(client, tenant_b.headers, exported.data, app="support")
    assert cloned.get_json() == {"app": "support", "template": "helpdesk", "version": "1.0.0"}
    assert len(client.get("/api/v1/apps/support/forms/ticket/records",
                          headers=tenant_b.headers).get_json()["items"]) == 3

    # Tenant A makes the refund rule stricter; v2 raises the same threshold: a conflict.
    form = client.get("/api/v1/apps/helpdesk/forms/ticket", headers=tenant_a.headers
                      ).get_json()
    draft = form["draft"]
    draft["rules"][0]["error_if"] = "refund > 3000"
    assert client.put("/api/v1/apps/helpdesk/forms/ticket/draft", json=draft,
                      headers=tenant_a.headers).status_code == 200
    assert client.post("/api/v1/apps/helpdesk/forms/ticket/publish", json={},
                       headers=tenant_a.headers).status_code == 201
    v2 = json.loads((FIXTURES / "helpdesk_v2.json").read_text("utf-8"))
    plan = client.post("/api/v1/apps/helpdesk/upgrade/plan", json={"bundle": v2},
                       headers=tenant_a.headers)
    assert plan.status_code == 200, plan.get_json()
    assert plan.get_json()["conflicts"] == [{
        "path": "forms/ticket/rules/refund_cap/error_if", "base": {"value": "refund > 5000"},
        "mine": {"value": "refund > 3000"}, "theirs": {"value": "refund > 8000"}}]
    refused = client.post("/api/v1/apps/helpdesk/upgrade", json={"bundle": v2},
                          headers=tenant_a.headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "upgrade_conflicts"
    done = client.post("/api/v1/apps/helpdesk/upgrade", json={
        "bundle": v2, "resolutions": {"forms/ticket/rules/refund_cap/error_if": "theirs"}},
        headers=tenant_a.headers)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["to_version"] == "2.0.0"
    published = client.get("/api/v1/apps/helpdesk/forms/ticket", headers=tenant_a.headers
                           ).get_json()["published"]
    assert published["definition"]["rules"][0]["error_if"] == "refund > 8000"
    # The clone in tenant B is its own app: untouched.
    other = client.get("/api/v1/apps/support/forms/ticket", headers=tenant_b.headers
                       ).get_json()["published"]
    assert other["definition"]["rules"][0]["error_if"] == "refund > 5000"


def test_a_bad_file_is_refused_whole_in_the_callers_language(client, make_tenant):
    tenant_a = make_tenant("gamma", locale="zh")
    zh = tenant_a.headers
    not_json = _upload(client, zh, b"{\"format\": 1,")
    assert not_json.status_code == 400
    assert not_json.get_json()["error"]["message"].startswith("模板文件不是有效的 JSON")
    bundle = json.loads((FIXTURES / "helpdesk_v1.json").read_text("utf-8"))
    bundle["forms"][0]["fields"][1]["region"] = "Atlantis"
    bundle["views"][0]["form"] = "nowhere"
    bad = _upload(client, zh, json.dumps(bundle).encode())
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert [field["path"] for field in fields] == ["forms.client.fields[1].region",
                                                  "views[0].form"]
    assert "nowhere" in fields[1]["message"] and "表单" in fields[1]["message"]
    assert client.get("/api/v1/apps", headers=tenant_a.headers).get_json()["items"] == []


def test_only_administrators_install_and_upgrade(client, tenant_a, member_token):
    member = bearer(member_token)
    v1 = (FIXTURES / "helpdesk_v1.json").read_bytes()
    assert _upload(client, member, v1).status_code == 403
    assert _upload(client, tenant_a.headers, v1).status_code == 201
    assert client.post("/api/v1/apps/helpdesk/upgrade", json={"template": "helpdesk"},
                       headers=member).status_code == 403
    assert client.get("/api/v1/apps/helpdesk/export", headers=member).status_code == 403
