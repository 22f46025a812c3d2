"""The form builder's pages: designers only; every change a saved step on the revision the
page saw; refusals named and nothing saved; undo and redo; the preview checks without
saving; a published key stays."""

from __future__ import annotations

import re

import pytest

from tests.conftest import created, published_app
from tests.crm_platform.test_web import csrf_from, sign_in

CUSTOMER = {"key": "customer", "label": {"en": "Customers", "zh": "客户"}, "title": "{name}",
            "fields": [{"key": "name", "type": "text", "required": True,
                        "label": {"en": "Name", "zh": "名称"}}]}
PAGE = "/apps/crm/customer/design"


@pytest.fixture
def designer(client, tenant_a):
    published_app(client, tenant_a.headers, "crm", CUSTOMER)
    sign_in(client, "alpha", tenant_a.admin_email)
    return tenant_a


def step(client, op: str, **values):
    page = client.get(PAGE).get_data(as_text=True)
    revision = re.search(r'data-revision="(\d+)"', page).group(1)
    return client.post(f"{PAGE}/step", data={"csrf_token": csrf_from(page), "op": op,
                                              "revision": revision, **values},
                       headers={"HX-Request": "true"})


def draft(client, headers) -> dict:
    return client.get("/api/v1/apps/crm/forms/customer", headers=headers).get_json()["draft"]


def test_only_designers_open_the_builder(client, designer):
    created(client, "/api/v1/admin/roles", {"key": "sales", "name": "Sales"}, designer.headers)
    created(client, "/api/v1/admin/users", {"email": "s@alpha.example", "password":
                                             "correct horse 9", "roles": []}, designer.headers)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Field types" in page and "Designing “Customers”" in page
    for type_name in ("Single choice", "Money", "Linked record", "Heading"):
        assert type_name in page                                  # the whole palette
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    sign_in(client, "alpha", "s@alpha.example", "correct horse 9")
    assert client.get(PAGE).status_code == 403


def test_a_field_is_added_set_up_moved_and_removed_each_a_saved_step(client, designer):
    added = step(client, "add", type="phone", after="name")
    assert added.status_code == 200 and "Saved to the draft" in added.get_data(as_text=True)
    fields = draft(client, designer.headers)["fields"]
    assert [item["type"] for item in fields] == ["text", "phone"]
    key = fields[1]["key"]
    assert step(client, "set", key=key, option="required", value="1").status_code == 200
    step(client, "set", key=key, option="label", en="Mobile", zh="手机")
    step(client, "set", key=key, option="region", value="HK")
    phone = draft(client, designer.headers)["fields"][1]
    assert phone["required"] is True and phone["label"] == {"en": "Mobile", "zh": "手机"}
    assert phone["region"] == "HK"
    step(client, "step", key=key, direction="up")
    assert [item["key"] for item in draft(client, designer.headers)["fields"]] == [key, "name"]
    step(client, "remove", key=key)
    assert [item["key"] for item in draft(client, designer.headers)["fields"]] == ["name"]


def test_a_change_that_breaks_the_form_is_refused_by_name_and_not_saved(client, designer):
    before = draft(client, designer.headers)
    refused = step(client, "set", key="name", option="visible_if", value="levl == 'A'")
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#design-status"
    assert "Not saved" in refused.get_data(as_text=True)
    assert "levl" in refused.get_data(as_text=True)
    assert draft(client, designer.headers) == before
    unreadable = step(client, "set", key="name", option="max_length", value="many")
    assert unreadable.status_code == 422 and "whole number" in unreadable.get_data(
        as_text=True)


def test_a_step_on_an_old_revision_is_a_conflict_not_an_overwrite(client, designer):
    page = client.get(PAGE).get_data(as_text=True)
    token, old = csrf_from(page), re.search(r'data-revision="(\d+)"', page).group(1)
    step(client, "add", type="email")                  # someone else's newer step
    late = client.post(f"{PAGE}/step", data={"csrf_token": token, "op": "add",
                                             "type": "url", "revision": old},
                       headers={"HX-Request": "true"})
    assert late.status_code == 409
    assert "changed this draft" in late.get_data(as_text=True)
    assert [item["type"] for item in draft(client, designer.headers)["fields"]] == [
        "text", "email"]


