"""What the header and navigation of every signed-in page show: the apps the user may use
and their unread notifications (who they are is on the principal). Read lazily: a page
that never shows a part never queries it."""

from __future__ import annotations

from functools import cached_property

from crm_platform.auth.principal import Principal
from crm_platform.db import request_session
from crm_platform.scoping import TenantScope
from crm_platform.services.workspace import home


class Shell:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.scope = TenantScope(request_session(), principal.tenant_id)

    @cached_property
    def apps(self) -> list[home.AppEntry]:
        return home.my_apps(self.scope, self.principal)

    @cached_property
    def unread(self) -> int:
        return home.unread_count(self.scope, self.principal)
