"""Every main page in a real browser: safe with hostile labels, CSRF on every change,
hidden fields nowhere in the source, no serious accessibility violation (axe-core), and
usable on a 390 px phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.conftest import created, published_app

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
DEAL = {"key": "deal", "label": {"en": "Deals", "zh": "商机"}, "title": "{name}",
        "fields": [{"key": "name", "type": "text", "label": {"en": HOSTILE, "zh": HOSTILE},
                    "required": True},
                   {"key": "stage", "type": "select", "label": {"en": "Stage", "zh": "阶段"},
                    "options": [{"value": "lead", "label": {"en": "Lead", "zh": "线索"}},
                                {"value": "won", "label": {"en": "Won", "zh": "赢单"}}]},
                   {"key": "amount", "type": "currency", "currency": "CNY",
                    "label": {"en": "Amount", "zh": "金额"}},
                   {"key": "margin", "type": "text", "label": {"en": "Margin", "zh": "利润"}}]}


@pytest.fixture
def deal(client, tenant_a) -> int:
    published_app(client, tenant_a.headers, "crm", DEAL)
    return created(client, "/api/v1/apps/crm/forms/deal/records", {"data": {
        "name": HOSTILE, "stage": "lead", "amount": 1200, "margin": "MARGIN-SECRET"}},
        tenant_a.headers)["id"]


def pages(base: str, record_id: int) -> dict[str, str]:
    return {"home": f"{base}/", "list": f"{base}/apps/crm/deal",
            "kanban": f"{base}/apps/crm/deal/board",
            "record": f"{base}/apps/crm/deal/{record_id}",
            "entry": f"{base}/apps/crm/deal/new"}


def test_a_hostile_label_and_value_are_shown_as_text_and_run_nothing(
        deal, tenant_a, open_page, live_server):
    page = open_page(tenant_a.admin_email)
    for url in pages(live_server, deal).values():
        page.goto(url)
        expect(page.locator("main")).to_contain_text("<img src=x onerror=")
        assert page.title() != "pwned" and page.locator("main img").count() == 0


def test_a_change_without_its_csrf_token_is_refused(deal, tenant_a, open_page, live_server):
    page = open_page(tenant_a.admin_email)
    response = page.request.post(f"{live_server}/apps/crm/deal/{deal}/move",
                                 form={"field": "stage", "value": "won", "version": "1"})
    assert response.status == 400
    page.goto(f"{live_server}/apps/crm/deal/{deal}")
    expect(page.locator("dl.fields")).to_contain_text("Lead")


def test_a_field_the_role_hides_is_nowhere_in_any_page(
        client, deal, tenant_a, person, open_page, live_server):
    rep = person("rep@alpha.example", "rep")
    client.put("/api/v1/apps/crm/forms/deal/permissions", headers=tenant_a.headers, json={
        "items": [{"role": "rep", "can_create": True, "read": "all", "update": "all",
                   "hidden_fields": ["margin"]}]})
    assert rep["id"]
    page = open_page("rep@alpha.example")
    for name, url in pages(live_server, deal).items():
        page.goto(url)
        source = page.content()
        assert "MARGIN-SECRET" not in source and "margin" not in source.lower(), name


def test_the_main_pages_have_no_serious_accessibility_violation(
        deal, tenant_a, open_page, live_server):
    axe = Axe()
    anonymous = open_page()
    anonymous.goto(f"{live_server}/login")
    found = {"sign-in": _serious(axe, anonymous)}
    page = open_page(tenant_a.admin_email)
    for name, url in pages(live_server, deal).items():
        page.goto(url)
        found[name] = _serious(axe, page)
    assert {name: items for name, items in found.items() if items} == {}


def _serious(axe: Axe, page) -> list[str]:
    violations = axe.run(page).response["violations"]
    return [f"{item['id']}: {item['help']} ({len(item['nodes'])})" for item in violations
            if item["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("name", ["list", "record", "entry", "kanban", "home"])
def test_the_page_fits_a_390_px_phone(deal, tenant_a, open_page, live_server, name):
    page = open_page(tenant_a.admin_email, locale="zh", width=390)
    page.goto(pages(live_server, deal)[name])
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(
        el => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0).map(
        el => el.tagName + '.' + el.className + ':' + el.scrollWidth + '/' + el.clientWidth)""")
    assert width <= 390, f"{name} is {width}px wide: {wide[:8]}"
    expect(page.locator("main h1")).to_be_visible()


def test_a_menu_opens_inside_a_390_px_phone(deal, tenant_a, open_page, live_server):
    page = open_page(tenant_a.admin_email, width=390)
    page.goto(f"{live_server}/apps/crm/deal")
    page.locator(".views-menu summary").click()
    box = page.locator(".views-menu .menu-list").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    expect(page.get_by_role("button", name="Save as a view")).to_be_in_viewport()