def test_undo_brings_back_a_removed_field_with_its_options_and_redo_removes_it(
        client, designer):
    step(client, "add", type="select")
    key = draft(client, designer.headers)["fields"][1]["key"]
    step(client, "option_set", key=key, index="0", value="gold", en="Gold", zh="金牌",
         colour="#f7d154")
    with_options = draft(client, designer.headers)
    step(client, "remove", key=key)
    page = client.get(PAGE).get_data(as_text=True)
    revision = re.search(r'data-revision="(\d+)"', page).group(1)
    undone = client.post(f"{PAGE}/undo", data={"csrf_token": csrf_from(page),
                                               "revision": revision})
    assert undone.status_code == 302
    assert draft(client, designer.headers) == with_options
    page = client.get(PAGE).get_data(as_text=True)
    revision = re.search(r'data-revision="(\d+)"', page).group(1)
    client.post(f"{PAGE}/redo", data={"csrf_token": csrf_from(page), "revision": revision})
    assert len(draft(client, designer.headers)["fields"]) == 1


def test_the_api_save_is_a_step_the_builder_can_undo(client, designer):
    changed = {**CUSTOMER, "label": {"en": "Clients", "zh": "客户"}}
    assert client.put("/api/v1/apps/crm/forms/customer/draft", json=changed,
                      headers=designer.headers).status_code == 200
    page = client.get(PAGE).get_data(as_text=True)
    assert "Designing “Clients”" in page
    revision = re.search(r'data-revision="(\d+)"', page).group(1)
    client.post(f"{PAGE}/undo", data={"csrf_token": csrf_from(page), "revision": revision})
    assert draft(client, designer.headers)["label"] == CUSTOMER["label"]


def test_a_published_key_stays_and_a_draft_key_may_change(client, designer):
    refused = step(client, "set", key="name", option="key", value="company")
    assert refused.status_code == 422 and "published" in refused.get_data(as_text=True)
    step(client, "add", type="text", after="name")
    new = draft(client, designer.headers)["fields"][1]["key"]
    assert step(client, "set", key=new, option="key", value="city").status_code == 200
    assert draft(client, designer.headers)["fields"][1]["key"] == "city"


def test_the_live_check_names_a_wrong_expression_and_lists_what_it_may_use(client, designer):
    page = client.get(PAGE).get_data(as_text=True)
    step(client, "add", type="currency")
    key = draft(client, designer.headers)["fields"][1]["key"]
    checked = client.post(f"{PAGE}/check", data={"csrf_token": csrf_from(page), "key": key,
                                                 "option": "visible_if", "value": "nme == 1"},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "nme" in checked and "<code>name</code>" in checked and "<code>len()</code>" in \
        checked
    fine = client.post(f"{PAGE}/check", data={"csrf_token": csrf_from(page), "key": key,
                                              "option": "visible_if", "value": "name != ''"},
                       headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "reads well" in fine


def test_the_preview_runs_the_checks_in_either_language_and_saves_nothing(client, designer):
    page = client.get(PAGE).get_data(as_text=True)
    shown = client.get(f"{PAGE}/preview?lang=zh&width=phone").get_data(as_text=True)
    assert '<input id="loom-customer-name"' in shown and "preview-phone" in shown
    assert "名称" in shown
    checked = client.post(f"{PAGE}/preview", data={"csrf_token": csrf_from(page),
                                                   "lang": "zh", "width": "phone",
                                                   "data.name": ""}).get_data(as_text=True)
    assert "名称为必填项。" in checked
    assert client.get("/api/v1/apps/crm/forms/customer/records",
                      headers=designer.headers).get_json()["items"] == []


def test_publishing_says_what_changes_and_waits_for_each_breaking_choice(client, designer):
    for name in ("Acme", "Globex"):
        created(client, "/api/v1/apps/crm/forms/customer/records", {"data": {"name": name}},
                designer.headers)
    step(client, "add", type="phone", after="name")
    key = draft(client, designer.headers)["fields"][1]["key"]
    step(client, "set", key=key, option="label", en="Phone", zh="电话")
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    assert "Field “Phone” is added." in page
    assert client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page),
                                                "confirm": "1"}).status_code == 302
    step(client, "set", key=key, option="required", value="1")
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    assert "Field “Phone” becomes required — 2 existing record(s) have no value." in page
    token = csrf_from(page)
    refused = client.post(f"{PAGE}/publish", data={"csrf_token": token, "confirm": "1"})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "would break existing records" in text and f'name="default.{key}"' in text
    assert client.get("/api/v1/apps/crm/forms/customer",
                      headers=designer.headers).get_json()["published_version"] == 2
    done = client.post(f"{PAGE}/publish", data={"csrf_token": token, "confirm": "1",
                                                f"default.{key}": "+8613800138000"})
    assert done.status_code == 302 and done.headers["Location"] == "/apps/crm/customer"
    form = client.get("/api/v1/apps/crm/forms/customer", headers=designer.headers).get_json()
    assert form["published_version"] == 3
    record = client.get("/api/v1/apps/crm/forms/customer/records",
                        headers=designer.headers).get_json()["items"][0]
    edited = client.patch(f"/api/v1/apps/crm/forms/customer/records/{record['id']}",
                          json={"data": {"name": "Acme Ltd"}}, headers=designer.headers)
    assert edited.get_json()["data"][key] == "+8613800138000"  # moved on with the default


