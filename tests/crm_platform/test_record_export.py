"""Export: CSV that Excel opens in Chinese, XLSX, filters and permissions obeyed, formulas
neutralised."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.conftest import bearer

CONTACT = {"key": "contact", "fields": [
    {"key": "name", "type": "text", "label": {"en": "Name", "zh": "姓名"}, "required": True},
    {"key": "note", "type": "text", "label": {"en": "Note", "zh": "备注"}},
    {"key": "spend", "type": "currency", "label": {"en": "Spend", "zh": "消费"}},
    {"key": "tier", "type": "select", "label": "Tier",
     "options": [{"value": "gold", "label": {"en": "Gold", "zh": "金卡"}}, {"value": "std"}]},
    {"key": "secret", "type": "text"},
]}


@pytest.fixture
def contacts(client, tenant_a):
    headers = tenant_a.headers
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=headers)
    client.post("/api/v1/apps/crm/forms", json=CONTACT, headers=headers)
    client.post("/api/v1/apps/crm/forms/contact/publish", json={}, headers=headers)
    for data in ({"name": "王芳", "note": "=HYPERLINK(\"http://evil\")", "spend": 1299.5,
                  "tier": "gold", "secret": "s1"},
                 {"name": "Li Lei", "note": "+1 call back", "spend": 20, "tier": "std"},
                 {"name": "@mention", "note": "-5 % discount"}):
        assert client.post("/api/v1/apps/crm/forms/contact/records", json={"data": data},
                           headers=headers).status_code == 201
    return "/api/v1/apps/crm/forms/contact/export"


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_has_a_bom_labels_and_neutralised_formulas(client, tenant_a, contacts) -> None:
    response = client.get(contacts, headers=tenant_a.headers)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["id", "Name", "Note", "Spend", "Tier", "secret"]
    assert rows[1][1:5] == ["王芳", "'=HYPERLINK(\"http://evil\")", "1299.5", "Gold"]
    assert rows[2][2] == "'+1 call back"
    assert rows[3][1:3] == ["'@mention", "'-5 % discount"]


def test_labels_follow_the_users_language(client, make_tenant, contacts, tenant_a) -> None:
    client.patch(f"/api/v1/admin/users/{tenant_a.admin_id}", json={"locale": "zh"},
                 headers=tenant_a.headers)
    rows = read_csv(client.get(contacts, headers=tenant_a.headers))
    assert rows[0][:4] == ["id", "姓名", "备注", "消费"]
    assert rows[1][4] == "金卡"


def test_export_obeys_filters(client, tenant_a, contacts) -> None:
    rule = json.dumps({"field": "tier", "op": "eq", "value": "gold"})
    rows = read_csv(client.get(f"{contacts}?filter={quote(rule)}", headers=tenant_a.headers))
    assert [row[1] for row in rows[1:]] == ["王芳"]


def test_export_obeys_permissions_and_hidden_fields(client, tenant_a, contacts,
                                                    member_token) -> None:
    roles = client.get("/api/v1/admin/roles", headers=tenant_a.headers).get_json()["items"]
    client.post("/api/v1/admin/roles", json={"key": "agent", "name": "Agent"},
                headers=tenant_a.headers)
    member = next(u for u in client.get("/api/v1/admin/users", headers=tenant_a.headers)
                  .get_json()["items"] if u["email"] == "member@alpha.example")
    agent = next(r["id"] for r in client.get("/api/v1/admin/roles", headers=tenant_a.headers)
                 .get_json()["items"] if r["key"] == "agent")
    assert roles
    client.patch(f"/api/v1/admin/users/{member['id']}", json={"roles": [agent]},
                 headers=tenant_a.headers)
    client.put("/api/v1/apps/crm/forms/contact/permissions", headers=tenant_a.headers,
               json={"items": [{"role": "agent", "read": "all", "hidden_fields": ["secret"]}]})
    rows = read_csv(client.get(contacts, headers=bearer(member_token)))
    assert rows[0] == ["id", "Name", "Note", "Spend", "Tier"]
    assert len(rows) == 4
    client.put("/api/v1/apps/crm/forms/contact/permissions", headers=tenant_a.headers,
               json={"items": [{"role": "agent", "read": "own"}]})
    assert len(read_csv(client.get(contacts, headers=bearer(member_token)))) == 1


def test_xlsx_export(client, tenant_a, contacts) -> None:
    response = client.get(f"{contacts}?format=xlsx", headers=tenant_a.headers)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("id", "Name", "Note")
    assert values[1][1] == "王芳" and values[1][2] == '=HYPERLINK("http://evil")'
    assert float(values[1][3]) == 1299.5
    assert values[2][2] == "+1 call back" and values[3][1:3] == ("@mention", "-5 % discount")


def test_xlsx_text_is_string_cells_never_formulas(client, tenant_a, contacts) -> None:
    """Values and labels alike: `t="inlineStr"`, never `<f>`, the text exactly."""
    client.put("/api/v1/apps/crm/forms/contact/draft", headers=tenant_a.headers, json={
        **CONTACT, "fields": [{**CONTACT["fields"][0], "label": '=HYPERLINK("http://evil","x")'},
                              *CONTACT["fields"][1:]]})
    assert client.post("/api/v1/apps/crm/forms/contact/publish", json={},
                       headers=tenant_a.headers).status_code == 201
    response = client.get(f"{contacts}?format=xlsx", headers=tenant_a.headers)
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert cells['=HYPERLINK("http://evil","x")'] == "s"
    assert cells['=HYPERLINK("http://evil")'] == "s" and cells["-5 % discount"] == "s"
