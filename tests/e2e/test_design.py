"""The form builder in a real browser: a business user builds a form from nothing — by
clicking and dragging, and by keyboard alone — tries it in the preview in Chinese on a
phone's width, publishes it and enters a record; undo brings back what was deleted."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect


class Steps:
    """Waits for each change to be saved: the draft's revision moves on."""

    def __init__(self, page) -> None:
        self.page, self.seen = page, None

    def __call__(self) -> None:
        status = self.page.locator("#design-status")
        if self.seen is not None:
            expect(status).not_to_have_attribute("data-revision", self.seen)
        expect(status).to_contain_text("Saved to the draft")
        expect(self.page.locator("#builder")).to_have_attribute("data-bound", "1")
        expect(self.page.locator(".canvas-fields").first).to_have_attribute("data-bound", "1")
        settled(self.page)   # the swapped-in panel answers to its triggers
        self.seen = status.get_attribute("data-revision")

    def start(self) -> Steps:
        self.seen = self.page.locator("#design-status").get_attribute("data-revision")
        return self


def drag(page, source, target) -> None:
    """Press, move in small steps as a hand does, release (both ends in view)."""
    page.evaluate("window.scrollTo(0, 0)")
    source.scroll_into_view_if_needed()
    start, end = source.bounding_box(), target.bounding_box()
    x, y = start["x"] + 20, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(200)                  # a hand rests before it presses
    page.mouse.down()
    page.mouse.move(x + 10, y + 5, steps=5)     # the drag begins inside the source
    page.mouse.move(end["x"] + 20, end["y"] + end["height"] * 0.75, steps=25)
    page.wait_for_timeout(150)                  # and rests over the target
    page.mouse.up()


