"""Import: CSV in every encoding Excel and WPS write, and XLSX, into a published form —
columns by key or label (English or Chinese), a dry run that reports every problem, all or
nothing, the three modes, permissions, and bad files refused whole with nothing written."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook

from crm_platform.jobs import wait_for_jobs
from tests.conftest import bearer

CUSTOMER = {"key": "customer", "dedup": [["phone"]], "fields": [
    {"key": "name", "type": "text", "label": {"en": "Name", "zh": "客户名称"},
     "required": True},
    {"key": "phone", "type": "text", "label": {"en": "Phone", "zh": "电话"}},
    {"key": "amount", "type": "currency", "label": {"en": "Amount", "zh": "金额"}},
    {"key": "signed_on", "type": "date", "label": {"en": "Signed on", "zh": "签约日期"}},
    {"key": "vip", "type": "boolean", "label": {"en": "VIP", "zh": "贵宾"}},
    {"key": "level", "type": "select", "label": {"en": "Level", "zh": "等级"},
     "options": [{"value": "a", "label": {"en": "Gold", "zh": "金牌"}},
                 {"value": "b", "label": {"en": "Silver", "zh": "银牌"}}]},
    {"key": "note", "type": "text", "label": {"en": "Note", "zh": "备注"}},
    {"key": "remarks", "type": "textarea", "max_length": 100_000},
    {"key": "tax", "type": "formula", "expression": "amount * 0.1 if amount else 0",
     "precision": 2},
]}
FORM = "/api/v1/apps/crm/forms/customer"
IMPORTS = f"{FORM}/imports"
RECORDS = f"{FORM}/records"


# -- helpers ---------------------------------------------------------------------------
@pytest.fixture
def customers(client, tenant_a) -> dict[str, str]:
    """The published customer form of tenant A; returns the administrator's headers."""
    headers = tenant_a.headers
    assert client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"},
                       headers=headers).status_code == 201
    created = client.post("/api/v1/apps/crm/forms", json=CUSTOMER, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert client.post(f"{FORM}/publish", json={}, headers=headers).status_code == 201
    return headers


def upload(client, headers: dict[str, str], content: bytes, filename: str = "customers.csv",
           url: str = IMPORTS, **fields: Any):
    """POST the file as a browser would (multipart/form-data) with the text fields given."""
    data: dict[str, Any] = {"file": (io.BytesIO(content), filename)}
    for name, value in fields.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict):
            value = json.dumps(value)
        data[name] = value
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def imported(client, headers, content: bytes, status: int = 201, **options: Any
             ) -> dict[str, Any]:
    response = upload(client, headers, content, **options)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def sheet(rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def stored(client, headers, url: str = RECORDS) -> list[dict[str, Any]]:
    """The data of every live record, oldest first."""
    response = client.get(f"{url}?limit=200", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["data"] for item in response.get_json()["items"]]


def count(client, headers, url: str = RECORDS) -> int:
    response = client.get(f"{url}?count=true", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["count"]


def refused(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return error["message"]


def number(value: Any) -> Decimal:
    return Decimal(str(value))


def new_record(client, headers, **data: Any) -> dict[str, Any]:
    response = client.post(RECORDS, json={"data": data}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def csv_rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(codecs.BOM_UTF8), raw[:20]  # Excel needs it to read UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


# -- what people upload ------------------------------------------------------------------
CHINESE_ROWS = [["客户名称", "电话", "备注"], ["王芳", "13800138000", "北京市朝阳区"],
                ["李雷", "13900139000", "上海·浦东"]]


@pytest.mark.parametrize(("content", "encoding"), [
    (sheet(CHINESE_ROWS), "utf-8"),
    (codecs.BOM_UTF8 + sheet(CHINESE_ROWS), "utf-8-sig"),
    (sheet(CHINESE_ROWS, "gbk"), "gb18030"),
    (sheet(CHINESE_ROWS, "gb18030"), "gb18030"),
    (sheet(CHINESE_ROWS, "utf-16", delimiter="\t"), "utf-16"),   # Excel "Unicode text"
    (codecs.BOM_UTF16_BE + sheet(CHINESE_ROWS, "utf-16-be", delimiter="\t"), "utf-16"),
    (sheet(CHINESE_ROWS, delimiter=";"), "utf-8"),
], ids=["utf-8", "utf-8 bom", "gbk", "gb18030", "utf-16 tabs", "utf-16-be tabs",
        "semicolons"])
def test_csv_in_every_encoding_excel_and_wps_write(client, customers, content,
                                                   encoding) -> None:
    body = imported(client, customers, content)
    assert body["status"] == "done" and body["written"] is True
    assert body["format"] == "csv" and body["encoding"] == encoding
    assert body["columns"] == {"客户名称": "name", "电话": "phone", "备注": "note"}
    assert (body["total_rows"], body["created"], body["failed_rows"]) == (2, 2, 0)
    assert [(d["name"], d["phone"], d["note"]) for d in stored(client, customers)] == [
        ("王芳", "13800138000", "北京市朝阳区"), ("李雷", "13900139000", "上海·浦东")]


def test_gb18030_text_beyond_gbk_survives(client, customers) -> None:
    rows = [["name", "note"], ["𠮷野家", "😀 满意"]]  # four-byte GB18030 sequences
    body = imported(client, customers, sheet(rows, "gb18030"))
    assert body["encoding"] == "gb18030"
    assert [(d["name"], d["note"]) for d in stored(client, customers)] == [("𠮷野家", "😀 满意")]


def test_xlsx_with_numbers_dates_and_a_chinese_header(client, customers) -> None:
    content = xlsx([
        ["客户名称", "Phone", "金额", "签约日期", "VIP", "等级"],
        ["王芳", 13800138000, 1234.5, date(2024, 1, 5), True, "金牌"],
        ["Li Lei", "139-0013-9000", 0.1, datetime(2024, 2, 6), "否", "Silver"],
        ["张伟", None, 12, "2024/3/7", False, "b"],
    ])
    body = imported(client, customers, content, filename="客户.xlsx")
    assert body["format"] == "xlsx" and body["filename"] == "客户.xlsx"
    assert body["columns"] == {"客户名称": "name", "Phone": "phone", "金额": "amount",
                               "签约日期": "signed_on", "VIP": "vip", "等级": "level"}
    assert body["created"] == 3 and body["row_errors"] == []
    first, second, third = stored(client, customers)
    assert (first["name"], first["phone"], number(first["amount"]), first["signed_on"],
            first["vip"], first["level"]) == ("王芳", "13800138000", Decimal("1234.5"),
                                              "2024-01-05", True, "a")
    # 0.1 is what the user typed, not Excel's binary 0.1000000000000000055…
    assert number(second["amount"]) == Decimal("0.1")
    assert (second["signed_on"], second["vip"], second["level"]) == ("2024-02-06", False, "b")
    assert (third["phone"], number(third["amount"]), third["signed_on"]) == (
        None, Decimal(12), "2024-03-07")
    assert number(first["tax"]) == Decimal("123.45")  # computed fields are computed


def test_an_xlsx_text_cell_that_looks_like_a_formula_is_kept_as_text(client,
                                                                      customers) -> None:
    """A string cell is never run by a spreadsheet, so it is text, exactly; a real formula
    cell is read as the value it shows."""
    book = Workbook()
    book.active.append(["name", "note"])
    book.active.append(["x", "y"])
    book.active.append(["=UPPER(\"z\")", "y"])     # a formula: its value, None unsaved
    book.active["B2"].value = "@SUM(A1)"
    book.active["B2"].data_type = "s"  # text, as a sheet exported by another tool holds it
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(client, customers, buffer.getvalue(), filename="x.xlsx",
                      on_error="valid_only")
    assert response.status_code == 201, response.get_json()
    assert stored(client, customers)[0]["note"] == "@SUM(A1)"
    assert [e["field"] for e in response.get_json()["row_errors"]] == ["name"]


# -- columns -----------------------------------------------------------------------------
def test_columns_match_keys_english_and_chinese_labels(client, customers) -> None:
    content = sheet([["name", "Phone", "金额", "  signed ON ", "贵宾"],
                     ["Acme", "100", "99.5", "2024-01-05", "yes"]])
    body = imported(client, customers, content)
    assert body["columns"] == {"name": "name", "Phone": "phone", "金额": "amount",
                               "signed ON": "signed_on", "贵宾": "vip"}
    (data,) = stored(client, customers)
    assert (data["name"], data["phone"], number(data["amount"]), data["signed_on"],
            data["vip"]) == ("Acme", "100", Decimal("99.5"), "2024-01-05", True)


def test_explicit_columns_map_headers_and_ignore_one(client, customers) -> None:
    content = sheet([["Customer", "Tel", "Internal ID", "note"],
                     ["Acme", "100", "X-1", "first"]])
    body = imported(client, customers, content,
                    columns={"Customer": "name", "Tel": "phone", "Internal ID": None})
    assert body["columns"] == {"Customer": "name", "Tel": "phone", "Internal ID": None,
                               "note": "note"}
    (data,) = stored(client, customers)
    assert (data["name"], data["phone"], data["note"]) == ("Acme", "100", "first")
    assert "X-1" not in [str(value) for value in data.values()]


def test_an_unknown_column_is_named_and_nothing_is_written(client, customers) -> None:
    content = sheet([["name", "phone", "Fax"], ["Acme", "100", "010-1234"]])
    message = refused(upload(client, customers, content), 422, "import_unknown_columns")
    assert "Fax" in message
    assert count(client, customers) == 0


@pytest.mark.parametrize(("columns", "code", "named"), [
    ({"Ghost": None}, "import_no_such_column", "Ghost"),
    ({"phone": "nope"}, "import_column_not_importable", "nope"),
    ({"phone": "tax"}, "import_column_not_importable", "tax"),
    ({"phone": "name"}, "import_duplicate_column", "name"),
], ids=["missing header", "no such field", "computed field", "two columns one field"])
def test_bad_column_mappings_are_422(client, customers, columns, code, named) -> None:
    content = sheet([["name", "phone"], ["Acme", "100"]])
    message = refused(upload(client, customers, content, columns=columns), 422, code)
    assert named in message
    assert count(client, customers) == 0


# -- checking every row ------------------------------------------------------------------
def test_a_dry_run_reports_every_problem_and_writes_nothing(client, customers) -> None:
    content = sheet([
        ["Name", "Phone", "Amount", "Signed on", "Level"],
        ["", "100", "1", "2024-01-05", "Gold"],          # row 2: name missing
        ["Bad", "101", "lots", "someday", "a"],           # row 3: two problems
        ["Odd", "102", "2", "2024-01-06", "Platinum"],   # row 4: no such option
        ["Good", "103", "3", "2024-01-07", "b"],          # row 5: fine
    ])
    body = imported(client, customers, content, dry_run=True)
    assert body["dry_run"] is True and body["written"] is False
    assert (body["total_rows"], body["failed_rows"], body["created"]) == (4, 3, 1)
    problems = {(e["row"], e["column"], e["field"], e["value"], e["code"])
                for e in body["row_errors"]}
    assert problems == {(2, "Name", "name", None, "required"),
                        (3, "Amount", "amount", "lots", "not_a_number"),
                        (3, "Signed on", "signed_on", "someday", "bad_date"),
                        (4, "Level", "level", "Platinum", "not_an_option")}
    messages = {(e["row"], e["field"]): e["message"] for e in body["row_errors"]}
    assert messages[(2, "name")] == "Name is required."
    assert "lots" in messages[(3, "amount")]
    assert all(messages.values())
    assert count(client, customers) == 0
    again = client.get(f"/api/v1/imports/{body['id']}", headers=customers).get_json()
    assert again["row_errors"] == body["row_errors"] and again["status"] == "done"


def test_all_or_nothing_writes_nothing_but_keeps_the_report(client, customers) -> None:
    content = sheet([["name", "phone", "amount"], ["A", "10", "1"], ["B", "11", "abc"],
                     ["C", "12", "3"]])
    body = imported(client, customers, content)
    assert body["on_error"] == "all_or_nothing"
    assert (body["status"], body["written"], body["created"], body["failed_rows"]) == (
        "done", False, 0, 1)
    assert count(client, customers) == 0
    shown = client.get(f"/api/v1/imports/{body['id']}", headers=customers)
    assert shown.status_code == 200
    assert [(e["row"], e["field"], e["value"]) for e in shown.get_json()["row_errors"]] == [
        (3, "amount", "abc")]
    errors = client.get(f"/api/v1/imports/{body['id']}/errors.csv", headers=customers)
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    assert "attachment" in errors.headers["Content-Disposition"]
    rows = csv_rows(errors)
    assert rows[0] == ["row", "column", "field", "value", "code", "message"]
    assert rows[1][:5] == ["3", "amount", "amount", "abc", "not_a_number"]
    assert "abc" in rows[1][5]


def test_the_error_csv_neutralises_formula_like_values(client, customers) -> None:
    content = sheet([["name", "amount"], ["A", "-cmd"]])  # text, not a formula: accepted
    body = imported(client, customers, content)
    rows = csv_rows(client.get(f"/api/v1/imports/{body['id']}/errors.csv",
                               headers=customers))
    assert rows[1][3] == "'-cmd"  # Excel shows it as text instead of running it


def test_a_chinese_user_gets_chinese_messages_and_error_csv(client, customers,
                                                            tenant_a) -> None:
    assert client.patch(f"/api/v1/admin/users/{tenant_a.admin_id}", json={"locale": "zh"},
                        headers=customers).status_code == 200
    content = sheet([["客户名称", "签约日期"], ["王芳", "明天"]])
    body = imported(client, customers, content)
    (error,) = body["row_errors"]
    assert (error["row"], error["column"], error["code"]) == (2, "签约日期", "bad_date")
    assert error["message"] == "签约日期应为日期（如 2024-01-05），而不是“明天”。"
    rows = csv_rows(client.get(f"/api/v1/imports/{body['id']}/errors.csv",
                               headers=customers))
    assert rows[0] == ["行", "列", "字段", "值", "错误代码", "说明"]
    assert rows[1] == ["2", "签约日期", "signed_on", "明天", "bad_date", error["message"]]
    unknown = upload(client, customers, sheet([["客户名称", "传真"], ["王芳", "1"]]))
    assert "传真" in refused(unknown, 422, "import_unknown_columns")
    assert refused(unknown, 422, "import_unknown_columns").startswith("这些列没有对应的字段")


def test_valid_only_writes_the_good_rows(client, customers) -> None:
    content = sheet([["name", "phone", "amount"], ["A", "10", "1"], ["B", "11", "abc"],
                     ["C", "12", "3"]])
    body = imported(client, customers, content, on_error="valid_only")
    assert (body["written"], body["created"], body["failed_rows"]) == (True, 2, 1)
    assert [e["row"] for e in body["row_errors"]] == [3]
    assert [d["name"] for d in stored(client, customers)] == ["A", "C"]


def test_lenient_input_is_read_as_people_type_it(client, customers) -> None:
    content = sheet([["客户名称", "金额", "签约日期", "贵宾", "等级"],
                     ["王芳", "1,234.50", "2024年1月5日", "是", "金牌"],
                     ["李雷", "１２３", "2024/2/6", "否", "银牌"],
                     ["张伟", " 8 ", "2024.3.7", "Y", "Gold"]])
    body = imported(client, customers, content)
    assert body["row_errors"] == [] and body["created"] == 3
    values = [(number(d["amount"]), d["signed_on"], d["vip"], d["level"])
              for d in stored(client, customers)]
    assert values == [(Decimal("1234.50"), "2024-01-05", True, "a"),
                      (Decimal(123), "2024-02-06", False, "b"),
                      (Decimal(8), "2024-03-07", True, "a")]


def test_imported_records_have_a_create_history_entry(client, customers, tenant_a) -> None:
    imported(client, customers, sheet([["name", "phone"], ["王芳", "100"]]))
    (record,) = client.get(RECORDS, headers=customers).get_json()["items"]
    assert record["owner"] == tenant_a.admin_id and record["version"] == 1
    history = client.get(f"{RECORDS}/{record['id']}/history",
                         headers=customers).get_json()["items"]
    assert [entry["action"] for entry in history] == ["create"]
    assert history[0]["actor"] == tenant_a.admin_id
    assert history[0]["changes"]["name"] == [None, "王芳"]
    assert history[0]["changes"]["phone"] == [None, "100"]


def test_an_imported_record_reads_back_as_one_created_through_the_api(client, customers
                                                                     ) -> None:
    """Imports write in bulk (COPY, executemany), past the ORM: what they store must be
    what the API stores — exact decimals, dates, booleans, timestamps, history."""
    typed = {"name": "王芳", "phone": "100", "amount": 1234.5, "signed_on": "2024-01-05",
             "vip": True, "level": "a", "note": None}
    before = datetime.now(UTC) - timedelta(seconds=5)
    api = new_record(client, customers, **typed)
    imported(client, customers, sheet([["name", "phone", "amount", "signed_on", "vip",
                                        "level", "note"],
                                       ["王芳", "101", "1,234.50", "2024年1月5日", "是",
                                        "金牌", ""]]))
    items = client.get(f"{RECORDS}?sort=created_at", headers=customers).get_json()["items"]
    (bulk,) = [item for item in items if item["id"] != api["id"]]
    assert {**bulk["data"], "phone": "100"} == api["data"]
    assert number(bulk["data"]["tax"]) == Decimal("123.45")
    for item in (api, bulk):
        assert item["version"] == 1 and item["locked"] is False and item["state"] is None
        for stamp in (item["created_at"], item["updated_at"]):
            assert before <= datetime.fromisoformat(stamp) <= datetime.now(UTC)
    histories = [client.get(f"{RECORDS}/{item['id']}/history", headers=customers
                            ).get_json()["items"] for item in (api, bulk)]
    assert [[h["action"] for h in history] for history in histories] == [["create"]] * 2
    changes = [history[0]["changes"] for history in histories]
    assert {**changes[1], "phone": [None, "100"]} == changes[0]


# -- duplicates and modes ----------------------------------------------------------------
def test_insert_reports_an_existing_record_and_a_repeated_row(client, customers) -> None:
    old = new_record(client, customers, name="Old", phone="100")
    content = sheet([["name", "phone"], ["A", "100"], ["B", "200"], ["C", "200"]])
    body = imported(client, customers, content, on_error="valid_only")
    assert body["match_on"] == ["phone"]
    errors = {e["row"]: e for e in body["row_errors"]}
    assert sorted(errors) == [2, 4]
    assert errors[2]["code"] == "import_existing_record" and errors[2]["field"] == "phone"
    assert str(old["id"]) in errors[2]["message"]
    assert errors[4]["code"] == "import_duplicate_row"
    assert "3" in errors[4]["message"]
    assert (body["created"], body["failed_rows"]) == (1, 2)
    assert [d["name"] for d in stored(client, customers)] == ["Old", "B"]


def test_deleted_records_and_blank_keys_are_not_duplicates(client, customers) -> None:
    binned = new_record(client, customers, name="Gone", phone="100")
    assert client.delete(f"{RECORDS}/{binned['id']}", headers=customers).status_code == 200
    content = sheet([["name", "phone"], ["Back", "100"], ["No phone", ""], ["Nor this", ""]])
    body = imported(client, customers, content)
    assert (body["created"], body["failed_rows"]) == (3, 0)
    assert [d["name"] for d in stored(client, customers)] == ["Back", "No phone", "Nor this"]


def test_a_duplicate_row_error_shows_the_duplicated_value(client, customers) -> None:
    new_record(client, customers, name="Old", phone="100")
    content = sheet([["name", "phone"], ["A", "100"], ["B", "200"], ["C", "200"]])
    body = imported(client, customers, content, on_error="valid_only", dry_run=True)
    assert {(e["row"], e["column"], e["value"]) for e in body["row_errors"]} == {
        (2, "phone", "100"), (4, "phone", "200")}


def test_skip_duplicates_skips_existing_and_repeated_rows(client, customers) -> None:
    new_record(client, customers, name="Old", phone="100")
    content = sheet([["name", "phone"], ["A", "100"], ["B", "200"], ["C", "200"],
                     ["D", "300"]])
    body = imported(client, customers, content, mode="skip_duplicates")
    assert (body["created"], body["skipped"], body["failed_rows"]) == (2, 2, 0)
    assert [(d["name"], d["phone"]) for d in stored(client, customers)] == [
        ("Old", "100"), ("B", "200"), ("D", "300")]


def test_upsert_updates_the_match_keeps_blank_cells_and_creates_the_rest(client,
                                                                        customers) -> None:
    old = new_record(client, customers, name="Old", phone="100", amount=5, note="keep",
                     level="b")
    content = sheet([["name", "phone", "amount", "note", "等级"], ["New", "100", "7", "", "金牌"],
                     ["Fresh", "300", "1", "n", ""]])
    trial = imported(client, customers, content, mode="upsert", dry_run=True)
    assert (trial["updated"], trial["created"], trial["written"]) == (1, 1, False)
    assert count(client, customers) == 1
    body = imported(client, customers, content, mode="upsert")
    assert (body["updated"], body["created"], body["failed_rows"]) == (1, 1, 0)
    record = client.get(f"{RECORDS}/{old['id']}", headers=customers).get_json()
    assert record["version"] == 2
    data = record["data"]
    assert (data["name"], number(data["amount"]), data["note"], data["level"]) == (
        "New", Decimal(7), "keep", "a")
    history = client.get(f"{RECORDS}/{old['id']}/history", headers=customers).get_json()
    assert history["items"][-1]["action"] == "update"
    assert set(history["items"][-1]["changes"]) >= {"name", "amount", "level"}
    assert "note" not in history["items"][-1]["changes"]
    assert [d["name"] for d in stored(client, customers)] == ["New", "Fresh"]


def test_upsert_matches_on_the_fields_given(client, customers) -> None:
    old = new_record(client, customers, name="Acme", phone="100")
    body = imported(client, customers, sheet([["name", "phone"], ["Acme", "999"]]),
                    mode="upsert", match_on="name")
    assert body["match_on"] == ["name"] and body["updated"] == 1
    shown = client.get(f"{RECORDS}/{old['id']}", headers=customers).get_json()
    assert shown["data"]["phone"] == "999"
    bad = upload(client, customers, sheet([["name"], ["x"]]), mode="upsert", match_on="tax")
    assert "tax" in refused(bad, 422, "import_bad_match_field")


@pytest.mark.parametrize(("match_on", "typed"), [("amount", "1,500.00"), ("vip", "是"),
                                                  ("signed_on", "2024年3月5日")])
def test_upsert_matches_numbers_booleans_and_dates_as_stored(client, customers, match_on,
                                                             typed) -> None:
    old = new_record(client, customers, name="Acme", amount=1500, vip=True,
                     signed_on="2024-03-05")
    other = new_record(client, customers, name="Other", amount=7, vip=False,
                       signed_on="2020-01-01")
    labels = {"amount": "金额", "vip": "贵宾", "signed_on": "签约日期"}
    body = imported(client, customers, sheet([[labels[match_on], "备注"], [typed, "matched"]]),
                    mode="upsert", match_on=match_on)
    assert (body["updated"], body["created"]) == (1, 0), body
    notes = {item["id"]: item["data"].get("note") for item in client.get(
        f"{RECORDS}?limit=10", headers=customers).get_json()["items"]}
    assert notes == {old["id"]: "matched", other["id"]: None}


def test_upsert_matches_the_largest_amount_a_number_field_takes(client, customers) -> None:
    largest = 10**20   # the number fields' magnitude limit, inclusive
    old = new_record(client, customers, name="Whale", amount=largest)
    body = imported(client, customers, sheet([["金额", "备注"], [f"{largest:,}", "matched"]]),
                    mode="upsert", match_on="amount")
    assert (body["updated"], body["created"]) == (1, 0), body
    shown = client.get(f"{RECORDS}/{old['id']}", headers=customers).get_json()
    assert shown["data"]["note"] == "matched"


UNIQUE = {"key": "product", "fields": [
    {"key": "title", "type": "text", "required": True},
    {"key": "sku", "type": "text", "unique": True},
    {"key": "ean", "type": "text", "unique": True}]}


def test_a_unique_field_is_never_duplicated_by_an_import(client, customers) -> None:
    assert client.post("/api/v1/apps/crm/forms", json=UNIQUE,
                       headers=customers).status_code == 201
    client.post("/api/v1/apps/crm/forms/product/publish", json={}, headers=customers)
    url = "/api/v1/apps/crm/forms/product"
    assert client.post(f"{url}/records", headers=customers, json={"data": {
        "title": "Pen", "sku": "P-1", "ean": "690001"}}).status_code == 201
    content = sheet([["title", "sku", "ean"], ["Pencil", "P-2", "690001"],
                     ["Ink", "P-3", "690002"], ["Ink again", "P-4", "690002"]])
    body = upload(client, customers, content, url=f"{url}/imports",
                  on_error="valid_only").get_json()
    assert sorted(e["row"] for e in body["row_errors"]) == [2, 4]
    eans = [d["ean"] for d in stored(client, customers, f"{url}/records")]
    assert sorted(eans) == ["690001", "690002"]


ORDER = {"key": "order", "fields": [
    {"key": "no", "type": "autonumber", "pattern": "SO-{seq:4}"},
    {"key": "title", "type": "text", "required": True},
    {"key": "amount", "type": "number"}]}


def test_imported_records_get_autonumbers_and_failed_imports_draw_none(client,
                                                                      customers) -> None:
    assert client.post("/api/v1/apps/crm/forms", json=ORDER,
                       headers=customers).status_code == 201
    client.post("/api/v1/apps/crm/forms/order/publish", json={}, headers=customers)
    url = "/api/v1/apps/crm/forms/order"
    good = sheet([["title"], ["a"], ["b"]])
    assert upload(client, customers, good, url=f"{url}/imports",
                  dry_run=True).get_json()["created"] == 2
    assert upload(client, customers, sheet([["title", "amount"], ["x", "1"], ["y", "lots"]]),
                  url=f"{url}/imports").get_json()["written"] is False
    assert upload(client, customers, good, url=f"{url}/imports").get_json()["created"] == 2
    after = client.post(f"{url}/records", json={"data": {"title": "c"}}, headers=customers)
    numbers = [d.get("no") for d in stored(client, customers, f"{url}/records")]
    assert numbers == ["SO-0001", "SO-0002", "SO-0003"]
    assert after.get_json()["data"]["no"] == "SO-0003"


# -- bad files ---------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06"


@pytest.mark.parametrize(("content", "filename", "code"), [
    (random.Random(4).randbytes(4096), "customers.csv", "import_bad_encoding"),
    ("name,note\ncafé,crème\n".encode("latin-1"), "customers.csv", "import_bad_encoding"),
    (PNG + random.Random(5).randbytes(512), "customers.csv", "import_bad_encoding"),
    (b"PK\x03\x04 this is no workbook", "customers.xlsx", "import_bad_xlsx"),
    (b"", "customers.csv", "import_empty_file"),
    (b'name,note\n"open quote,x\n', "customers.csv", "import_bad_csv"),
], ids=["random bytes", "latin-1", "png", "broken xlsx", "empty", "unclosed quote"])
def test_a_file_that_is_no_sheet_is_refused_whole(client, customers, content, filename,
                                                  code) -> None:
    response = upload(client, customers, content, filename=filename)
    assert refused(response, 422, code)
    assert count(client, customers) == 0


def test_a_ragged_row_is_named_and_nothing_is_written(client, customers) -> None:
    content = b"name,phone\nA,1\nB,2,surplus\nC,3\n"
    message = refused(upload(client, customers, content), 422, "import_ragged_row")
    assert "Row 3" in message
    assert count(client, customers) == 0


def test_a_ten_megabyte_cell_is_refused(client, customers) -> None:
    content = b"name,note\nA,short\nB," + b"x" * (10 * 1024 * 1024) + b"\n"
    message = refused(upload(client, customers, content), 422, "import_cell_too_large")
    assert "Row 3" in message
    assert count(client, customers) == 0


def test_a_ten_megabyte_cell_names_its_column(client, customers) -> None:
    content = b"name,note\nA,short\nB," + b"x" * (10 * 1024 * 1024) + b"\n"
    message = refused(upload(client, customers, content), 422, "import_cell_too_large")
    assert "Row 3, column 2 " in message


def test_a_cell_just_over_the_limit_is_named(client, customers) -> None:
    content = b"name,note\nA," + b"x" * 100_001 + b"\n"
    message = refused(upload(client, customers, content), 422, "import_cell_too_large")
    assert "Row 2, column 2 " in message


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x","y")', "@SUM(A1)",
                                     "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
                                     "=1+1", "+HYPERLINK(\"http://x\")"])
def test_spreadsheet_formulas_are_refused(client, customers, formula) -> None:
    content = sheet([["name", "note"], ["Fine", "ok"], ["Evil", formula]])
    message = refused(upload(client, customers, content), 422, "import_formula_cell")
    assert "Row 3, column 2" in message
    assert count(client, customers) == 0


def test_signed_numbers_phones_and_dashes_are_text(client, customers) -> None:
    notes = ["-5", "+86 138 0013 8000", "- call back", "+1 (555) 010-9999", "@alice"]
    content = sheet([["name", "note"], *[[f"n{i}", note] for i, note in enumerate(notes)]])
    body = imported(client, customers, content)
    assert body["created"] == len(notes)
    assert [d["note"] for d in stored(client, customers)] == notes


def test_an_upload_over_the_import_limit_is_413(make_app, make_tenant) -> None:
    app = make_app(max_import_bytes=2048)
    world = make_tenant("alpha")
    client = app.test_client()
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=world.headers)
    client.post("/api/v1/apps/crm/forms", json=CUSTOMER, headers=world.headers)
    client.post(f"{FORM}/publish", json={}, headers=world.headers)
    big = sheet([["name", "phone"], *[[f"name {i}", str(i)] for i in range(300)]])
    assert len(big) > 2048
    refused(upload(client, world.headers, big), 413, "payload_too_large")
    assert count(client, world.headers) == 0
    small = sheet([["name", "phone"], ["Acme", "1"]])
    assert upload(client, world.headers, small).status_code == 201


def test_the_413_names_the_import_limit(make_app, make_tenant) -> None:
    app = make_app(max_import_bytes=2048)
    world = make_tenant("alpha")
    client = app.test_client()
    client.post("/api/v1/apps", json={"key": "crm", "name": "CRM"}, headers=world.headers)
    client.post("/api/v1/apps/crm/forms", json=CUSTOMER, headers=world.headers)
    client.post(f"{FORM}/publish", json={}, headers=world.headers)
    big = sheet([["name", "phone"], *[[f"name {i}", str(i)] for i in range(300)]])
    message = refused(upload(client, world.headers, big), 413, "payload_too_large")
    assert message == "The request body is larger than the limit of 2048 bytes."


def test_a_sheet_larger_than_a_json_body_may_be_is_imported(client, customers) -> None:
    """The 2 MB JSON limit does not apply to uploads (their own limit is 50 MB)."""
    remarks = "备注" * 45_000
    content = sheet([["name", "phone", "remarks"],
                     *[[f"n{i}", str(i), remarks] for i in range(30)]])
    assert len(content) > 2 * 1024 * 1024
    assert imported(client, customers, content)["created"] == 30
    assert stored(client, customers)[29]["remarks"] == remarks


def test_bad_uploads_are_clear_422s(client, customers) -> None:
    """What the JSON bad-body sweep (test_bad_input) does for JSON endpoints, for the
    multipart upload: a clear 422 naming the part, nothing written."""
    as_json = client.post(IMPORTS, json={"file": "name\nx\n"}, headers=customers)
    assert refused(as_json, 422, "validation_failed")
    assert as_json.get_json()["error"]["fields"][0]["code"] == "upload_expected"
    no_file = client.post(IMPORTS, data={"mode": "insert"}, headers=customers,
                          content_type="multipart/form-data")
    refused(no_file, 422, "validation_failed")
    assert no_file.get_json()["error"]["fields"][0]["path"] == "file"
    good = sheet([["name"], ["x"]])
    for fields, path in (({"mode": "replace"}, "mode"), ({"on_error": "ignore"}, "on_error"),
                         ({"dry_run": "perhaps"}, "dry_run"),
                         ({"columns": "not json"}, "columns"),
                         ({"columns": '{"name": 5}'}, "columns"),
                         ({"columns": '["name"]'}, "columns")):
        response = upload(client, customers, good, **fields)
        refused(response, 422, "validation_failed")
        assert response.get_json()["error"]["fields"][0]["path"] == path, fields
    assert count(client, customers) == 0


# -- permissions -------------------------------------------------------------------------
@pytest.fixture
def staff(client, tenant_a, customers) -> dict[str, dict[str, str]]:
    """A rep (creates; sees and changes their own; note hidden, amount read-only), another
    rep, and a viewer (sees everything, creates nothing)."""
    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body, headers=customers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    roles = {key: post("/api/v1/admin/roles", {"key": key, "name": key})["id"]
             for key in ("rep", "viewer")}
    people = {}
    for name, role in (("ann", "rep"), ("bob", "rep"), ("vic", "viewer")):
        user = post("/api/v1/admin/users", {"email": f"{name}@alpha.example",
                                            "roles": [roles[role]]})
        people[name] = bearer(post("/api/v1/admin/tokens",
                                   {"user_id": user["id"], "name": name})["token"])
    response = client.put(f"{FORM}/permissions", headers=customers, json={"items": [
        {"role": "rep", "can_create": True, "read": "own", "update": "own",
         "hidden_fields": ["note"], "readonly_fields": ["amount"]},
        {"role": "viewer", "can_create": False, "read": "all", "update": "none"}]})
    assert response.status_code == 200, response.get_json()
    return people


def test_a_member_who_may_not_create_may_not_import(client, customers, staff) -> None:
    response = upload(client, staff["vic"], sheet([["name"], ["x"]]))
    refused(response, 403, "record_create_forbidden")
    assert count(client, customers) == 0


def test_a_member_without_any_role_on_a_configured_form_may_not_import(
        client, customers, staff, member_token) -> None:
    response = upload(client, bearer(member_token), sheet([["name"], ["x"]]))
    refused(response, 403, "record_create_forbidden")


def test_a_member_may_import_and_owns_what_they_imported(client, customers, staff) -> None:
    body = imported(client, staff["ann"], sheet([["name", "phone"], ["Ann's", "1"]]))
    assert body["created"] == 1
    assert [d["name"] for d in stored(client, staff["ann"])] == ["Ann's"]
    assert stored(client, staff["bob"]) == []


@pytest.mark.parametrize(("header", "columns"), [("note", None), ("Amount", None),
                                                  ("Memo", {"Memo": "note"})],
                         ids=["hidden", "read-only", "hidden via columns"])
def test_hidden_and_read_only_fields_cannot_be_columns(client, customers, staff, header,
                                                       columns) -> None:
    content = sheet([["name", header], ["x", "1"]])
    options = {"columns": columns} if columns else {}
    message = refused(upload(client, staff["ann"], content, **options), 422,
                      "import_field_not_writable")
    assert header in message
    assert count(client, customers) == 0


def test_upsert_cannot_change_a_record_outside_the_update_scope(client, customers,
                                                               staff) -> None:
    admins = new_record(client, customers, name="Boss", phone="100")
    content = sheet([["name", "phone"], ["Mine now", "100"], ["Ann's", "300"]])
    body = imported(client, staff["ann"], content, mode="upsert", on_error="valid_only")
    (error,) = body["row_errors"]
    # Ann may not even read the administrator's record: she is told it exists, not which
    assert (error["row"], error["code"]) == (2, "import_existing_record_unseen")
    assert str(admins["id"]) not in error["message"]
    assert (body["updated"], body["created"]) == (0, 1)
    shown = client.get(f"{RECORDS}/{admins['id']}", headers=customers).get_json()
    assert shown["data"]["name"] == "Boss" and shown["version"] == 1
    viewer = upload(client, staff["vic"], sheet([["name", "phone"], ["x", "100"]]),
                    mode="upsert")
    assert viewer.status_code == 403


def test_only_the_importer_and_administrators_see_an_import(client, customers,
                                                            staff) -> None:
    anns = imported(client, staff["ann"], sheet([["name", "phone"], ["A", "1"]]))
    admins = imported(client, customers, sheet([["name", "phone"], ["B", "2"]]))
    for path in (f"/api/v1/imports/{anns['id']}", f"/api/v1/imports/{anns['id']}/errors.csv"):
        assert client.get(path, headers=staff["ann"]).status_code == 200
        assert client.get(path, headers=customers).status_code == 200  # administrator
        assert client.get(path, headers=staff["bob"]).status_code == 404
    for path in (f"/api/v1/imports/{admins['id']}",
                 f"/api/v1/imports/{admins['id']}/errors.csv"):
        hidden = client.get(path, headers=staff["ann"])
        never = client.get(path.replace(str(admins["id"]), "987654321"),
                           headers=staff["ann"])
        assert hidden.status_code == never.status_code == 404
        assert hidden.get_json()["error"]["code"] == never.get_json()["error"]["code"]


def test_another_tenant_cannot_see_the_import(client, customers, tenant_b) -> None:
    body = imported(client, customers, sheet([["name", "phone"], ["Secret Co", "1"]]))
    for path in (f"/api/v1/imports/{body['id']}", f"/api/v1/imports/{body['id']}/errors.csv"):
        response = client.get(path, headers=tenant_b.headers)
        assert response.status_code == 404
        assert "Secret" not in response.get_data(as_text=True)
    into_a = upload(client, tenant_b.headers, sheet([["name"], ["x"]]))
    assert into_a.status_code == 404
    assert count(client, customers) == 1


# -- large files run as a job ------------------------------------------------------------
def test_a_large_file_runs_as_a_job_and_reports_progress(app, client, customers,
                                                         monkeypatch) -> None:
    monkeypatch.setattr("crm_platform.services.imports.jobs.SYNC_ROWS", 3)
    content = sheet([["name", "phone", "amount"],
                     *[[f"客户{i}", str(1000 + i), f"{i}.5"] for i in range(8)]])
    queued = imported(client, customers, content, status=202)
    assert queued["status"] == "queued" and queued["total_rows"] == 8
    wait_for_jobs(app)
    body = client.get(f"/api/v1/imports/{queued['id']}", headers=customers).get_json()
    assert body["status"] == "done", body
    assert body["processed_rows"] == body["total_rows"] == 8
    assert (body["created"], body["written"]) == (8, True)
    assert count(client, customers) == 8
    assert stored(client, customers)[7]["name"] == "客户7"


def test_a_queued_import_with_a_bad_row_writes_nothing(app, client, customers,
                                                       monkeypatch) -> None:
    monkeypatch.setattr("crm_platform.services.imports.jobs.SYNC_ROWS", 3)
    rows = [[f"n{i}", str(i)] for i in range(6)] + [["", "99"]]
    queued = imported(client, customers, sheet([["name", "phone"], *rows]), status=202)
    wait_for_jobs(app)
    body = client.get(f"/api/v1/imports/{queued['id']}", headers=customers).get_json()
    assert (body["status"], body["written"], body["failed_rows"]) == ("done", False, 1)
    assert body["row_errors"][0]["row"] == 8
    assert count(client, customers) == 0


def test_up_to_2000_rows_run_in_the_request_and_more_run_as_a_job(app, client,
                                                                  customers) -> None:
    rows = [[f"n{i}", str(i)] for i in range(2001)]
    at_once = upload(client, customers, sheet([["name", "phone"], *rows[:2000]]))
    assert at_once.status_code == 201 and at_once.get_json()["status"] == "done"
    assert count(client, customers) == 2000
    rows[2000][1] = "new"   # the others are now existing records: skipped
    queued = upload(client, customers, sheet([["name", "phone"], *rows]),
                    mode="skip_duplicates")
    assert queued.status_code == 202, queued.get_json()
    wait_for_jobs(app)
    body = client.get(f"/api/v1/imports/{queued.get_json()['id']}",
                      headers=customers).get_json()
    assert (body["status"], body["created"], body["skipped"]) == ("done", 1, 2000)
    assert count(client, customers) == 2001


def test_a_bad_large_file_is_refused_before_it_is_queued(client, customers,
                                                         monkeypatch) -> None:
    monkeypatch.setattr("crm_platform.services.imports.jobs.SYNC_ROWS", 3)
    content = sheet([["name", "fax"], *[[f"n{i}", str(i)] for i in range(8)]])
    refused(upload(client, customers, content), 422, "import_unknown_columns")
    content = b"name,phone\n" + b"".join(b"n%d,%d\n" % (i, i) for i in range(8)) + b"x,1,2\n"
    refused(upload(client, customers, content), 422, "import_ragged_row")


# -- row numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_row_numbers_are_the_sheets_row_numbers_after_a_blank_row(client, customers,
                                                                  kind) -> None:
    rows = [["name", "amount"], ["A", "1"], [], ["B", "lots"]]
    content = sheet(rows) if kind == "csv" else xlsx(rows)
    body = imported(client, customers, content, filename=f"c.{kind}", dry_run=True)
    assert [e["row"] for e in body["row_errors"]] == [4]


