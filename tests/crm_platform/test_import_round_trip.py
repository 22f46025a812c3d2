"""Export → edit in Excel → import: an unmodified export, CSV or XLSX, imports back in
upsert mode onto the very records it came from, every value exactly as it was; an edited
cell changes just that; a row whose id was cleared is a new record; an id naming nothing
the caller can see is that row's error."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import created, published_app

FORM = {"key": "account", "fields": [
    {"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}, "required": True},
    {"key": "note", "type": "textarea"},
    {"key": "employees", "type": "number", "kind": "integer"},
    {"key": "revenue", "type": "currency", "currency": "CNY"},
    {"key": "share", "type": "percent"},
    {"key": "active", "type": "boolean"},
    {"key": "since", "type": "date"},
    {"key": "called_at", "type": "datetime"},
    {"key": "tier", "type": "select", "options": [
        {"value": "gold", "label": {"en": "Gold", "zh": "金卡"}}, {"value": "std"}]},
    {"key": "tags", "type": "multiselect", "options": [
        {"value": "vip", "label": "VIP"}, {"value": "new", "label": {"en": "New", "zh": "新"}}]},
    {"key": "email", "type": "email"},
    {"key": "phone", "type": "phone", "region": "CN"},
    {"key": "site", "type": "url"},
    {"key": "stars", "type": "rating"},
    {"key": "rep", "type": "user"},
    {"key": "code", "type": "autonumber", "pattern": "AC-{seq:4}"},
    {"key": "tax", "type": "formula", "expression": "revenue * 0.1 if revenue else 0",
     "result": "number"}]}
RECORDS = "/api/v1/apps/crm/forms/account/records"
ROWS = [
    {"name": "北京科技有限公司", "note": "=HYPERLINK(\"http://evil\",\"x\")\nline two",
     "employees": 120, "revenue": Decimal("100.50"), "share": Decimal("12.5"), "active": True,
     "since": "2024-01-05", "called_at": "2024-01-05T09:30:00+08:00", "tier": "gold",
     "tags": ["vip", "new"], "email": "li@example.cn", "phone": "+8613800001111",
     "site": "https://example.cn", "stars": 4},
    {"name": "-李娜-", "note": "'=already guarded", "revenue": Decimal("0.1"), "active": False,
     "tier": "std", "tags": [], "stars": 1},
    {"name": "@Acme Ltd", "employees": 0}]


@pytest.fixture
def accounts(client, tenant_a):
    published_app(client, tenant_a.headers, "crm", FORM)
    for row in ROWS:
        created(client, RECORDS, {"data": {**row, "rep": tenant_a.admin_id}}, tenant_a.headers)
    return tenant_a.headers


def records(client, headers) -> list[dict]:
    items = client.get(f"{RECORDS}?limit=200", headers=headers).get_json()["items"]
    return [{key: item[key] for key in ("id", "version", "data")} for item in items]


def export(client, headers, fmt: str) -> bytes:
    response = client.get(f"/api/v1/apps/crm/forms/account/export?format={fmt}",
                          headers=headers)
    assert response.status_code == 200
    return response.get_data()


def upsert(client, headers, content: bytes, fmt: str, **options):
    data = {"file": (io.BytesIO(content), f"accounts.{fmt}"), "mode": "upsert",
            **{key: str(value).lower() if isinstance(value, bool) else value
               for key, value in options.items()}}
    return client.post("/api/v1/apps/crm/forms/account/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_unmodified_export_imports_back_unchanged(client, accounts, fmt) -> None:
    before = records(client, accounts)
    response = upsert(client, accounts, export(client, accounts, fmt), fmt)
    assert response.status_code == 201, response.get_json()
    job = response.get_json()
    assert job["failed_rows"] == 0, job["row_errors"]
    assert job["created"] == 0 and job["updated"] == len(ROWS)
    after = records(client, accounts)
    assert [r["data"] for r in after] == [r["data"] for r in before]
    assert [r["id"] for r in after] == [r["id"] for r in before]


def edited_xlsx(content: bytes, edit) -> bytes:
    book = load_workbook(io.BytesIO(content))
    edit(book.active)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_edited_cell_changes_just_that_and_a_cleared_id_adds_a_record(client,
                                                                        accounts) -> None:
    before = records(client, accounts)

    def edit(sheet):
        header = [cell.value for cell in sheet[1]]
        sheet.cell(row=2, column=header.index("employees") + 1, value=130)
        sheet.cell(row=4, column=1).value = None             # no id: a new record
        sheet.cell(row=4, column=header.index("Name") + 1, value="Acme Two")

    response = upsert(client, accounts, edited_xlsx(export(client, accounts, "xlsx"), edit),
                      "xlsx")
    job = response.get_json()
    assert job["failed_rows"] == 0, job["row_errors"]
    assert (job["created"], job["updated"]) == (1, 2)
    after = records(client, accounts)
    assert after[0]["data"] == {**before[0]["data"], "employees": 130}
    assert after[1]["data"] == before[1]["data"] and after[2]["data"] == before[2]["data"]
    assert after[3]["data"]["name"] == "Acme Two" and after[3]["data"]["code"] == "AC-0004"
    assert after[3]["data"]["stars"] is None and after[3]["data"]["employees"] == 0


def test_an_id_naming_no_visible_record_is_that_rows_error(client, accounts,
                                                          tenant_b) -> None:
    book = Workbook()
    book.active.append(["id", "Name"])
    book.active.append([987654321, "Ghost"])
    book.active.append(["not a number", "Typo"])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upsert(client, accounts, buffer.getvalue(), "xlsx", on_error="valid_only")
    job = response.get_json()
    assert [(e["row"], e["column"], e["code"]) for e in job["row_errors"]] == [
        (2, "id", "import_no_such_record"), (3, "id", "import_no_such_record")]
    assert job["created"] == 0 and len(records(client, accounts)) == len(ROWS)


def test_a_field_labelled_id_does_not_take_the_record_id_column(client, tenant_a) -> None:
    form = {"key": "ticket", "fields": [
        {"key": "number", "type": "text", "label": "ID"},
        {"key": "title", "type": "text"}]}
    published_app(client, tenant_a.headers, "desk", form)
    url = "/api/v1/apps/desk/forms/ticket"
    created(client, f"{url}/records", {"data": {"number": "T-1", "title": "Printer"}},
            tenant_a.headers)
    content = client.get(f"{url}/export?format=csv", headers=tenant_a.headers).get_data()
    response = client.post(f"{url}/imports", headers=tenant_a.headers, content_type=
                           "multipart/form-data", data={"file": (io.BytesIO(content), "t.csv"),
                                                        "mode": "upsert"})
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["updated"], response.get_json()["failed_rows"]) == (1, 0)
