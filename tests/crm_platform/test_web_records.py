"""The record list page: the columns a user may see, the filter builder, search, sort,
pages, and bulk delete / transfer / export — with the API's permissions."""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import created
from tests.crm_platform.test_web import csrf_from, sign_in
from tests.crm_platform.test_web_shell import RECORDS, rep  # noqa: F401  (fixture)

LIST = "/apps/crm/deal"


def cells(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td data-label[^>]*>.*?</td>", page, re.S)]


def deals(client, headers, *rows: tuple[str, int]) -> list[int]:
    return [created(client, RECORDS, {"data": {"name": name, "amount": amount,
                                               "margin": "M-SECRET"}}, headers)["id"]
            for name, amount in rows]


def counted(client, page: str) -> str:
    """What the count the list asks for once it is shown (by htmx) says."""
    link = re.search(r'class="muted count" hx-get="([^"]+)"', page).group(1)
    return client.get(link.replace("&amp;", "&")).get_data(as_text=True)


def test_a_list_shows_the_users_records_with_formatted_values(client, tenant_a, rep):  # noqa: F811
    handed = deals(client, tenant_a.headers, ("Acme renewal", 1234567), ("Not mine", 5))
    client.post(f"{RECORDS}/{handed[0]}/transfer", json={"owner": rep["id"]},
                headers=tenant_a.headers)
    sign_in(client, "alpha", rep["email"])
    page = client.get(LIST).get_data(as_text=True)
    assert "Acme renewal" in page and "Not mine" not in page
    assert "CN¥1,234,567.00" in cells(page)             # Babel, the reader's language
    assert counted(client, page) == "1 records"
    assert "M-SECRET" not in page and 'value="margin"' not in page  # hidden: nowhere


def test_asking_for_a_hidden_column_or_filter_shows_nothing_of_it(client, tenant_a, rep):  # noqa: F811
    created(client, RECORDS, {"data": {"name": "Mine"}}, rep["headers"])
    sign_in(client, "alpha", rep["email"])
    assert "margin" not in client.get(LIST).get_data(as_text=True)  # the key, anywhere
    page = client.get(f"{LIST}?cols=margin&cols=name").get_data(as_text=True)
    assert ">Mine<" in page and 'data-label="margin"' not in page
    assert "export?format=csv&amp;cols=name\"" in page  # links carry only shown columns
    probe = client.get(f"{LIST}?field=margin&op=eq&value=M-SECRET")
    assert probe.status_code == 422
    assert "margin" in probe.get_data(as_text=True)  # named as asked: "no such field"
    assert "M-SECRET" in probe.get_data(as_text=True).split('name="value"')[1][:80]


def test_filter_search_sort_and_pages(client, tenant_a, rep):  # noqa: F811
    deals(client, tenant_a.headers, *((f"Deal {index:02d}", index * 100)
                                      for index in range(1, 61)))
    sign_in(client, "alpha", tenant_a.admin_email)
    big = client.get(f"{LIST}?field=amount&op=gte&value=5000&sort=-amount&cols=name"
                     "&cols=amount").get_data(as_text=True)
    assert cells(big)[:4] == ["Deal 60", "CN¥6,000.00", "Deal 59", "CN¥5,900.00"]
    assert len(cells(big)) == 22
    assert 'aria-sort="descending"' in big and counted(client, big) == "11 records"
    found = client.get(f"{LIST}?q=deal+5&cols=name").get_data(as_text=True)
    assert sorted(cells(found)) == sorted(f"Deal {index:02d}" for index in range(1, 61)
                                          if "5" in f"{index:02d}")
    first = client.get(f"{LIST}?sort=amount&cols=name").get_data(as_text=True)
    assert cells(first)[0] == "Deal 01" and len(cells(first)) == 50
    following = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert cells(second) == [f"Deal {index}" for index in range(51, 61)]
    assert "Page 2" in second and 'rel="next"' not in second
    back = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    again = client.get(back).get_data(as_text=True)
    assert cells(again) == cells(first) and "Page 1" in again and 'rel="prev"' not in again


def test_a_wrong_filter_is_explained_in_chinese_beside_its_row(client, tenant_a, rep):  # noqa: F811
    client.patch("/api/v1/me", json={"locale": "zh"}, headers=tenant_a.headers)
    sign_in(client, "alpha", tenant_a.admin_email)
    response = client.get(f"{LIST}?field=amount&op=gt&value=lots")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count("amount：lots 不是该字段可接受的值。") == 2  # summary and row
    assert 'value="lots"' in page                          # what was typed stays


def test_bulk_delete_asks_first_and_transfer_hands_records_over(client, tenant_a, rep):  # noqa: F811
    ids = deals(client, tenant_a.headers, ("One", 1), ("Two", 2), ("Three", 3))
    sign_in(client, "alpha", tenant_a.admin_email)
    token = csrf_from(client.get(LIST).get_data(as_text=True))
    bulk = f"{LIST}/bulk"
    asked = client.post(bulk, data={"action": "delete", "id": ids[:2], "csrf_token": token})
    assert asked.status_code == 200 and "Delete 2 records?" in asked.get_data(as_text=True)
    assert client.get(f"{RECORDS}/{ids[0]}", headers=tenant_a.headers).status_code == 200
    done = client.post(bulk, data={"action": "delete", "id": ids[:2], "confirmed": "yes",
                                   "csrf_token": token}, follow_redirects=True)
    assert "2 records deleted." in done.get_data(as_text=True)
    assert client.get(f"{RECORDS}/{ids[0]}", headers=tenant_a.headers).status_code == 404
    moved = client.post(bulk, data={"action": "transfer", "id": [ids[2]], "owner": rep["id"],
                                    "csrf_token": token}, follow_redirects=True)
    assert "1 records transferred to Rita Rep." in moved.get_data(as_text=True)
    record = client.get(f"{RECORDS}/{ids[2]}", headers=tenant_a.headers).get_json()
    assert record["owner"] == rep["id"]


def test_a_user_cannot_act_on_records_outside_their_scope(client, tenant_a, rep):  # noqa: F811
    theirs = deals(client, tenant_a.headers, ("Boss only", 1))[0]
    sign_in(client, "alpha", rep["email"])
    token = csrf_from(client.get(LIST).get_data(as_text=True))
    refused = client.post(f"{LIST}/bulk", data={"action": "transfer", "id": [theirs],
                                                "owner": rep["id"], "csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
    assert "1 records were left unchanged" in refused and "Boss only" not in refused
    owner = client.get(f"{RECORDS}/{theirs}", headers=tenant_a.headers).get_json()["owner"]
    assert owner == tenant_a.admin_id


def test_export_of_the_selected_records(client, tenant_a, rep):  # noqa: F811
    ids = deals(client, tenant_a.headers, ("Keep", 1), ("Skip", 2))
    sign_in(client, "alpha", tenant_a.admin_email)
    token = csrf_from(client.get(LIST).get_data(as_text=True))
    asked = client.post(f"{LIST}/bulk", data={"action": "export", "id": [ids[0]],
                                              "csrf_token": token})
    assert asked.status_code == 302 and "format=xlsx" in asked.headers["Location"]
    sheet = client.get(asked.headers["Location"].replace("format=xlsx", "format=csv"))
    rows = list(csv.reader(io.StringIO(sheet.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2 and "Keep" in rows[1] and not any("Skip" in row for row in rows)


def test_another_tenants_form_is_not_found(client, tenant_a, tenant_b):
    created(client, "/api/v1/apps", {"key": "crm", "name": "CRM"}, tenant_b.headers)
    sign_in(client, "alpha", tenant_a.admin_email)
    assert client.get(LIST).status_code == 404


def test_a_list_saved_as_a_view_opens_the_same_way(client, tenant_a, rep):  # noqa: F811
    deals(client, tenant_a.headers, ("Small", 5), ("Large", 5000))
    sign_in(client, "alpha", tenant_a.admin_email)
    url = f"{LIST}?field=amount&op=gte&value=1000&cols=name&sort=-amount"
    token = csrf_from(client.get(url).get_data(as_text=True))
    saved = client.post(f"{LIST}/views", data={
        "csrf_token": token, "name": "Large deals", "kind": "list", "visibility": "everyone",
        "field": "amount", "op": "gte", "value": "1000", "cols": "name", "sort": "-amount"})
    assert saved.status_code == 302 and "view=" in saved.headers["Location"]
    opened = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert cells(opened) == ["Large"] and "Large deals" in opened
    api = client.get("/api/v1/apps/crm/forms/deal/views", headers=tenant_a.headers).get_json()
    assert api["items"][0]["filter"] == {"field": "amount", "op": "gte", "value": "1000"}
    # shared with everyone: the rep opens it too, through their own permissions
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "alpha", rep["email"])
    theirs = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Large deals" in theirs and cells(theirs) == []   # the rep reads only their own


def test_a_designer_shares_a_view_with_a_role_from_the_page(client, tenant_a, rep):  # noqa: F811
    sign_in(client, "alpha", tenant_a.admin_email)
    page = client.get(LIST).get_data(as_text=True)
    assert 'name="roles" value="rep"' in page and "Rep</label>" in page
    token = csrf_from(page)
    refused = client.post(f"{LIST}/views", data={      # "roles", yet none ticked
        "csrf_token": token, "name": "Reps' view", "kind": "list", "visibility": "roles"},
        follow_redirects=True)
    assert "roles" in refused.get_data(as_text=True)
    saved = client.post(f"{LIST}/views", data={
        "csrf_token": token, "name": "Reps' view", "kind": "list", "visibility": "roles",
        "roles": "rep", "cols": "name"})
    assert saved.status_code == 302
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "alpha", rep["email"])
    theirs = client.get(LIST).get_data(as_text=True)
    assert "Reps&#39; view" in theirs
    assert 'name="roles"' not in theirs    # a rep shares nothing: no choice offered


def test_a_view_a_user_may_not_share_is_refused_on_the_page(client, tenant_a, rep):  # noqa: F811
    sign_in(client, "alpha", rep["email"])
    token = csrf_from(client.get(LIST).get_data(as_text=True))
    refused = client.post(f"{LIST}/views", data={"csrf_token": token, "name": "For all",
                                                 "kind": "list", "visibility": "everyone"},
                          follow_redirects=True)
    assert "designer" in refused.get_data(as_text=True).lower()
    assert client.get("/api/v1/apps/crm/forms/deal/views",
                      headers=rep["headers"]).get_json()["items"] == []


def test_previous_steps_back_page_by_page_and_a_new_sort_starts_afresh():
    from urllib.parse import parse_qs, urlsplit

    from werkzeug.datastructures import MultiDict

    from crm_platform.web.list_query import ListQuery

    def follow(url: str) -> ListQuery:
        return ListQuery.from_args(MultiDict(
            [(name, value) for name, values in parse_qs(urlsplit(url).query,
                                                        keep_blank_values=True).items()
             for value in values]))

    first = ListQuery(sort="-amount")
    third = follow(follow(first.next_url("/l", "c1")).next_url("/l", "c2"))
    assert (third.page, third.cursor, third.trail) == (3, "c2", ("", "c1"))
    second = follow(third.previous_url("/l"))
    assert (second.page, second.cursor, second.sort) == (2, "c1", "-amount")
    assert follow(second.previous_url("/l")) == first
    assert first.previous_url("/l") is None
    resorted = follow(third.url("/l", sort="name", cursor=None))
    assert (resorted.page, resorted.trail, resorted.cursor) == (1, (), None)