def settled(page) -> None:
    """htmx has swapped and settled: new content answers to its triggers (a person is
    never faster than this; a test can be)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def select_field(page, name: str) -> None:
    page.locator(".canvas-field a", has_text=name).click()
    expect(page.locator("#properties-h")).to_contain_text(name)


def test_a_business_user_builds_previews_publishes_and_uses_a_form(
        tenant_a, open_page, live_server):
    page = open_page(tenant_a.admin_email)
    page.set_viewport_size({"width": 1280, "height": 1200})  # palette and canvas in view
    page.get_by_role("link", name="+ New app").click()
    page.get_by_label("Name (English)").fill("Sales")
    page.get_by_label("Name (中文)").fill("销售")
    page.get_by_role("button", name="Create the app").click()
    page.get_by_label("Name (English)").fill("Customer")
    page.get_by_label("Name (中文)").fill("客户")
    page.get_by_role("button", name="Create and design the form").click()
    expect(page.get_by_role("heading", name="Designing “Customer”")).to_be_visible()
    saved = Steps(page).start()

    page.locator(".palette-item", has_text="Phone").click()          # after "Name"
    saved()
    page.get_by_label("Required", exact=True).check()
    saved()
    expect(page.locator(".canvas-field", has_text="Phone")).to_contain_text("*")

    drag(page, page.locator('[data-palette] li[data-type="currency"]'),
         page.locator(".canvas-field").last)                          # dropped on the canvas
    saved()

    page.locator(".palette-item", has_text="Single choice").click()
    saved()
    page.locator("#prop-label-en").fill("Level")
    page.locator("#prop-label-zh").fill("客户等级")
    page.locator("#prop-key").click()                   # leaving the label saves it
    saved()
    page.locator("#prop-key").fill("level")
    page.locator("#prop-key").press("Tab")
    saved()
    page.locator("#option-0-value").fill("a")
    page.locator("#option-0-en").fill("A")
    page.locator("#option-0-en").press("Tab")
    saved()

    select_field(page, "Money")
    page.locator("#prop-label-en").fill("Budget")
    page.locator("#prop-label-zh").fill("预算")
    page.locator("#prop-label-zh").press("Tab")
    saved()
    page.locator("#prop-key").fill("budget")
    page.locator("#prop-key").press("Tab")
    saved()
    condition = page.locator("#prop-visible_if")
    condition.fill("levl == 'a'")
    expect(page.locator("#prop-visible_if-check")).to_contain_text("levl")   # live check
    condition.fill("level == 'a'")
    expect(page.locator("#prop-visible_if-check")).to_contain_text("reads well")
    condition.press("Tab")
    saved()

    page.get_by_role("link", name="← Form settings").click()
    page.get_by_role("button", name="+ Add a rule").click()
    saved()
    page.locator("#rule-0-error-if").fill("budget > 5000000")
    page.locator("#rule-0-en").fill("Budgets above 5 000 000 need a key-account form")
    page.locator("#rule-0-zh").fill("预算超过 500 万需要填写大客户表")
    page.locator("#rule-0-field").select_option(label="Budget")
    saved()

    page.locator("#preview-box summary").click()
    page.get_by_role("link", name="中文").click()
    expect(page.locator(".preview-frame")).to_have_attribute("lang", "zh")
    page.get_by_role("link", name="Phone (390 px)").click()
    frame = page.locator(".preview-frame")
    expect(frame).to_have_class(re.compile("preview-phone"))
    expect(frame.get_by_label("预算")).to_be_hidden()              # level is not A yet
    settled(page)   # htmx wires the swapped-in preview a moment after it shows
    frame.get_by_label("客户等级").select_option(value="a")
    expect(frame.get_by_label("预算")).to_be_visible()
    frame.get_by_label("预算").fill("6000000")
    frame.get_by_label("预算").press("Tab")
    expect(page.locator(".preview-frame")).to_contain_text("预算超过 500 万需要填写大客户表")

    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("The form's first version")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Version 1 is published.")).to_be_visible()
    page.get_by_role("link", name="+ New", exact=True).click()
    page.locator("#loom-customer-name").fill("Acme Robotics")
    page.locator("#loom-customer-phone").fill("138 0013 8000")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Robotics")


def test_the_same_form_is_built_with_the_keyboard_alone_and_undo_restores_a_delete(
        tenant_a, open_page, live_server, client):
    from tests.conftest import published_app

    published_app(client, tenant_a.headers, "crm", {
        "key": "customer", "label": {"en": "Customers", "zh": "客户"},
        "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}}]})
    page = open_page(tenant_a.admin_email)
    page.goto(f"{live_server}/apps/crm/customer/design")
    saved = Steps(page).start()
    search = page.get_by_placeholder("Find a field type")
    search.focus()
    search.type("choice")                                  # the palette narrows
    expect(page.locator(".palette-item:visible")).to_have_count(2)
    page.keyboard.press("Tab")                             # onto "Single choice"
    page.keyboard.press("Enter")
    saved()
    expect(page.locator("#properties-h")).to_contain_text("Single choice")
    page.locator("#move-up").focus()
    page.keyboard.press("Enter")                           # above "Name"
    saved()
    expect(page.locator(".canvas-field").first).to_contain_text("Single choice")
    options = page.locator(".option-row")
    expect(options).to_have_count(3)
    page.locator("#remove-field").focus()
    page.keyboard.press("Enter")
    saved()
    expect(page.locator(".canvas-field", has_text="Single choice")).to_have_count(0)
    page.keyboard.press("Control+z")                       # undo, from the keyboard
    expect(page.locator("#design-status")).to_contain_text("Undone")
    expect(page.locator(".canvas-field", has_text="Single choice")).to_have_count(1)
    page.locator(".canvas-field a", has_text="Single choice").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".option-row")).to_have_count(3)   # with its options


def test_the_builder_has_no_serious_accessibility_violation(
        tenant_a, open_page, live_server, client):
    from tests.conftest import published_app

    published_app(client, tenant_a.headers, "crm", {
        "key": "customer", "label": {"en": "Customers", "zh": "客户"},
        "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}},
                   {"key": "level", "type": "select", "options": [{"value": "a"}]}]})
    page = open_page(tenant_a.admin_email)
    axe = Axe()
    problems = {}
    for path in ("/apps/crm/customer/design", "/apps/crm/customer/design?field=level",
                 "/apps/crm/customer/design/publish", "/apps/crm/customer/design/permissions",
                 "/apps/crm/customer/design/versions", "/apps/new"):
        page.goto(f"{live_server}{path}")
        violations = axe.run(page).response["violations"]
        problems[path] = [f"{item['id']}: {item['help']}" for item in violations
                          if item["impact"] in ("serious", "critical")]
    assert {path: found for path, found in problems.items() if found} == {}


def test_the_builder_fits_a_390_px_phone(tenant_a, open_page, live_server, client):
    from tests.conftest import published_app

    published_app(client, tenant_a.headers, "crm", {
        "key": "customer", "label": {"en": "Customers", "zh": "客户"},
        "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}},
                   {"key": "level", "type": "select", "options": [{"value": "a"}]}]})
    page = open_page(tenant_a.admin_email, locale="zh", width=390)
    for path in ("/apps/crm/customer/design?field=level", "/apps/crm/customer/design",
                 "/apps/crm/customer/design/permissions"):
        page.goto(f"{live_server}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide"


def test_making_the_phone_unique_over_duplicates_shows_why_publishing_waits(
        tenant_a, open_page, live_server, client):
    from tests.conftest import created, published_app

    published_app(client, tenant_a.headers, "crm", {
        "key": "customer", "label": {"en": "Customers", "zh": "客户"},
        "fields": [{"key": "name", "type": "text", "label": {"en": "Name", "zh": "名称"}},
                   {"key": "phone", "type": "phone", "label": {"en": "Phone", "zh": "电话"}}]})
    for name in ("Acme", "Acme again"):
        created(client, "/api/v1/apps/crm/forms/customer/records",
                {"data": {"name": name, "phone": "+8613800138000"}}, tenant_a.headers)
    page = open_page(tenant_a.admin_email)
    page.goto(f"{live_server}/apps/crm/customer/design?field=phone")
    saved = Steps(page).start()
    page.get_by_label("No two records may share a value").check()
    saved()
    page.get_by_role("link", name="Publish…").click()
    expect(page.get_by_text("Field “Phone” becomes unique — 2 record(s) share a value "
                            "with another.")).to_be_visible()
    page.get_by_role("button", name="Publish with these choices").click()
    expect(page.locator(".error-summary")).to_contain_text("make them differ first")
    expect(page.get_by_role("link", name="Records")).to_be_visible()
