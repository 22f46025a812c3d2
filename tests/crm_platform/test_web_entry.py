"""Entering, editing and reading one record in the browser: the form engine's renderer,
errors beside their fields and in a summary, a stale edit that keeps what was typed, the
record page with related records and history."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, created, published_app
from tests.crm_platform.test_web import csrf_from, sign_in

CUSTOMER = {"key": "customer", "label": {"en": "Customer", "zh": "客户"}, "title": "{name}",
            "dedup": [["name"]],
            "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"},
                        "required": True},
                       {"key": "phone", "type": "phone", "region": "CN",
                        "label": {"en": "Phone", "zh": "电话"}},
                       {"key": "level", "type": "select", "label": {"en": "Level", "zh": "等级"},
                        "options": [{"value": "a", "label": {"en": "Key", "zh": "重点"}},
                                    {"value": "b"}]},
                       {"key": "budget", "type": "currency", "currency": "CNY",
                        "label": {"en": "Budget", "zh": "预算"}, "visible_if": "level == 'a'"}]}
CONTACT = {"key": "contact", "label": {"en": "Contact", "zh": "联系人"}, "title": "{name}",
           "fields": [{"key": "name", "type": "text", "required": True},
                      {"key": "customer", "type": "lookup", "form": "customer"}]}
NEW = "/apps/crm/customer/new"


@pytest.fixture
def crm(client, tenant_a):
    published_app(client, tenant_a.headers, "crm", CUSTOMER, CONTACT)
    assert sign_in(client, "alpha", tenant_a.admin_email).status_code == 302
    return tenant_a


def flat(page: str) -> str:
    """The page without the whitespace between tags and text."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", page)


def post(client, url: str, **fields):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **fields})


