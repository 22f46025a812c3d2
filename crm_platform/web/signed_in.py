"""The signed-in caller of a page, or a redirect to the sign-in page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import g, redirect, request, url_for

from crm_platform.auth.principal import Principal
from crm_platform.db import request_session
from crm_platform.scoping import TenantScope


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Call `view(principal, scope, **arguments)`; a visitor who is not signed in is sent
    to the sign-in page (and a form posted without a session gets the same)."""

    @wraps(view)
    def wrapper(**arguments: Any) -> Any:
        principal: Principal | None = g.get("principal")
        if principal is None:
            here = request.full_path.rstrip("?")
            return redirect(url_for("web.login_form", next=here if request.method == "GET"
                                    and here != "/" else None))
        return view(principal, TenantScope(request_session(), principal.tenant_id),
                    **arguments)

    return wrapper


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site — never another host (an open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target
