"""The approval panel on a record's page: submit to a flow, see where it stands, and — as
the holder of its task — decide with a comment; refusals are said, nothing half done."""

from __future__ import annotations

import re

from tests.conftest import created
from tests.crm_platform.test_web import csrf_from, sign_in
from tests.crm_platform.test_web_shell import RECORDS, published_flow, rep  # noqa: F401


def test_a_rep_submits_and_the_approver_approves_on_the_page(client, tenant_a, rep):  # noqa: F811
    published_flow(client, tenant_a, tenant_a.admin_id)
    record = created(client, RECORDS, {"data": {"name": "Needs a yes"}}, rep["headers"])
    page_url = f"/apps/crm/deal/{record['id']}"
    sign_in(client, "alpha", rep["email"])
    page = client.get(page_url).get_data(as_text=True)
    assert "Submit for approval" in page
    done = client.post(f"{page_url}/submit", data={"csrf_token": csrf_from(page),
                                                   "flow": "big", "comment": "please"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Submitted for approval." in done and "In approval" in done
    assert "Submit for approval" not in done          # the flow runs: no second submit
    client.post("/logout", data={"csrf_token": csrf_from(done)})
    sign_in(client, "alpha", tenant_a.admin_email)
    boss = client.get(page_url).get_data(as_text=True)
    assert "Your decision at “boss”" in boss
    task = re.search(r'action="/tasks/(\d+)/act"', boss).group(1)
    approved = client.post(f"/tasks/{task}/act", data={
        "csrf_token": csrf_from(boss), "action": "approve", "comment": "fine",
        "back": page_url}, follow_redirects=True).get_data(as_text=True)
    assert "Approved." in approved and "approved" in approved.lower()
    history = client.get(f"/api/v1/apps/crm/forms/deal/records/{record['id']}/history",
                         headers=tenant_a.headers).get_json()["items"]
    assert any(item["comment"] == "fine" for item in history)


def test_someone_without_the_task_cannot_decide_it(client, tenant_a, rep):  # noqa: F811
    published_flow(client, tenant_a, tenant_a.admin_id)
    record = created(client, RECORDS, {"data": {"name": "Not yours"}}, rep["headers"])
    instance = client.post(f"{RECORDS}/{record['id']}/submit", json={"flow": "big"},
                           headers=rep["headers"]).get_json()
    sign_in(client, "alpha", rep["email"])
    page = client.get(f"/apps/crm/deal/{record['id']}").get_data(as_text=True)
    assert "Your decision" not in page
    refused = client.post(f"/tasks/{instance['tasks'][0]['id']}/act", data={
        "csrf_token": csrf_from(page), "action": "approve",
        "back": f"/apps/crm/deal/{record['id']}"}, follow_redirects=True)
    assert "In approval" in refused.get_data(as_text=True)
    state = client.get(f"/api/v1/instances/{instance['id']}", headers=tenant_a.headers)
    assert state.get_json()["status"] == "running"
