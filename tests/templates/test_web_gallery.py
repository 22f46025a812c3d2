"""The gallery pages: cards and contents, install (refusals shown on the page, nothing
left behind), a file from another Loom, export, and an upgrade whose conflict is resolved
on the page."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path

from crm_platform.jobs import wait_for_jobs
from tests.crm_platform.test_web import csrf_from, sign_in

FIXTURES = Path(__file__).parent / "fixtures"


def _file(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _signed_in(client, tenant) -> str:
    sign_in(client, tenant.slug, tenant.admin_email)
    return csrf_from(client.get("/templates").get_data(as_text=True))


def test_the_gallery_shows_every_shipped_template_and_what_it_holds(client, tenant_a):
    _signed_in(client, tenant_a)
    page = client.get("/templates").get_data(as_text=True)
    for name in ("Sales core", "Manufacturing", "Education", "Retail"):
        assert name in page
    detail = client.get("/templates/retail").get_data(as_text=True)
    assert "Members" in detail and "Install" in detail
    assert "Built on the “Sales core” template" in detail
    assert client.get("/templates/nothing").status_code == 404
    core = client.get("/templates/sales_core").get_data(as_text=True)
    assert "when a record is transferred or claimed" in core     # every trigger is named
    assert "trigger_" not in core + detail


def test_a_file_installs_exports_and_upgrades_with_a_conflict_resolved(client, tenant_a):
    csrf = _signed_in(client, tenant_a)
    installed = client.post("/templates/file", data={
        "csrf_token": csrf, "sample_data": "on",
        "file": (io.BytesIO(_file("helpdesk_v1.json")), "helpdesk.loom.json")},
        content_type="multipart/form-data")
    assert installed.status_code == 302
    task = installed.headers["Location"]
    assert re.fullmatch(r".*/templates/tasks/\d+", task)
    wait_for_jobs(client.application)
    done = client.get(task).get_data(as_text=True)
    assert "Installed app “helpdesk”." in done
    assert 'href="/apps/helpdesk/client"' in done

    exported = client.get("/apps/helpdesk/export?records=1")
    assert json.loads(exported.data)["sample_data"]["ticket"][0]["data"]["subject"] == "打印机卡纸"

    # The tenant's own threshold, then v2's: one conflict, resolved on the page.
    api = tenant_a.headers
    draft = client.get("/api/v1/apps/helpdesk/forms/ticket", headers=api).get_json()["draft"]
    draft["rules"][0]["error_if"] = "refund > 3000"
    client.put("/api/v1/apps/helpdesk/forms/ticket/draft", json=draft, headers=api)
    client.post("/api/v1/apps/helpdesk/forms/ticket/publish", json={}, headers=api)
    offered = client.post("/apps/helpdesk/upgrade/offer", data={
        "csrf_token": csrf, "file": (io.BytesIO(_file("helpdesk_v2.json")), "v2.loom.json")},
        content_type="multipart/form-data")
    assert offered.status_code == 302
    page = client.get("/apps/helpdesk/upgrade").get_data(as_text=True)
    assert "1 conflict(s) to resolve" in page
    assert "forms/ticket/rules/refund_cap/error_if" in page
    assert "<code>refund &gt; 3000</code>" in page and "<code>refund &gt; 8000</code>" in page
    assert "Changed form: ticket" in page

    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    unresolved = client.post("/apps/helpdesk/upgrade/apply", data={"csrf_token": csrf,
                                                                  "token": token})
    assert unresolved.status_code == 409
    assert "conflict" in unresolved.get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    stale = client.post("/apps/helpdesk/upgrade/apply", data={
        "csrf_token": csrf, "token": "0" * 32,
        "conflict:forms/ticket/rules/refund_cap/error_if": "theirs"})
    assert stale.status_code == 409                  # not the plan this page showed
    assert "changed since this page was shown" in stale.get_data(as_text=True)
    done = client.post("/apps/helpdesk/upgrade/apply", data={
        "csrf_token": csrf, "token": token,
        "conflict:forms/ticket/rules/refund_cap/error_if": "theirs"})
    assert done.status_code == 302
    assert "is now at version 2.0.0" in client.get("/templates").get_data(as_text=True)
    rule = client.get("/api/v1/apps/helpdesk/forms/ticket", headers=api
                      ).get_json()["published"]["definition"]["rules"][0]
    assert rule["error_if"] == "refund > 8000"


def test_a_refused_install_is_explained_on_the_page_and_leaves_nothing(client, tenant_a):
    csrf = _signed_in(client, tenant_a)
    bundle = json.loads(_file("helpdesk_v1.json"))
    broken = copy.deepcopy(bundle)
    broken["sample_data"]["client"][0]["data"]["phone"] = "12"
    started = client.post("/templates/file", data={
        "csrf_token": csrf, "sample_data": "on",
        "file": (io.BytesIO(json.dumps(broken).encode()), "broken.loom.json")},
        content_type="multipart/form-data")
    assert started.status_code == 302      # the file is sound; a sample record is not
    wait_for_jobs(client.application)
    text = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "The template was not installed" in text
    assert "Nothing was changed: 1 problem(s) to fix first" in text
    assert "<code>sample_data.client[0].data.phone</code> — Phone needs its country code" in text
    assert client.get("/api/v1/apps", headers=tenant_a.headers).get_json()["items"] == []
    other = copy.deepcopy(bundle)
    other["forms"][0]["fields"][0]["type"] = "telephone"   # refused at once, on the page
    refused = client.post("/templates/file", data={
        "csrf_token": csrf, "file": (io.BytesIO(json.dumps(other).encode()), "x.json")},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "<code>forms.client.fields[0].type</code>" in refused.get_data(as_text=True)
    bad_json = client.post("/templates/file", data={
        "csrf_token": csrf, "file": (io.BytesIO(b"not json"), "x.json")},
        content_type="multipart/form-data")
    assert bad_json.status_code == 422
    assert "not valid JSON" in bad_json.get_data(as_text=True)


def test_a_shipped_template_installs_as_a_job_the_page_follows(client, tenant_a):
    csrf = _signed_in(client, tenant_a)
    started = client.post("/templates/education/install", data={
        "csrf_token": csrf, "app": "school"})          # without the sample records
    assert started.status_code == 302
    waiting = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Installing “Training school CRM”" in waiting or "Installed app" in waiting
    wait_for_jobs(client.application)
    done = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Installed app “school”." in done
    assert 'href="/apps/school/student_lead"' in done
    count = client.get("/api/v1/apps/school/forms/student_lead/records?count=true&limit=1",
                       headers=tenant_a.headers).get_json()["count"]
    assert count == 0
    taken = client.post("/templates/education/install", data={
        "csrf_token": csrf, "app": "school"})          # the key is in use now
    wait_for_jobs(client.application)
    failed = client.get(taken.headers["Location"]).get_data(as_text=True)
    assert "The template was not installed" in failed and "school" in failed


def test_only_administrators_install(client, tenant_a):
    from tests.conftest import created
    created(client, "/api/v1/admin/users", {"email": "s@alpha.example",
                                            "password": "correct horse 9"}, tenant_a.headers)
    sign_in(client, "alpha", "s@alpha.example", "correct horse 9")
    assert client.get("/templates").status_code == 403
    page = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/templates/sales_core/install",
                       data={"csrf_token": csrf}).status_code == 403
