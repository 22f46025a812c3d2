"""Words on the web pages, in English and Chinese."""

from __future__ import annotations

from typing import Any

UI: dict[str, dict[str, str]] = {
    "app_name": {"en": "Loom", "zh": "Loom"},
    "sign_in": {"en": "Sign in", "zh": "登录"},
    "sign_out": {"en": "Sign out", "zh": "退出登录"},
    "tenant": {"en": "Tenant", "zh": "租户"},
    "email": {"en": "E-mail", "zh": "邮箱"},
    "password": {"en": "Password", "zh": "密码"},
    "signed_in_as": {"en": "Signed in as {name} ({email})", "zh": "当前用户：{name}（{email}）"},
    "tenant_line": {"en": "Tenant: {name} ({slug})", "zh": "租户：{name}（{slug}）"},
    "roles": {"en": "Roles", "zh": "角色"},
    "api_docs": {"en": "API description (OpenAPI)", "zh": "API 文档（OpenAPI）"},
    "platform_admin": {"en": "Platform administrator", "zh": "平台管理员"},
    "error_title": {"en": "Error {status}", "zh": "错误 {status}"},
    "back_home": {"en": "Back to the start page", "zh": "返回首页"},
}


def ui_text(key: str, locale: str, **params: Any) -> str:
    entry = UI.get(key)
    if entry is None:
        return key
    return (entry.get(locale) or entry["en"]).format(**params)
