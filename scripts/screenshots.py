"""Write Loom's pages to PNG, in English and Chinese, at 1280 and 390 px wide, into
`docs/screenshots/` — to look at them as a user would (../shared/UI.md).

    . .venv/bin/activate && pip install playwright && python scripts/screenshots.py

A fresh SQLite database with `loom demo`'s four template apps and a live server on a free port;
Debian's Chromium (`/usr/bin/chromium`, `apt-get install chromium fonts-noto-cjk`), never a
downloaded one. The pages as there are today: sign-in (empty, and after a wrong password),
home, a record list (and one with a wrong filter), the deals' board, a record, a new record
with an error, the import wizard's mapping and check, notifications, the API reference and
an unknown page (404); English as the demo's administrator, Chinese as its sales user;
and the form builder with its preview, the template gallery (cards, a template, an
upgrade) and two industry apps, as the administrator in both languages.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 390}
GALLERY = ROOT / "templates_gallery" / "screenshots"
TEMPLATE_PICTURES = {"sales_core": "/apps/sales/opportunity/board",
                     "manufacturing": "/apps/manufacturing/service_ticket/board",
                     "education": "/apps/education/enrollment",
                     "retail": "/apps/retail/member"}
PASSWORD = "screenshot horse battery"


def walk(page: Any, base: str, email: str, suffix: str) -> None:
    """Every page, as a user meets them."""
    def shot(name: str) -> None:
        page.screenshot(path=str(OUT / f"{name}-{suffix}.png"), full_page=True)

    page.goto(f"{base}/login")
    shot("login")
    page.fill("input[name=tenant]", "demo")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "wrong password")
    page.click("main button[type=submit]")
    shot("login-error")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    shot("home")
    page.goto(f"{base}/apps/sales/opportunity?sort=-amount")
    shot("records")
    records_url = page.url
    page.goto(f"{base}/apps/sales/opportunity/board")
    shot("board")
    page.goto(f"{base}/apps/sales/opportunity?field=amount&op=gt&value=lots")
    page.click("details.filters summary") if not page.is_visible(".filter-row") else None
    shot("records-filter-error")
    page.goto(records_url)
    page.click("table.records tbody tr:first-child td a")
    shot("record")
    page.goto(f"{base}/apps/sales/customer/new")
    page.fill("#loom-customer-name", "深圳新元科技有限公司")
    page.fill("#loom-customer-phone", "12345")
    with page.expect_navigation():  # the save waits for the last change's evaluation
        page.click("form#entry button[type=submit]")
    shot("entry-error")
    page.goto(f"{base}/apps/sales/customer/import")
    page.set_input_files("input[type=file]", files=[{
        "name": "customers.csv", "mimeType": "text/csv",
        "buffer": "名称,电话,城市\n杭州启明科技有限公司,13800138000,杭州\n坏电话,12345,上海\n"
                  .encode("gbk")}])
    page.click("main button[type=submit]")
    shot("import-mapping")
    page.click("main button[type=submit]")
    shot("import-check")
    page.goto(f"{base}/notifications")
    shot("notifications")
    page.goto(f"{base}/api/docs")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": 900})
    page.screenshot(path=str(OUT / f"api-docs-{suffix}.png"))  # the top: it is long
    page.goto(f"{base}/no-such-page")
    shot("not-found")


def design_walk(page: Any, base: str, language: str, suffix: str) -> None:
    """The form builder, as the demo's administrator sees it in `language`."""
    page.goto(f"{base}/login")
    page.fill("input[name=tenant]", "demo")
    page.fill("input[name=email]", "admin@demo.loom.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    switch = page.locator("button[name=locale]").first
    if language == "zh" and "中文" in (switch.text_content() or ""):
        switch.click()
        page.wait_for_load_state()
    page.goto(f"{base}/apps/sales/customer/design?field=phone")
    page.screenshot(path=str(OUT / f"design-{language}-{suffix}.png"), full_page=True)
    page.click("#preview-box summary")
    page.wait_for_selector(".preview-frame")
    page.locator("#preview-box").screenshot(path=str(OUT / f"design-preview-{language}-"
                                                          f"{suffix}.png"))
    if language == "en" and suffix == "desktop":   # each template's picture in the gallery
        for key, path in TEMPLATE_PICTURES.items():
            page.goto(f"{base}{path}")
            page.set_viewport_size({"width": 1280, "height": 720})
            page.screenshot(path=str(GALLERY / f"{key.replace('_', '-')}.png"))
    for name, path in (("gallery", "/templates"), ("gallery-detail", "/templates/retail"),
                       ("gallery-upgrade", "/apps/retail/upgrade"),
                       ("retail-members", "/apps/retail/member"),
                       ("manufacturing-tickets", "/apps/manufacturing/service_ticket/board")):
        page.goto(f"{base}{path}")
        page.screenshot(path=str(OUT / f"{name}-{language}-{suffix}.png"), full_page=True)
    if language == "zh":  # leave the administrator's own language as it was
        page.locator("button[name=locale]").first.click()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from crm_platform import create_app
    from crm_platform.cli_support import prepare_demo
    from crm_platform.db import database
    from crm_platform.jobs import wait_for_jobs
    from crm_platform.migrate import upgrade

    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/screens.db"
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "screens"})
    with app.app_context():
        with database(app).transaction() as session:
            prepare_demo(session, "demo", "admin@demo.loom.example", PASSWORD)
        wait_for_jobs(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    GALLERY.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        for locale, email in (("en", "admin@demo.loom.example"),
                              ("zh", "sales@demo.loom.example")):
            for size, width in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": 800},
                                              locale="zh-CN" if locale == "zh" else "en-US")
                walk(context.new_page(), base, email, f"{locale}-{size}")
                context.close()
                context = browser.new_context(viewport={"width": width, "height": 800})
                design_walk(context.new_page(), base, locale, size)
                context.close()
        browser.close()
    server.shutdown()
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