def many(rows: int, bad_row: int | None = None) -> bytes:
    """`rows` customers (more than a chunk: on PostgreSQL the first chunks are written
    while later ones are checked); the row numbered `bad_row` has a bad amount."""
    lines = [["name", "phone", "amount"]]
    for index in range(rows):
        amount = "lots" if index + 2 == bad_row else f"{index:,}.50"
        lines.append([f"C{index}", f"139{index:08d}", amount])
    return sheet(lines)


def test_a_late_bad_row_undoes_an_all_or_nothing_import_written_so_far(
        client, customers, monkeypatch) -> None:
    from crm_platform.services.imports import jobs as imports

    monkeypatch.setattr(imports, "SYNC_ROWS", 5_000)  # in the request, whatever its size
    body = imported(client, customers, many(1_300, bad_row=1_250))
    assert (body["written"], body["created"], body["failed_rows"]) == (False, 0, 1)
    assert body["processed_rows"] == 1_300   # every row was checked
    assert count(client, customers) == 0
    body = imported(client, customers, many(1_300, bad_row=1_250), on_error="valid_only")
    assert (body["written"], body["created"], body["failed_rows"]) == (True, 1_299, 1)
    assert count(client, customers) == 1_299


def test_every_imported_record_has_its_own_values_in_its_history(
        client, customers, db, monkeypatch) -> None:
    """Records are written in batches (on PostgreSQL while later rows are checked, with
    ids drawn on another connection): every record gets one `create` entry, holding
    that record's values, not a neighbour's."""
    from sqlalchemy import text

    from crm_platform.db import load_json
    from crm_platform.services.imports import jobs as imports

    monkeypatch.setattr(imports, "SYNC_ROWS", 5_000)
    assert imported(client, customers, many(2_300))["created"] == 2_300
    with db.engine.connect() as connection:
        missing = connection.execute(text(
            "SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_history h "
            "WHERE h.record_id = r.id AND h.action = 'create')")).scalar()
        pairs = [tuple(value if isinstance(value, dict) else load_json(value)
                       for value in row)
                 for row in connection.execute(text(
                     "SELECT r.data, h.changes FROM records r JOIN record_history h "
                     "ON h.record_id = r.id AND h.action = 'create' ORDER BY r.id"))]
    assert (missing, len(pairs)) == (0, 2_300)
    for data, changes in pairs:
        assert {key: after for key, (_before, after) in changes.items()} == {
            key: value for key, value in data.items() if value is not None}
    assert [data["name"] for data, _changes in pairs] == [f"C{i}" for i in range(2_300)]
    first = client.get(f"{RECORDS}?sort=id&limit=1", headers=customers).get_json()["items"][0]
    history = client.get(f"{RECORDS}/{first['id']}/history", headers=customers).get_json()
    assert history["items"][0]["changes"]["name"] == [None, "C0"]


