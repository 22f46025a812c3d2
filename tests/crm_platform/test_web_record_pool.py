"""The customer pool on the pages: a record nobody owns says so, and someone with pool
rights claims it with one button; the designer ticks "Pool" role by role."""

from __future__ import annotations

import re

from tests.crm_platform.test_record_pool import URL, claim, pooled, sales  # noqa: F401
from tests.crm_platform.test_web import csrf_from, sign_in

PAGE = "/apps/crm/customer"


def claim_form(page: str) -> str | None:
    match = re.search(r'<form method="post" action="([^"]+/claim)"', page)
    return match.group(1) if match else None


def test_a_pool_record_offers_the_claim_button_and_then_is_yours(client, tenant_a,
                                                                 sales) -> None:  # noqa: F811
    acme = pooled(client, tenant_a, "Acme")
    sign_in(client, "alpha", sales["ann"]["email"])
    page = client.get(f"{PAGE}/{acme['id']}").get_data(as_text=True)
    assert "In the pool — nobody owns it" in page
    action = claim_form(page)
    assert action == f"{PAGE}/{acme['id']}/claim"
    assert ">Edit<" not in page                  # hers only once claimed
    claimed = client.post(action, data={"csrf_token": csrf_from(page)})
    assert claimed.status_code == 302
    assert claimed.headers["Location"].endswith(f"{PAGE}/{acme['id']}")
    after = client.get(f"{PAGE}/{acme['id']}").get_data(as_text=True)
    assert "You now own “Acme”." in after
    assert "In the pool" not in after and claim_form(after) is None
    assert "claimed the record from the pool" in after
    assert "returned the record to the pool" in after
    assert client.get(f"{URL}/{acme['id']}", headers=tenant_a.headers
                      ).get_json()["owner"] == sales["ann"]["id"]


def test_claiming_without_the_csrf_token_is_refused(client, tenant_a, sales) -> None:  # noqa: F811
    acme = pooled(client, tenant_a, "Acme")
    sign_in(client, "alpha", sales["ann"]["email"])
    client.get(f"{PAGE}/{acme['id']}")
    assert client.post(f"{PAGE}/{acme['id']}/claim").status_code in (400, 403)
    assert client.get(f"{URL}/{acme['id']}", headers=tenant_a.headers
                      ).get_json()["owner"] is None


def test_chinese_pages_and_a_late_claim_says_someone_was_faster(client, tenant_a,
                                                                sales) -> None:  # noqa: F811
    acme = pooled(client, tenant_a, "Acme")
    sign_in(client, "alpha", sales["bob"]["email"])       # Bob reads Chinese
    page = client.get(f"{PAGE}/{acme['id']}").get_data(as_text=True)
    assert "在公海中——暂无负责人" in page and ">领取<" in page
    assert claim(client, sales["ann"], acme["id"]).status_code == 200   # Ann was faster
    late = client.post(claim_form(page), data={"csrf_token": csrf_from(page)},
                       follow_redirects=True).get_data(as_text=True)
    assert "这条记录已被他人领取" in late
    other = pooled(client, tenant_a, "Beta")
    page = client.get(f"{PAGE}/{other['id']}").get_data(as_text=True)
    done = client.post(claim_form(page), data={"csrf_token": csrf_from(page)},
                       follow_redirects=True).get_data(as_text=True)
    assert "您已领取“Beta”" in done and "从公海领取了记录" in done


def test_without_pool_rights_there_is_no_button_and_no_pool_record(client, tenant_a,
                                                                   sales) -> None:  # noqa: F811
    acme = pooled(client, tenant_a, "Acme")
    sign_in(client, "alpha", sales["fay"]["email"])       # reads all, no pool rights
    page = client.get(f"{PAGE}/{acme['id']}").get_data(as_text=True)
    assert "In the pool — nobody owns it" in page and claim_form(page) is None
    refused = client.post(f"{PAGE}/{acme['id']}/claim", data={"csrf_token": csrf_from(page)},
                          follow_redirects=True).get_data(as_text=True)
    assert "may not claim records" in refused
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    sign_in(client, "alpha", sales["vic"]["email"])       # reads his own only
    assert client.get(f"{PAGE}/{acme['id']}").status_code == 404
    assert "Acme" not in client.get(PAGE).get_data(as_text=True)


def test_the_designer_ticks_pool_role_by_role(client, tenant_a, sales) -> None:  # noqa: F811
    sign_in(client, "alpha", tenant_a.admin_email)
    design = f"{PAGE}/design/permissions"
    page = client.get(design).get_data(as_text=True)
    assert "Pool: sees and may claim unowned records" in page
    assert re.search(r'name="sales.pool" value="1" checked', page)
    assert not re.search(r'name="junior.pool" value="1" checked', page)
    saved = client.post(design, data={
        "csrf_token": csrf_from(page), "junior.on": "1", "junior.read": "own",
        "junior.update": "own", "junior.delete": "none", "junior.pool": "1"})
    assert saved.status_code == 302
    items = client.get("/api/v1/apps/crm/forms/customer/permissions",
                       headers=tenant_a.headers).get_json()["items"]
    assert [(item["role"], item["pool"]) for item in items] == [("junior", True)]