def test_a_removed_option_in_use_is_mapped_before_publishing(client, designer):
    step(client, "add", type="select", after="name")
    key = draft(client, designer.headers)["fields"][1]["key"]
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page), "confirm": "1"})
    created(client, "/api/v1/apps/crm/forms/customer/records",
            {"data": {"name": "Acme", key: "option_3"}}, designer.headers)
    step(client, "option_remove", key=key, index="2")
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    assert "loses option(s) option_3 — 1 record(s) use them" in page
    asked = client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page),
                                                 "confirm": "1"}).get_data(as_text=True)
    assert f'name="map.{key}.option_3"' in asked
    done = client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page), "confirm": "1",
                                                f"map.{key}.option_3": "option_1"})
    assert done.status_code == 302
    record = client.get("/api/v1/apps/crm/forms/customer/records",
                        headers=designer.headers).get_json()["items"][0]
    edited = client.patch(f"/api/v1/apps/crm/forms/customer/records/{record['id']}",
                          json={"data": {"name": "Acme Ltd"}}, headers=designer.headers)
    assert edited.get_json()["data"][key] == "option_1"      # mapped as chosen


def test_a_designer_starts_an_app_and_a_form_from_nothing(client, tenant_a):
    sign_in(client, "alpha", tenant_a.admin_email)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/apps/new"' in home
    token = csrf_from(home)
    unnamed = client.post("/apps/new", data={"csrf_token": token, "en": "", "zh": ""})
    assert unnamed.status_code == 422 and "Give it a name" in unnamed.get_data(as_text=True)
    made = client.post("/apps/new", data={"csrf_token": token, "en": "Field Service",
                                          "zh": "现场服务"})
    assert made.headers["Location"] == "/apps/field_service/forms/new"
    form = client.post("/apps/field_service/forms/new", data={
        "csrf_token": token, "en": "Work orders", "zh": "工单"})
    assert form.headers["Location"] == "/apps/field_service/work_orders/design?field=name"
    assert "Designing “Work orders”" in client.get(form.headers["Location"]).get_data(
        as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "现场服务" not in home and "Field Service" in home      # the reader's language
    assert 'href="/apps/field_service/work_orders/design"' in home and ">draft<" in home
    bad = client.post("/apps/field_service/forms/new", data={
        "csrf_token": token, "en": "Visits", "key": "Visits!"})
    assert bad.status_code == 422 and "cannot be a key" in bad.get_data(as_text=True)


def test_form_settings_name_title_duplicates_and_a_rule_in_both_languages(client, designer):
    step(client, "add", type="currency", after="name")
    amount = draft(client, designer.headers)["fields"][1]["key"]
    page = client.get(PAGE).get_data(as_text=True)
    assert "Form settings" in page and "Add a rule" in page
    step(client, "form_set", option="label", en="Clients", zh="客户")
    step(client, "form_set", option="dedup", value="name")
    step(client, "rule_add")
    refused = step(client, "rule_set", index="0", error_if=f"{amount} >", en="x", zh="x")
    assert refused.status_code == 422                     # named, and nothing saved
    step(client, "rule_set", index="0", error_if=f"{amount} > 5000000",
         en="Budgets above 5 000 000 need a key-account form",
         zh="预算超过 500 万需要填写大客户表", target=amount)
    saved = draft(client, designer.headers)
    assert saved["label"] == {"en": "Clients", "zh": "客户"}
    assert saved["dedup"] == [["name"]]
    assert saved["rules"] == [{"key": "rule_1", "error_if": f"{amount} > 5000000",
                               "message": {"en": "Budgets above 5 000 000 need a "
                                                 "key-account form",
                                           "zh": "预算超过 500 万需要填写大客户表"},
                               "field": amount}]
    page = client.get(PAGE).get_data(as_text=True)
    shown = client.post(f"{PAGE}/preview", data={
        "csrf_token": csrf_from(page), "lang": "zh", "data.name": "Acme",
        f"data.{amount}": "6000000"}).get_data(as_text=True)
    assert "预算超过 500 万需要填写大客户表" in shown


def test_a_lookup_chooses_its_form_and_a_rollup_its_subtable_from_lists(client, designer):
    client.post("/api/v1/apps/crm/forms", json={
        "key": "contact", "fields": [{"key": "name", "type": "text"}]},
        headers=designer.headers)
    step(client, "add", type="lookup", after="name")
    lookup = draft(client, designer.headers)["fields"][1]
    assert lookup["form"] == "contact"
    panel = client.get(f"{PAGE}?field={lookup['key']}").get_data(as_text=True)
    assert re.search(r'<select id="prop-form" name="value">.*<option value="contact" selected>',
                     panel)
    step(client, "add", type="subtable", after="name")
    step(client, "add", type="rollup", after="name")
    rollup = next(item for item in draft(client, designer.headers)["fields"]
                  if item["type"] == "rollup")
    panel = client.get(f"{PAGE}?field={rollup['key']}").get_data(as_text=True)
    assert 'id="prop-subtable"' in panel and 'id="prop-column"' in panel
    assert f'<option value="{rollup["subtable"]}" selected>' in panel


def test_a_subtables_columns_are_added_relabelled_required_and_removed(client, designer):
    step(client, "add", type="subtable", after="name")
    table = draft(client, designer.headers)["fields"][1]["key"]
    step(client, "column_add", key=table, type="currency")
    step(client, "column_set", key=table, index="1", en="Price", zh="单价", required="1")
    columns = draft(client, designer.headers)["fields"][1]["fields"]
    assert [(column["type"], column["label"], column.get("required")) for column in columns] \
        == [("text", {"en": "Item", "zh": "项目"}, None),
            ("currency", {"en": "Price", "zh": "单价"}, True)]
    refused = step(client, "column_add", key=table, type="lookup")
    assert refused.status_code == 422
    step(client, "column_remove", key=table, index="0")
    assert [column["label"]["en"] for column in
            draft(client, designer.headers)["fields"][1]["fields"]] == ["Price"]
    page = client.get(f"{PAGE}?field={table}").get_data(as_text=True)
    assert "Columns of the subtable" in page and 'id="column-0-zh" name="zh" value="单价"' in page


def test_versions_say_who_published_what_compare_and_restore_as_a_draft(client, designer):
    step(client, "add", type="email", after="name")
    email = draft(client, designer.headers)["fields"][1]["key"]
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page), "confirm": "1"})
    versions = client.get(f"{PAGE}/versions").get_data(as_text=True)
    assert "Version 2" in versions and "Version 1" in versions and ">in use<" in versions
    assert "published by" in versions
    compared = client.get(f"{PAGE}/versions?from=1&to=2").get_data(as_text=True)
    assert "Field “E-mail” is added." in compared
    restored = client.post(f"{PAGE}/versions/1/restore",
                           data={"csrf_token": csrf_from(versions)})
    assert restored.status_code == 302
    assert [item["key"] for item in draft(client, designer.headers)["fields"]] == ["name"]
    assert "Version 1 is the draft again" in client.get(PAGE).get_data(as_text=True)
    assert email not in [item["key"] for item in draft(client, designer.headers)["fields"]]


