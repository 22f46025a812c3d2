"""A tenant's own settings, for its administrators: defaults for new users and imports,
the time zone "today" is read in, and whether a duplicate the caller cannot see names its
owner."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, schemas, scope_of
from crm_platform.api.operations import operation
from crm_platform.auth.principal import Principal
from crm_platform.services.identity import tenants as service

TAGS = ("Administration",)
SETTINGS = schemas.obj({
    "default_locale": schemas.LOCALE, "default_region": schemas.REGION,
    "timezone": schemas.TIMEZONE, "show_duplicate_owner": {
        "type": "boolean", "description": "A duplicate the caller may not read names its "
                                          "owner (whom to ask); false: an administrator."}},
    ("default_locale", "default_region", "timezone", "show_duplicate_owner"))
SETTINGS_UPDATE = schemas.obj(dict(SETTINGS["properties"]),
                              minProperties=1)


def _render(tenant: Any) -> dict[str, Any]:
    return {"default_locale": tenant.default_locale, "default_region": tenant.default_region,
            "timezone": tenant.timezone, "show_duplicate_owner": tenant.show_duplicate_owner}


@api.get("/admin/settings")
@operation("This tenant's settings", tags=TAGS, responses={200: SETTINGS})
def get_settings(principal: Principal):
    return _render(service.own_settings(scope_of(principal), principal))


@api.patch("/admin/settings")
@operation("Change this tenant's settings (tenant administrators)", tags=TAGS,
           body=SETTINGS_UPDATE, responses={200: SETTINGS})
def update_settings(principal: Principal, body: dict[str, Any]):
    return _render(service.update_own_settings(scope_of(principal), principal, body))
