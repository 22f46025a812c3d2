"""Web sign-in: session cookie flags, CSRF on every form, escaped output."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD


def csrf_from(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def sign_in(client, tenant: str, email: str, password: str = PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"tenant": tenant, "email": email, "password": password,
                                       "csrf_token": token})


def test_home_redirects_to_sign_in(client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_sign_in_sets_an_httponly_samesite_session_cookie(client, tenant_a) -> None:
    response = sign_in(client, "alpha", tenant_a.admin_email)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    home = client.get("/").get_data(as_text=True)
    assert tenant_a.admin_email in home


def test_secure_cookies_when_configured(make_app, make_tenant) -> None:
    app = make_app(secure_cookies=True)
    make_tenant("alpha")
    response = sign_in(app.test_client(), "alpha", "admin@alpha.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_in_form_without_csrf_token_is_refused(client, tenant_a) -> None:
    response = client.post("/login", data={"tenant": "alpha", "email": tenant_a.admin_email,
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_failed_sign_in_keeps_what_was_typed_and_says_why(client, tenant_a) -> None:
    response = sign_in(client, "alpha", tenant_a.admin_email, "wrong")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'value="alpha"' in page and f'value="{tenant_a.admin_email}"' in page
    assert "Tenant, e-mail or password is wrong." in page


def test_sign_in_page_speaks_chinese(client) -> None:
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.get_data(as_text=True)


def test_user_supplied_text_is_escaped(client, tenant_a) -> None:
    client.patch(f"/api/v1/admin/users/{tenant_a.admin_id}", headers=tenant_a.headers,
                 json={"name": "<script>alert(1)</script>"})
    sign_in(client, "alpha", tenant_a.admin_email)
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_sign_out_needs_csrf_and_ends_the_session(client, tenant_a) -> None:
    sign_in(client, "alpha", tenant_a.admin_email)
    assert client.post("/logout").status_code == 400
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_session_api_calls_need_the_csrf_header_for_changes(client, tenant_a) -> None:
    sign_in(client, "alpha", tenant_a.admin_email)
    assert client.get("/api/v1/me").status_code == 200
    body = {"name": "Sales", }
    refused = client.post("/api/v1/admin/departments", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    token = csrf_from(client.get("/").get_data(as_text=True))
    accepted = client.post("/api/v1/admin/departments", json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_password_change_ends_other_sessions(client, app, tenant_a) -> None:
    sign_in(client, "alpha", tenant_a.admin_email)
    assert client.get("/").status_code == 200
    other = app.test_client()
    other.patch(f"/api/v1/admin/users/{tenant_a.admin_id}", headers=tenant_a.headers,
                json={"password": "a brand new password"})
    assert client.get("/").status_code == 302


def test_suspended_tenant_cannot_use_the_web_ui(client, tenant_a, platform_token) -> None:
    sign_in(client, "alpha", tenant_a.admin_email)
    client.application.test_client().patch(
        f"/api/v1/admin/tenants/{tenant_a.id}", json={"status": "suspended"},
        headers={"Authorization": f"Bearer {platform_token}"})
    response = client.get("/")  # signed out, not stuck on an error page
    assert response.status_code == 302
    assert client.get("/login").status_code == 200
    again = sign_in(client, "alpha", tenant_a.admin_email)
    assert again.status_code == 403
    assert "suspended" in again.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/healthz",
                                  "/api/v1/no-such-thing"])
def test_no_page_can_be_framed_or_run_inline_script(client, path) -> None:
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