SHEET = ("名称,电话,等级,签约日期,金额\n华为技术,13800138000,A,2026-01-05,\"￥1,200\"\n"
         "腾讯,13900139000,B,2026-02-01,300\n阿里,13700137000,A,2026-03-01,50\n"
         "字节,13600136000,B,2026-04-01,70\n")


def test_a_form_from_a_spreadsheet_is_proposed_published_and_filled_with_its_rows(
        client, designer):
    import io

    page = client.get("/apps/crm/forms/new").get_data(as_text=True)
    made = client.post("/apps/crm/forms/new", data={
        "csrf_token": csrf_from(page), "en": "Accounts", "zh": "客户台账",
        "sheet": (io.BytesIO(SHEET.encode("gbk")), "accounts.csv")},
        content_type="multipart/form-data")
    assert made.headers["Location"] == "/apps/crm/accounts/design"
    fields = client.get("/api/v1/apps/crm/forms/accounts",
                        headers=designer.headers).get_json()["draft"]["fields"]
    assert [(item["label"]["zh"], item["type"]) for item in fields] == [
        ("名称", "text"), ("电话", "phone"), ("等级", "select"), ("签约日期", "date"),
        ("金额", "currency")]
    assert [option["value"] for option in fields[2]["options"]] == ["A", "B"]
    publish = "/apps/crm/accounts/design/publish"
    page = client.get(publish).get_data(as_text=True)
    published = client.post(publish, data={"csrf_token": csrf_from(page), "confirm": "1"})
    mapping_url = published.headers["Location"]
    assert re.fullmatch(r"/imports/\d+/map", mapping_url)   # straight on to its rows
    mapping = client.get(mapping_url).get_data(as_text=True)
    for index, field in enumerate(fields):                  # every column found by label
        assert re.search(rf'name="column-{index}">.*?<option value="{field["key"]}" selected',
                         mapping, re.S)
    run_url = re.search(r'action="(/imports/\d+/run)"', mapping).group(1)
    choices = {f"column-{index}": field["key"] for index, field in enumerate(fields)}
    checked = client.post(run_url, data={"csrf_token": csrf_from(mapping), **choices,
                                         "mode": "insert", "step": "check"})
    result = client.get(checked.headers["Location"]).get_data(as_text=True)
    go = re.search(r'<form method="post" action="(/imports/\d+/run)".*?</form>', result, re.S)
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', go.group(0)))
    done = client.post(go.group(1), data={**values, "on_error": "all_or_nothing"})
    assert "The records are saved." in client.get(done.headers["Location"]).get_data(
        as_text=True)
    records = client.get("/api/v1/apps/crm/forms/accounts/records",
                         headers=designer.headers).get_json()["items"]
    assert len(records) == 4


