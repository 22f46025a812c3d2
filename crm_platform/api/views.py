"""Saved views of a form's records (lists and kanban boards), personal or shared."""

from __future__ import annotations

from typing import Any

from crm_platform.api import api, form_of, schemas
from crm_platform.api.operations import operation
from crm_platform.auth.principal import Principal
from crm_platform.services.records import views as service

TAGS = ("Records",)
PATH = "/apps/<app>/forms/<form>/views"
ONE = PATH + "/<int:view_id>"
BODY = {key: value for key, value in service.VIEW_SCHEMA.items()
        if key not in ("$schema", "title")}
VIEW = schemas.obj({**BODY["properties"], "id": schemas.ID, "form": schemas.KEY,
                    "owner": schemas.ID, "created_at": schemas.TIMESTAMP,
                    "updated_at": schemas.TIMESTAMP},
                   ("id", "form", "owner", "name", "kind", "visibility", "roles"))
VIEWS = schemas.obj({"items": {"type": "array", "items": VIEW}}, ("items",))
DESCRIPTION = ("A list view keeps `columns`, `sort`, `filter` (the filter language) and "
               "`search`; a kanban view also `group_by` (a select field) and `total` (a "
               "money or number field). `visibility`: personal (the default), roles (with "
               "`roles`) or everyone; sharing needs a designer. Fields are checked against "
               "the form as its author sees it; a reader sees no more than their own list.")


@api.get(PATH)
@operation("The saved views of a form you may use", tags=TAGS, responses={200: VIEWS})
def list_views(principal: Principal, app: str, form: str):
    scope, row = form_of(principal, app, form)
    return {"items": [service.render_view(view, row.key)
                      for view in service.visible_views(scope, principal, row)]}


@api.post(PATH)
@operation("Save a view", tags=TAGS, body=BODY, responses={201: VIEW},
           description=DESCRIPTION)
def create_view(principal: Principal, app: str, form: str, body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    return service.render_view(service.create_view(scope, principal, row, body), row.key), 201


@api.get(ONE)
@operation("One saved view", tags=TAGS, responses={200: VIEW})
def get_view(principal: Principal, app: str, form: str, view_id: int):
    scope, row = form_of(principal, app, form)
    return service.render_view(service.get_view(scope, principal, row, view_id), row.key)


@api.put(ONE)
@operation("Replace a saved view", tags=TAGS, body=BODY, responses={200: VIEW},
           description=DESCRIPTION)
def update_view(principal: Principal, app: str, form: str, view_id: int,
                body: dict[str, Any]):
    scope, row = form_of(principal, app, form)
    return service.render_view(service.update_view(scope, principal, row, view_id, body),
                               row.key)


@api.delete(ONE)
@operation("Delete a saved view", tags=TAGS, responses={204: None})
def delete_view(principal: Principal, app: str, form: str, view_id: int):
    scope, row = form_of(principal, app, form)
    service.delete_view(scope, principal, row, view_id)
    return "", 204
