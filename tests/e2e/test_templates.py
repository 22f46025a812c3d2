"""The template gallery in the browser: a consultant installs the retail template, opens
the members list, exports the app, installs the file into a second tenant, and upgrades the
first tenant to a version 2 with one conflict resolved on the page. A bad file is refused
on the page; the gallery reads in Chinese, fits a 390 px phone and passes axe."""

from __future__ import annotations

import io
import json
import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from templates_gallery.bundles import BUNDLES_DIR
from tests.conftest import PASSWORD

INSTALL_TIMEOUT = 60_000   # a template with its sample records: a few seconds


def _signed_in(page, live_server: str, tenant: str, email: str):
    """The page signed in to another tenant than alpha."""
    page.goto(f"{live_server}/login")
    page.fill("input[name=tenant]", tenant)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    return page


def _retail_v2(tmp_path) -> str:
    """The retail template's next version: a WeChat field, and the points field renamed."""
    bundle = json.loads((BUNDLES_DIR / "retail.json").read_text("utf-8"))
    bundle["manifest"]["version"] = "2.0.0"
    member = next(form for form in bundle["forms"] if form["key"] == "member")
    member["fields"].append({"key": "wechat", "type": "text",
                             "label": {"en": "WeChat", "zh": "微信号"}})
    member["layout"][0]["fields"].append("wechat")
    points = next(field for field in member["fields"] if field["key"] == "points")
    points["label"] = {"en": "Reward points", "zh": "奖励积分"}
    path = tmp_path / "retail-2.0.0.loom.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    return str(path)


def test_install_export_clone_and_upgrade_from_the_gallery(
        tenant_a, make_tenant, open_page, live_server, client, tmp_path):
    page = open_page(tenant_a.admin_email)
    page.get_by_role("link", name="Templates").click()
    expect(page.get_by_role("heading", name="Templates", level=1)).to_be_visible()
    page.get_by_role("link", name="Retail membership CRM").click()
    expect(page.get_by_text("Built on the “Sales core” template")).to_be_visible()
    page.get_by_role("button", name="Install").click()
    expect(page.get_by_role("heading", name="Installed app “retail”.")).to_be_visible(
        timeout=INSTALL_TIMEOUT)                       # the page follows the job
    page.get_by_role("link", name="Open the app").click()
    page.wait_for_url(re.compile(r"/apps/retail/member"))
    expect(page.get_by_role("table")).to_contain_text("138")   # members with their phones

    page.goto(f"{live_server}/templates/retail")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export with its records").click()
    exported = tmp_path / "retail.loom.json"
    download.value.save_as(exported)
    assert len(json.loads(exported.read_text("utf-8"))["sample_data"]["member"]) >= 50

    # The second tenant installs the file: a clone.
    other = make_tenant("beta")
    second = _signed_in(open_page(), live_server, "beta", other.admin_email)
    second.goto(f"{live_server}/templates")
    second.get_by_role("link", name="Install from a file").click()
    second.set_input_files("input[name=file]", str(exported))
    second.get_by_role("button", name="Install").click()
    expect(second.get_by_role("heading", name="Installed app “retail”.")).to_be_visible(
        timeout=INSTALL_TIMEOUT)

    # Tenant A renames the points field its own way; version 2 renames it too.
    api = tenant_a.headers
    draft = client.get("/api/v1/apps/retail/forms/member", headers=api).get_json()["draft"]
    next(field for field in draft["fields"] if field["key"] == "points")["label"] = {
        "en": "Loyalty points", "zh": "会员积分"}
    assert client.put("/api/v1/apps/retail/forms/member/draft", json=draft,
                      headers=api).status_code == 200
    assert client.post("/api/v1/apps/retail/forms/member/publish", json={},
                       headers=api).status_code == 201

    page.goto(f"{live_server}/templates")
    page.get_by_role("link", name="Upgrade").first.click()
    page.set_input_files("input[name=file]", _retail_v2(tmp_path))
    page.get_by_role("button", name="See what would change").last.click()
    expect(page.get_by_role("heading", name="2 conflict(s) to resolve")).to_be_visible()
    expect(page.get_by_text("Changed form: member")).to_be_visible()
    for language in ("en", "zh"):
        group = page.get_by_role("group", name=f"forms/member/fields/points/label/{language}")
        group.get_by_role("radio", name=re.compile("Take the new version's")).check()
    page.get_by_role("button", name="Upgrade now").click(timeout=INSTALL_TIMEOUT)
    expect(page.get_by_text("App “retail” is now at version 2.0.0.")).to_be_visible()
    member = client.get("/api/v1/apps/retail/forms/member", headers=api).get_json()
    fields = {field["key"]: field for field in member["published"]["definition"]["fields"]}
    assert fields["points"]["label"] == {"en": "Reward points", "zh": "奖励积分"}
    assert "wechat" in fields


def test_a_bad_file_is_refused_on_the_page_in_chinese(tenant_a, make_tenant, open_page,
                                                       live_server, tmp_path):
    bundle = json.loads((BUNDLES_DIR / "retail.json").read_text("utf-8"))
    bundle["forms"][0]["fields"][0]["type"] = "telephone"
    bad = tmp_path / "bad.loom.json"
    bad.write_text(json.dumps(bundle, ensure_ascii=False), "utf-8")
    chinese = make_tenant("gamma", locale="zh")
    page = _signed_in(open_page(locale="zh", width=390), live_server, "gamma",
                      chinese.admin_email)
    page.goto(f"{live_server}/templates/file")
    page.set_input_files("input[name=file]", str(bad))
    page.get_by_role("button", name="安装").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("未做任何更改")
    expect(summary).to_contain_text("forms.member.fields[0].type")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_gallery_pages_fit_a_phone_and_pass_axe(tenant_a, open_page, live_server, client):
    fixture = BUNDLES_DIR.parent.parent / "tests/templates/fixtures/helpdesk_v1.json"
    files = {"file": (io.BytesIO(fixture.read_bytes()), "helpdesk.loom.json")}
    installed = client.post("/api/v1/templates/install", headers=tenant_a.headers,
                            data=files, content_type="multipart/form-data")
    assert installed.status_code == 201
    axe = Axe()
    problems = {}
    for locale, width in (("en", 1280), ("zh", 390)):
        page = open_page(tenant_a.admin_email, locale=locale, width=width)
        for path in ("/templates", "/templates/manufacturing", "/templates/file",
                     "/apps/helpdesk/upgrade"):
            page.goto(f"{live_server}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
            violations = axe.run(page).response["violations"]
            problems[(locale, path)] = [f"{item['id']}: {item['help']}" for item in violations
                                        if item["impact"] in ("serious", "critical")]
    assert {key: found for key, found in problems.items() if found} == {}
