"""The import wizard: upload → match columns → dry run with every row's problems → import
the valid rows → the records are there; through the same import service as the API."""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import published_app
from tests.crm_platform.test_web import csrf_from, sign_in

CUSTOMER = {"key": "customer", "label": {"en": "Customers", "zh": "客户"},
            "fields": [{"key": "name", "type": "text", "required": True,
                        "label": {"en": "Name", "zh": "名称"}},
                       {"key": "phone", "type": "phone", "region": "CN",
                        "label": {"en": "Phone", "zh": "电话"}},
                       {"key": "note", "type": "text"}]}
GBK = "名称,电话,备忘\n华为技术,13800138000,老客户\n坏电话公司,12345,\n腾讯,+8613900139000,\n"


@pytest.fixture
def crm(client, tenant_a):
    published_app(client, tenant_a.headers, "crm", CUSTOMER)
    sign_in(client, "alpha", tenant_a.admin_email)
    return tenant_a


def upload(client, content: bytes, name: str = "客户.csv"):
    token = csrf_from(client.get("/apps/crm/customer/import").get_data(as_text=True))
    return client.post("/apps/crm/customer/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), name)})


def test_a_gbk_sheet_with_chinese_headers_goes_through_the_wizard(client, crm):
    uploaded = upload(client, GBK.encode("gbk"))
    assert uploaded.status_code == 302
    mapping = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    # headers matched by their Chinese labels; the unknown one is left to the person
    assert re.search(r'name="column-0">.*?<option value="name" selected', mapping, re.S)
    assert re.search(r'name="column-1">.*?<option value="phone" selected', mapping, re.S)
    assert "3 rows" in mapping and "Chinese text (GBK / GB18030)" in mapping  # as people say it
    token = csrf_from(mapping)
    run_url = re.search(r'action="(/imports/\d+/run)"', mapping).group(1)
    checked = client.post(run_url, data={"csrf_token": token, "column-0": "name",
                                         "column-1": "phone", "column-2": "note",
                                         "mode": "insert", "step": "check"})
    result = client.get(checked.headers["Location"]).get_data(as_text=True)
    assert "Rows with problems" in result and "12345" in result
    assert "Phone is not a valid phone number for China, e.g. 131 2345 6789." in result
    assert "Import the 2 rows without problems" in result
    assert client.get("/api/v1/apps/crm/forms/customer/records?count=true",
                      headers=crm.headers).get_json()["count"] == 0  # a dry run saves nothing
    go = re.search(r'<form method="post" action="(/imports/\d+/run)".*?</form>', result, re.S)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', go.group(0)))
    done = client.post(go.group(1), data={**fields, "on_error": "valid_only"})
    summary = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "The records are saved." in summary
    names = {item["data"]["name"] for item in client.get(
        "/api/v1/apps/crm/forms/customer/records", headers=crm.headers).get_json()["items"]}
    assert names == {"华为技术", "腾讯"}
    # the draft and its file are gone once the real run started
    assert client.get(uploaded.headers["Location"]).status_code == 404


def test_a_bad_file_is_refused_with_the_reason_and_nothing_kept(client, crm):
    response = upload(client, b"", "empty.csv")
    assert response.status_code == 422 and "The file is empty." in response.get_data(
        as_text=True)


def test_a_column_matched_twice_is_explained_on_the_mapping_page(client, crm):
    mapping_url = upload(client, GBK.encode("gbk")).headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    run_url = re.search(r'action="(/imports/\d+/run)"', page).group(1)
    refused = client.post(run_url, data={"csrf_token": csrf_from(page), "column-0": "name",
                                         "column-1": "name", "step": "check"})
    assert refused.status_code == 422 and "name" in refused.get_data(as_text=True)


def test_another_users_draft_is_not_found(client, crm, tenant_b):
    mapping_url = upload(client, GBK.encode("gbk")).headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(
        as_text=True))})
    sign_in(client, "bravo", tenant_b.admin_email)
    assert client.get(mapping_url).status_code == 404


def test_a_draft_nobody_finishes_is_forgotten_by_the_tick(app, client, crm, db):
    from datetime import timedelta

    from crm_platform.db import utcnow
    from crm_platform.jobs import tick
    from crm_platform.models import Import

    mapping_url = upload(client, GBK.encode("gbk")).headers["Location"]
    with app.app_context():
        tick(app)  # a fresh draft stays
    assert client.get(mapping_url).status_code == 200
    with db.transaction() as session:
        for draft in session.query(Import).filter(Import.status == "draft"):
            draft.created_at = utcnow() - timedelta(days=2)
    with app.app_context():
        tick(app)
    assert client.get(mapping_url).status_code == 404
    with db.transaction() as session:
        assert session.query(Import).count() == 0