def test_a_bad_spreadsheet_is_refused_and_no_form_is_made(client, designer):
    import io

    page = client.get("/apps/crm/forms/new").get_data(as_text=True)
    refused = client.post("/apps/crm/forms/new", data={
        "csrf_token": csrf_from(page), "en": "Broken",
        "sheet": (io.BytesIO(b""), "broken.csv")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "The file is empty." in refused.get_data(
        as_text=True)
    assert client.get("/api/v1/apps/crm/forms/broken",
                      headers=designer.headers).status_code == 404


def test_making_a_field_unique_while_records_share_a_value_is_refused_with_why(
        client, designer):
    step(client, "add", type="phone", after="name")
    key = draft(client, designer.headers)["fields"][1]["key"]
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page), "confirm": "1"})
    for name, phone in (("Acme", "+8613800138000"), ("Acme 2", "+8613800138000"),
                        ("Globex", "+8613900139000")):
        created(client, "/api/v1/apps/crm/forms/customer/records",
                {"data": {"name": name, key: phone}}, designer.headers)
    step(client, "set", key=key, option="unique", value="1")
    page = client.get(f"{PAGE}/publish").get_data(as_text=True)
    assert "becomes unique — 2 record(s) share a value with another" in page
    refused = client.post(f"{PAGE}/publish", data={"csrf_token": csrf_from(page),
                                                   "confirm": "1"})
    assert refused.status_code == 409
    assert "make them differ first" in refused.get_data(as_text=True)
    assert client.get("/api/v1/apps/crm/forms/customer",
                      headers=designer.headers).get_json()["published_version"] == 2


def test_permissions_are_set_role_by_role_with_the_apis_checks(client, designer):
    created(client, "/api/v1/admin/roles", {"key": "sales", "name": "Sales"}, designer.headers)
    created(client, "/api/v1/admin/users", {"email": "s@alpha.example", "password":
                                             "correct horse 9", "roles": []}, designer.headers)
    role_id = next(role["id"] for role in client.get(
        "/api/v1/admin/roles", headers=designer.headers).get_json()["items"]
        if role["key"] == "sales")
    user = next(item for item in client.get("/api/v1/admin/users", headers=designer.headers)
                .get_json()["items"] if item["email"] == "s@alpha.example")
    client.patch(f"/api/v1/admin/users/{user['id']}", json={"roles": [role_id]},
                 headers=designer.headers)
    step(client, "add", type="currency", after="name")
    secret = draft(client, designer.headers)["fields"][1]["key"]
    page = client.get(f"{PAGE}/permissions").get_data(as_text=True)
    assert "Who may do what" in page and 'name="sales.read"' in page
    saved = client.post(f"{PAGE}/permissions", data={
        "csrf_token": csrf_from(page), "sales.on": "1", "sales.create": "1",
        "sales.read": "own", "sales.update": "own", "sales.delete": "none",
        "sales.hidden": secret})
    assert saved.status_code == 302
    assert client.get("/api/v1/apps/crm/forms/customer/permissions",
                      headers=designer.headers).get_json()["items"] == [{
        "role": "sales", "can_create": True, "read": "own", "update": "own",
        "delete": "none", "hidden_fields": [secret], "readonly_fields": [], "pool": False}]
    bad = client.post(f"{PAGE}/permissions", data={
        "csrf_token": csrf_from(page), "sales.on": "1", "sales.hidden": "no_such_field"})
    assert bad.status_code == 422
