"""Role × form permissions of a form's records."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, form_of, schemas
from crm_platform.api.operations import operation
from crm_platform.auth.principal import Principal
from crm_platform.services.forms import permissions as service
from crm_platform.services.records.access import SCOPES

TAGS = ("Apps and forms",)
PATH = "/apps/<app>/forms/<form>/permissions"
SCOPE = {"enum": list(SCOPES)}
KEYS = {"type": "array", "items": schemas.KEY, "uniqueItems": True, "maxItems": 500}
ENTRY = schemas.obj({"role": schemas.KEY, "can_create": {"type": "boolean"}, "read": SCOPE,
                     "update": SCOPE, "delete": SCOPE, "hidden_fields": KEYS,
                     "readonly_fields": KEYS,
                     "pool": {"type": "boolean", "description":
                              "Sees the records nobody owns (the pool) and may claim them."}},
                    ("role",))
PERMISSIONS = schemas.obj({"items": {"type": "array", "items": ENTRY, "maxItems": 200}},
                          ("items",))


@api.get(PATH)
@operation("Who may do what with this form's records", tags=TAGS,
           responses={200: PERMISSIONS})
def get_permissions(principal: Principal, app: str, form: str):
    scope, row = form_of(principal, app, form)
    return {"items": service.permissions_of(scope, principal, row)}


@api.put(PATH)
@operation("Set who may do what with this form's records", tags=TAGS, body=PERMISSIONS,
           responses={200: PERMISSIONS},
           description="One entry per role: `can_create`; `read`, `update`, `delete` scopes "
                       "(none, own, department, department_tree, all); fields hidden from or "
                       "read-only for the role; `pool`: the role also sees the records "
                       "nobody owns and may claim them (changing one needs claiming it "
                       "first). Without any entry, members create records and "
                       "see and change their own; administrators and designers see all.")
def put_permissions(principal: Principal, app: str, form: str, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    return {"items": service.set_permissions(scope, principal, row, body["items"])}