def test_a_bad_phone_is_explained_in_chinese_beside_the_field_and_typing_is_kept(client, crm):
    client.patch("/api/v1/me", json={"locale": "zh"}, headers=crm.headers)
    response = post(client, NEW, **{"data.name": "华为", "data.phone": "12345",
                                    "data.level": "b"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    message = "电话不是有效的中国电话号码，例如 131 2345 6789。"
    assert page.count(message) == 2                  # in the summary and beside the field
    assert 'href="#loom-customer-phone"' in page     # the summary links to the field
    assert 'value="华为"' in page and 'value="12345"' in page
    fixed = post(client, NEW, **{"data.name": "华为", "data.phone": "138 0013 8000",
                                 "data.level": "b"})
    assert fixed.status_code == 302
    shown = client.get(fixed.headers["Location"]).get_data(as_text=True)
    assert "+86 138 0013 8000" in shown and "记录已创建。" in shown


def test_a_field_whose_condition_fails_is_hidden_and_shows_when_it_holds(client, crm):
    blank = client.get(NEW).get_data(as_text=True)
    assert re.search(r'data-key="budget" hidden', blank)
    token = csrf_from(blank)
    def hidden_after(level: str) -> str:
        state = client.post("/apps/crm/customer/evaluate", data={
            "csrf_token": token, "data.name": "Acme", "data.level": level},
            headers={"HX-Request": "true"}).get_data(as_text=True)
        return re.search(r'data-hidden="([^"]*)"', state).group(1)

    assert hidden_after("a") == "" and hidden_after("b") == "budget"


def test_a_possible_duplicate_links_the_existing_record_and_may_be_saved_anyway(client, crm):
    first = created(client, "/api/v1/apps/crm/forms/customer/records",
                    {"data": {"name": "Acme"}}, crm.headers)
    again = post(client, NEW, **{"data.name": "Acme"})
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert f'/apps/crm/customer/{first["id"]}"' in page and "Save anyway" in page
    forced = post(client, NEW, **{"data.name": "Acme", "confirm_duplicate": "yes"})
    assert forced.status_code == 302


def test_a_stale_edit_shows_who_changed_it_and_keeps_the_typed_input(client, crm):
    record = created(client, "/api/v1/apps/crm/forms/customer/records",
                     {"data": {"name": "Acme"}}, crm.headers)
    edit = f"/apps/crm/customer/{record['id']}/edit"
    form_page = client.get(edit).get_data(as_text=True)
    token = csrf_from(form_page)
    version = re.search(r'name="version" value="(\d+)"', form_page).group(1)
    # someone else saves first
    assert client.patch(f"/api/v1/apps/crm/forms/customer/records/{record['id']}",
                        json={"data": {"name": "Acme Group"}},
                        headers=crm.headers).status_code == 200
    stale = client.post(edit, data={"csrf_token": token, "version": version,
                                    "data.name": "Acme Ltd"})
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Changed by" in page and 'value="Acme Ltd"' in page
    new_version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert new_version != version
    reapplied = client.post(edit, data={"csrf_token": token, "version": new_version,
                                        "data.name": "Acme Ltd"})
    assert reapplied.status_code == 302
    shown = client.get(f"/api/v1/apps/crm/forms/customer/records/{record['id']}",
                       headers=crm.headers).get_json()
    assert shown["data"]["name"] == "Acme Ltd"


def test_the_record_page_shows_fields_related_records_and_history(client, crm):
    customer = created(client, "/api/v1/apps/crm/forms/customer/records",
                       {"data": {"name": "Acme", "level": "a", "budget": 5000}}, crm.headers)
    contact = created(client, "/api/v1/apps/crm/forms/contact/records",
                      {"data": {"name": "Li Lei", "customer": customer["id"]}}, crm.headers)
    client.patch(f"/api/v1/apps/crm/forms/customer/records/{customer['id']}",
                 json={"data": {"budget": 7500}}, headers=crm.headers)
    page = flat(client.get(f"/apps/crm/customer/{customer['id']}").get_data(as_text=True))
    assert "<h1>Acme</h1>" in page and "CN¥7,500.00" in page and ">Key<" in page
    assert "Li Lei" in page and f"/apps/crm/contact/new?customer={customer['id']}" in page
    assert "CN¥5,000.00" in page and "created the record" in page   # history, field level
    contact_page = client.get(f"/apps/crm/contact/{contact['id']}").get_data(as_text=True)
    assert f'href="/apps/crm/customer/{customer["id"]}">Acme</a>' in contact_page


def test_a_record_another_user_may_not_read_is_not_found(client, crm):
    record = created(client, "/api/v1/apps/crm/forms/customer/records",
                     {"data": {"name": "Secret"}}, crm.headers)
    created(client, "/api/v1/admin/users", {"email": "rep@alpha.example",
                                            "password": PASSWORD}, crm.headers)
    client.put("/api/v1/apps/crm/forms/customer/permissions", headers=crm.headers,
               json={"items": [{"role": "admin", "read": "all", "update": "all",
                                "delete": "all", "can_create": True}]})
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(
        as_text=True))})
    sign_in(client, "alpha", "rep@alpha.example")
    missing = client.get(f"/apps/crm/customer/{record['id']}")
    assert missing.status_code == 404 and "Secret" not in missing.get_data(as_text=True)
    assert client.get(f"/apps/crm/customer/{record['id']}/edit").status_code == 404


def test_a_lookup_picker_offers_matching_records_the_user_may_read(client, crm):
    for name in ("Acme", "Acme Asia", "Globex"):
        created(client, "/api/v1/apps/crm/forms/customer/records", {"data": {"name": name}},
                crm.headers)
    picks = client.get("/apps/crm/customer/pick?q=acme").get_data(as_text=True)
    assert re.findall(r">([^<]+)</option>", picks) == ["Acme Asia", "Acme"]
    one = client.get("/apps/crm/customer/pick?id=1").get_data(as_text=True)
    assert re.findall(r">([^<]+)</option>", one) == ["Acme"]
