"""Browser tests: Playwright's Python API driving Debian's Chromium (never a downloaded
browser) against a live Loom server on a free port, on SQLite and on PostgreSQL (the
`database_url` fixture). Each test gets an empty database and builds what it needs through
the API, then acts as a person would: it clicks, types and drags, reads what is on the
screen, and waits for what should appear (`expect`) instead of sleeping."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, bearer, created

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is missing: apt-get install chromium fonts-noto-cjk"
        if os.environ.get("CI"):
            pytest.fail(message)  # .ci/run installs it: in CI its absence is a failure
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _a_problem(message: Any) -> bool:
    """A console message that means something went wrong in the page. A refused request
    (a 409 conflict, a 422 refusal the page then shows) is logged by Chromium as a failed
    resource: that is the page working, not a fault."""
    if "Content Security Policy" in message.text:
        return True
    return message.type == "error" and not message.text.startswith("Failed to load resource")


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable[..., Any]]:
    """`open_page(email=None, locale="en", width=1280)`: a page in a fresh browser context,
    signed in to tenant `alpha` as `email` when given. Every page fails the test on a
    JavaScript error, an error htmx reports, or a violated Content-Security-Policy."""
    contexts = []
    problems: list[str] = []

    def open_(email: str | None = None, locale: str = "en", width: int = 1280) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      locale="zh-CN" if locale == "zh" else "en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda message: problems.append(message.text)
                if _a_problem(message) else None)
        if email is not None:
            page.goto(f"{live_server}/login")
            page.fill("input[name=tenant]", "alpha")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_url(f"{live_server}/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == []


@pytest.fixture
def person(client, tenant_a) -> Callable[..., dict[str, Any]]:
    """`person(email, role=None, locale="en")`: a user of tenant A who can sign in."""

    def make(email: str, role: str | None = None, locale: str = "en",
             name: str | None = None) -> dict[str, Any]:
        roles = []
        if role is not None:
            found = [item for item in client.get("/api/v1/admin/roles?limit=100",
                                                 headers=tenant_a.headers).get_json()["items"]
                     if item["key"] == role]
            roles = [found[0]["id"] if found else created(
                client, "/api/v1/admin/roles", {"key": role, "name": role.title()},
                tenant_a.headers)["id"]]
        user = created(client, "/api/v1/admin/users", {
            "email": email, "password": PASSWORD, "locale": locale, "roles": roles,
            "name": name or email.split("@")[0].title()}, tenant_a.headers)
        token = created(client, "/api/v1/admin/tokens", {"user_id": user["id"], "name": "e2e"},
                        tenant_a.headers)["token"]
        return {"id": user["id"], "email": email, "headers": bearer(token)}

    return make