def test_a_database_failure_in_a_later_batch_leaves_nothing_written(
        app, client, customers, db, monkeypatch) -> None:
    """The database refuses a history row of a later batch (a trigger stands in for a
    full disk; on PostgreSQL it happens in the thread sending records while rows are
    checked): the import fails as a whole — no record, no history."""
    from sqlalchemy import text

    monkeypatch.setattr("crm_platform.services.imports.jobs.SYNC_ROWS", 3)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(
                "CREATE FUNCTION refuse_c2100() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.changes -> 'name' ->> 1 = 'C2100' THEN "
                "RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$"))
            connection.execute(text(
                "CREATE TRIGGER refuse_c2100 BEFORE INSERT ON record_history "
                "FOR EACH ROW EXECUTE FUNCTION refuse_c2100()"))
        else:
            connection.execute(text(
                "CREATE TRIGGER refuse_c2100 BEFORE INSERT ON record_history "
                "WHEN json_extract(NEW.changes, '$.name[1]') = 'C2100' "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"))
    try:
        queued = imported(client, customers, many(2_300), status=202)
        wait_for_jobs(app)
        body = client.get(f"/api/v1/imports/{queued['id']}", headers=customers).get_json()
        assert (body["status"], body["error"]["code"]) == ("failed", "import_failed"), body
        assert count(client, customers) == 0
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM record_history")).scalar() == 0
    finally:
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("DROP TRIGGER refuse_c2100 ON record_history"))
                connection.execute(text("DROP FUNCTION refuse_c2100()"))
            else:
                connection.execute(text("DROP TRIGGER refuse_c2100"))


def test_a_large_import_has_the_planner_statistics_refreshed(app, client, customers, db,
                                                             monkeypatch) -> None:
    """PostgreSQL: once an import has written many records (here 50 or more) the records
    table is analyzed, so the planner knows the form grew and reads its indexes; a
    smaller import leaves that to autovacuum."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no planner statistics unless asked: nothing to refresh")
    monkeypatch.setattr("crm_platform.services.imports.run.REFRESH_STATISTICS_ROWS", 50)

    def analyzed() -> Any:
        with db.engine.connect() as connection:   # a new snapshot of the statistics
            return connection.execute(text(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'records'"
            )).scalar()

    before = analyzed()
    rows = [["name", "phone"], *[[f"n{index}", f"137{index:08d}"] for index in range(80)]]
    assert imported(client, customers, sheet(rows[:50]))["created"] == 49
    wait_for_jobs(app)
    assert analyzed() == before
    assert imported(client, customers, sheet([rows[0], *rows[50:]]))["created"] == 31
    wait_for_jobs(app)
    assert analyzed() == before
    more = [["name", "phone"], *[[f"m{index}", f"136{index:08d}"] for index in range(50)]]
    assert imported(client, customers, sheet(more))["created"] == 50
    wait_for_jobs(app)
    after = analyzed()
    assert after is not None and (before is None or after > before)


def test_tabs_newlines_and_backslashes_arrive_as_typed(client, customers) -> None:
    typed = "line 1\tcol\\x\r\nline 2 \\N"
    body = imported(client, customers, sheet([["name", "remarks"], ["A", typed]]))
    assert body["created"] == 1, body["row_errors"]
    assert stored(client, customers)[0]["remarks"] == typed.strip()


def test_references_are_checked_in_a_large_import(client, customers, monkeypatch) -> None:
    """Lookups over several chunks (on PostgreSQL checked on the lookups connection
    while earlier chunks are written): a record that does not exist is that row's error."""
    from crm_platform.services.imports import jobs as imports

    monkeypatch.setattr(imports, "SYNC_ROWS", 5_000)
    order = {"key": "order", "fields": [
        {"key": "title", "type": "text", "required": True},
        {"key": "customer", "type": "lookup", "form": "customer"}]}
    assert client.post("/api/v1/apps/crm/forms", json=order,
                       headers=customers).status_code == 201
    assert client.post("/api/v1/apps/crm/forms/order/publish", json={},
                       headers=customers).status_code == 201
    known = client.post(RECORDS, json={"data": {"name": "Acme"}},
                        headers=customers).get_json()["id"]
    lines = [["title", "customer"]] + [[f"O{index}", str(known)] for index in range(700)]
    lines[650][1] = str(known + 1000)   # row 651: no such customer
    url = "/api/v1/apps/crm/forms/order/imports"
    body = imported(client, customers, sheet(lines), url=url, on_error="valid_only")
    assert (body["created"], body["failed_rows"]) == (699, 1), body["row_errors"][:2]
    assert [(e["row"], e["field"]) for e in body["row_errors"]] == [(651, "customer")]
    body = imported(client, customers, sheet(lines), url=url)
    assert (body["written"], body["created"]) == (False, 0)
    assert count(client, customers, "/api/v1/apps/crm/forms/order/records") == 699
