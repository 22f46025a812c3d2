"""Records in a real browser: entry with errors in Chinese, finding records by filter and
search, the kanban pipeline by drag and by menu, two people editing one record."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import created, published_app

CUSTOMER = {"key": "customer", "label": {"en": "Customers", "zh": "客户"}, "title": "{name}",
            "fields": [{"key": "name", "type": "text", "required": True,
                        "label": {"en": "Name", "zh": "名称"}},
                       {"key": "phone", "type": "phone", "region": "CN",
                        "label": {"en": "Phone", "zh": "电话"}}]}
DEAL = {"key": "deal", "label": {"en": "Deals", "zh": "商机"}, "title": "{name}",
        "fields": [{"key": "name", "type": "text", "label": {"en": "Deal", "zh": "商机名称"}},
                   {"key": "stage", "type": "select", "label": {"en": "Stage", "zh": "阶段"},
                    "options": [{"value": "lead", "label": {"en": "Lead", "zh": "线索"}},
                                {"value": "won", "label": {"en": "Won", "zh": "赢单"}}]},
                   {"key": "amount", "type": "currency", "currency": "CNY",
                    "label": {"en": "Amount", "zh": "金额"}}],
        "rules": [{"key": "won_needs_amount", "error_if": "stage == 'won' and not amount",
                   "field": "amount", "message": {"en": "A won deal needs its amount",
                                                  "zh": "赢单必须填写金额"}}]}
SALES = {"role": "sales", "can_create": True, "read": "own", "update": "own",
         "delete": "own"}


@pytest.fixture
def crm(client, tenant_a):
    published_app(client, tenant_a.headers, "crm", CUSTOMER, DEAL)
    created(client, "/api/v1/admin/roles", {"key": "sales", "name": "Sales"}, tenant_a.headers)
    for form in ("customer", "deal"):
        response = client.put(f"/api/v1/apps/crm/forms/{form}/permissions",
                              headers=tenant_a.headers, json={"items": [SALES]})
        assert response.status_code == 200, response.get_json()
    return tenant_a


def test_a_chinese_sales_user_fixes_a_bad_phone_and_finds_the_customer(
        crm, person, open_page, live_server):
    person("xiao@alpha.example", "sales", locale="zh", name="王小明")
    page = open_page("xiao@alpha.example", locale="zh")
    page.get_by_role("link", name="客户").first.click()
    page.get_by_role("link", name="+ 新建").click()
    page.get_by_label("名称").fill("深圳新元科技有限公司")
    page.get_by_label("电话").fill("12345")
    page.get_by_role("button", name="保存").click()
    beside = page.locator('.loom-field[data-key="phone"] .loom-error')
    expect(beside).to_have_text("电话不是有效的中国电话号码，例如 131 2345 6789。")
    expect(page.get_by_label("名称")).to_have_value("深圳新元科技有限公司")
    page.get_by_label("电话").fill("138 0013 8000")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("深圳新元科技有限公司")
    expect(page.get_by_text("+86 138 0013 8000")).to_be_visible()

    page.goto(f"{live_server}/apps/crm/customer")
    page.locator("details.filters summary").click()
    row = page.locator(".filter-row").first
    row.get_by_label("字段").select_option(label="名称")
    row.get_by_label("条件").select_option(label="包含")
    row.get_by_label("值").fill("新元")
    page.get_by_role("button", name="应用").click()
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    expect(page.get_by_text("共 1 条记录")).to_be_visible()

    page.goto(f"{live_server}/apps/crm/customer")
    page.get_by_label("搜索").fill("深圳")
    expect(page).to_have_url(re.compile(r"q=%E6%B7%B1%E5%9C%B3"))  # htmx pushed the URL
    expect(page.get_by_role("link", name="深圳新元科技有限公司")).to_be_visible()


def test_conditions_are_added_and_removed_and_columns_chosen_without_reloading(
        client, crm, open_page, live_server):
    for name, amount in (("Small", 100), ("Large", 9000), ("Huge", 50000)):
        created(client, "/api/v1/apps/crm/forms/deal/records",
                {"data": {"name": name, "stage": "lead", "amount": amount}}, crm.headers)
    page = open_page(crm.admin_email)
    page.goto(f"{live_server}/apps/crm/deal")
    expect(page.get_by_text("3 records")).to_be_visible()
    page.locator("details.filters summary").click()
    first = page.locator(".filter-row").first
    first.get_by_label("Field").select_option(label="Amount")
    first.get_by_label("Condition").select_option(label="is at least")
    first.get_by_label("Value").fill("a lot")
    page.get_by_role("button", name="Apply").click()   # refused (422), and shown
    expect(page.locator(".error-summary")).to_contain_text("Amount")
    first = page.locator(".filter-row").first
    first.get_by_label("Value").fill("1000")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("2 records")).to_be_visible()
    expect(page.locator(".error-summary")).to_have_count(0)
    second = page.locator(".filter-row").nth(1)       # redrawn: a blank row for the next
    second.get_by_label("Field").select_option(label="Deal")
    second.get_by_label("Condition").select_option(label="contains")
    second.get_by_label("Value").fill("Hu")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Remove condition 1").click()   # the amount one
    expect(page.get_by_text("1 records")).to_be_visible()
    expect(page.locator(".filter-row")).to_have_count(2)   # "contains Hu" and a blank
    page.get_by_role("button", name="Remove condition 1").click()
    expect(page.get_by_text("3 records")).to_be_visible()
    page.locator("details.columns-chooser summary").click()
    page.get_by_role("checkbox", name="Stage").uncheck()   # no Apply needed
    expect(page.locator("table.records th", has_text="Stage")).to_have_count(0)
    expect(page.locator("table.records th", has_text="Amount")).to_have_count(1)


def _deals(client, headers) -> dict[str, int]:
    return {name: created(client, "/api/v1/apps/crm/forms/deal/records", {"data": {
        "name": name, "stage": "lead", **({"amount": 900} if name == "Paid" else {})}},
        headers)["id"] for name in ("Paid", "Unpriced")}


def _stage(client, headers, record_id: int) -> str:
    return client.get(f"/api/v1/apps/crm/forms/deal/records/{record_id}",
                      headers=headers).get_json()["data"]["stage"]


def test_a_card_dragged_to_another_stage_moves_and_a_refused_one_returns(
        client, crm, open_page, live_server):
    ids = _deals(client, crm.headers)
    page = open_page(crm.admin_email)
    page.goto(f"{live_server}/apps/crm/deal/board")
    won = page.locator('ol.cards[data-value="won"]')
    page.locator(f'li.card-item[data-id="{ids["Paid"]}"]').drag_to(won)
    expect(won.locator(f'li.card-item[data-id="{ids["Paid"]}"]')).to_be_visible()
    # the column's total comes from the server's answer: the move is done when it shows
    expect(page.locator(".board-column").nth(1).locator(".board-head")).to_contain_text(
        "CN¥900.00")
    assert _stage(client, crm.headers, ids["Paid"]) == "won"

    page.locator(f'li.card-item[data-id="{ids["Unpriced"]}"]').drag_to(
        page.locator('ol.cards[data-value="won"]'))
    expect(page.locator("#board-status")).to_have_text(re.compile("A won deal needs its amount"))
    lead = page.locator('ol.cards[data-value="lead"]')
    expect(lead.locator(f'li.card-item[data-id="{ids["Unpriced"]}"]')).to_be_visible()
    assert _stage(client, crm.headers, ids["Unpriced"]) == "lead"


def test_the_move_to_menu_moves_a_card_without_dragging(client, crm, open_page, live_server):
    ids = _deals(client, crm.headers)
    page = open_page(crm.admin_email)
    page.goto(f"{live_server}/apps/crm/deal/board")
    card = page.locator(f'li.card-item[data-id="{ids["Paid"]}"]')
    card.locator("summary").focus()
    page.keyboard.press("Enter")                        # keyboard only: open the menu
    card.get_by_role("button", name="Move Paid to Won").press("Enter")
    expect(page.get_by_text("Moved “Paid” to Won.")).to_be_visible()
    expect(page.locator(f'ol.cards[data-value="won"] li[data-id="{ids["Paid"]}"]')
           ).to_be_visible()
    assert _stage(client, crm.headers, ids["Paid"]) == "won"


def test_the_second_of_two_editors_sees_the_conflict_and_keeps_their_input(
        client, crm, open_page, live_server):
    record = created(client, "/api/v1/apps/crm/forms/customer/records",
                     {"data": {"name": "Acme"}}, crm.headers)
    edit = f"{live_server}/apps/crm/customer/{record['id']}/edit"
    first, second = open_page(crm.admin_email), open_page(crm.admin_email)
    first.goto(edit)
    second.goto(edit)
    first.get_by_label("Name").fill("Acme Group")
    first.get_by_role("button", name="Save").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Acme Group")
    second.get_by_label("Name").fill("Acme Ltd")
    second.get_by_role("button", name="Save").click()
    expect(second.get_by_role("alertdialog")).to_contain_text("Changed by")
    expect(second.get_by_label("Name")).to_have_value("Acme Ltd")
    second.get_by_role("button", name="Save my changes over theirs").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("Acme Ltd")


def test_a_gbk_csv_with_chinese_headers_goes_through_the_import_wizard(
        client, crm, open_page, live_server):
    client.patch("/api/v1/me", json={"locale": "zh"}, headers=crm.headers)
    sheet = "名称,电话\n华为技术,13800138000\n坏电话公司,12345\n腾讯,+8613900139000\n"
    page = open_page(crm.admin_email, locale="zh")
    page.goto(f"{live_server}/apps/crm/customer")
    page.get_by_role("link", name="导入").click()
    page.get_by_label("CSV 或 Excel（.xlsx）文件").set_input_files(files=[{
        "name": "客户.csv", "mimeType": "text/csv", "buffer": sheet.encode("gbk")}])
    page.get_by_role("button", name="下一步：匹配列").click()
    expect(page.get_by_label("名称")).to_have_value("name")      # matched by its label
    expect(page.get_by_label("电话")).to_have_value("phone")
    page.get_by_role("button", name="检查每一行（暂不保存）").click()
    expect(page.locator("table.records")).to_contain_text(
        "电话不是有效的中国电话号码，例如 131 2345 6789。")
    page.get_by_role("button", name="导入 2 行无问题的数据").click()
    expect(page.get_by_text("记录已保存。")).to_be_visible()
    page.get_by_role("link", name="查看记录").click()
    expect(page.locator("table.records tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name="腾讯")).to_be_visible()


CONTACT = {"key": "contact", "label": {"en": "Contacts", "zh": "联系人"}, "title": "{name}",
           "fields": [{"key": "name", "type": "text", "required": True,
                       "label": {"en": "Name", "zh": "姓名"}},
                      {"key": "customer", "type": "lookup", "form": "customer",
                       "label": {"en": "Customer", "zh": "客户"}}]}


def test_a_lookup_is_chosen_by_searching_for_the_record(client, crm, open_page, live_server):
    published_app_forms = client.post("/api/v1/apps/crm/forms", json=CONTACT,
                                      headers=crm.headers)
    assert published_app_forms.status_code == 201
    client.post("/api/v1/apps/crm/forms/contact/publish", json={}, headers=crm.headers)
    customer = created(client, "/api/v1/apps/crm/forms/customer/records",
                       {"data": {"name": "Globex Trading"}}, crm.headers)
    page = open_page(crm.admin_email)
    page.goto(f"{live_server}/apps/crm/contact/new")
    page.get_by_label("Name").fill("Li Lei")
    page.locator("input.lookup-search").fill("globex")
    choices = page.locator("select.lookup-choices")
    expect(choices.locator("option")).to_have_text(["Globex Trading"])
    choices.select_option(label="Globex Trading")
    choices.press("Enter")
    expect(page.locator("input.lookup-search")).to_have_value("Globex Trading")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Globex Trading")).to_have_attribute(
        "href", f"/apps/crm/customer/{customer['id']}")
