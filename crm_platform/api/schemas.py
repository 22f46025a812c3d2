"""JSON Schemas (draft 2020-12) of the platform API's bodies, shared by validation and
the OpenAPI document."""

from __future__ import annotations

from typing import Any

from form_engine.metaschema import META_SCHEMA


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A closed object schema: unknown fields are errors."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def text(max_length: int = 200, min_length: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, **extra}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


# Every integer a request carries is bounded here, where it is parsed, so no number reaches
# the database wider than its column: ids are BIGINT, versions INTEGER.
ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
VERSION = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
TIMESTAMP = {"type": "string", "format": "date-time"}
LOCALE = {"type": "string", "enum": ["en", "zh"]}
EMAIL = text(254, 3)
PASSWORD = text(1024, 1)
SLUG = text(63, 2, pattern="^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
KEY = text(63, 1, pattern="^[a-z][a-z0-9_]*$")
REGION = {"type": "string", "pattern": "^[A-Z]{2}$"}
TIMEZONE = {"type": "string", "minLength": 1, "maxLength": 64,
            "pattern": "^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$",
            "description": "IANA time zone, e.g. Asia/Shanghai"}

ERROR = obj({
    "error": obj({
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "array", "items": obj({
            "path": {"type": "string"}, "code": {"type": "string"},
            "message": {"type": "string"},
        }, ("path", "code", "message"))},
    }, ("code", "message", "fields")),
}, ("error",))


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    return obj({"items": {"type": "array", "items": item},
                "next_cursor": {"type": ["string", "null"]}}, ("items", "next_cursor"))


PAGE_QUERY = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 200,
              "description": "Page size (default 50)."},
    "cursor": {"type": "string", "maxLength": 200,
               "description": "`next_cursor` of the previous page."},
}

# Tenants ---------------------------------------------------------------------------------
TENANT = obj({
    "id": ID, "slug": SLUG, "name": {"type": "string"},
    "status": {"type": "string", "enum": ["active", "suspended"]},
    "default_locale": LOCALE, "default_region": REGION, "timezone": TIMEZONE,
    "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
}, ("id", "slug", "name", "status", "default_locale", "default_region", "timezone",
    "created_at"))

TENANT_CREATE = obj({
    "slug": SLUG, "name": text(),
    "default_locale": LOCALE, "default_region": REGION, "timezone": TIMEZONE,
    "admin": obj({"email": EMAIL, "password": PASSWORD, "name": text(),
                  "locale": LOCALE}, ("email", "password")),
}, ("slug", "name", "admin"))

TENANT_UPDATE = obj({
    "name": text(), "default_locale": LOCALE, "default_region": REGION, "timezone": TIMEZONE,
    "status": {"type": "string", "enum": ["active", "suspended"]},
}, minProperties=1)

# Users -----------------------------------------------------------------------------------
ROLE_REF = obj({"id": ID, "key": {"type": "string"}, "name": {"type": "string"}},
               ("id", "key", "name"))

USER = obj({
    "id": ID, "email": {"type": "string"}, "name": {"type": "string"}, "locale": LOCALE,
    "timezone": nullable(TIMEZONE), "manager_id": nullable(ID), "department_id": nullable(ID),
    "is_active": {"type": "boolean"},
    "roles": {"type": "array", "items": ROLE_REF},
    "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
}, ("id", "email", "name", "locale", "manager_id", "department_id", "is_active", "roles"))

_USER_FIELDS = {
    "email": EMAIL, "name": text(), "password": PASSWORD, "locale": LOCALE,
    "timezone": nullable(TIMEZONE),
    "manager_id": nullable(ID), "department_id": nullable(ID),
    "roles": {"type": "array", "items": ID, "uniqueItems": True, "maxItems": 100},
}
USER_CREATE = obj(_USER_FIELDS, ("email",))
USER_UPDATE = obj({**_USER_FIELDS, "is_active": {"type": "boolean"}}, minProperties=1)

ME = obj({
    "user": USER, "tenant": obj({"id": ID, "slug": SLUG, "name": {"type": "string"}}),
    "is_platform_admin": {"type": "boolean"}, "is_tenant_admin": {"type": "boolean"},
})
ME_UPDATE = obj({"name": text(), "locale": LOCALE, "timezone": nullable(TIMEZONE)},
                minProperties=1)

# Departments -----------------------------------------------------------------------------
DEPARTMENT = obj({
    "id": ID, "name": {"type": "string"}, "parent_id": nullable(ID), "head_id": nullable(ID),
    "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
}, ("id", "name", "parent_id", "head_id"))
_DEPARTMENT_FIELDS = {"name": text(), "parent_id": nullable(ID), "head_id": nullable(ID)}
DEPARTMENT_CREATE = obj(_DEPARTMENT_FIELDS, ("name",))
DEPARTMENT_UPDATE = obj(_DEPARTMENT_FIELDS, minProperties=1)

# Roles -----------------------------------------------------------------------------------
ROLE = obj({
    "id": ID, "key": KEY, "name": {"type": "string"}, "description": {"type": "string"},
    "is_system": {"type": "boolean"}, "created_at": TIMESTAMP,
}, ("id", "key", "name", "description", "is_system"))
ROLE_CREATE = obj({"key": KEY, "name": text(), "description": text(2000, 0)}, ("key", "name"))
ROLE_UPDATE = obj({"name": text(), "description": text(2000, 0)}, minProperties=1)

# Tokens ----------------------------------------------------------------------------------
TOKEN = obj({
    "id": ID, "user_id": ID, "name": {"type": "string"},
    "prefix": {"type": "string", "description": "First characters of the secret, for recognition."},
    "created_at": TIMESTAMP, "expires_at": nullable(TIMESTAMP), "last_used_at": nullable(TIMESTAMP),
    "revoked_at": nullable(TIMESTAMP),
}, ("id", "user_id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"))
TOKEN_WITH_SECRET = {**TOKEN, "properties": {**TOKEN["properties"], "token": {"type": "string"}},
                     "required": [*TOKEN["required"], "token"]}
TOKEN_CREATE = obj({"user_id": ID, "name": text(),
                    "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650}},
                   ("user_id", "name"))

AUTH_TOKEN_REQUEST = obj({
    "tenant": SLUG, "email": EMAIL, "password": PASSWORD, "name": text(),
    "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650},
}, ("tenant", "email", "password"))
AUTH_TOKEN_RESPONSE = obj({"token": {"type": "string"}, "id": ID,
                           "expires_at": nullable(TIMESTAMP)}, ("token",))

# Apps and forms ----------------------------------------------------------------------------
LABEL = {"oneOf": [text(500), obj({"en": text(500, 0), "zh": text(500, 0)}, minProperties=1)]}
APP = obj({"id": ID, "key": KEY, "name": LABEL, "description": {"anyOf": [LABEL, {"type": "null"}]},
           "created_at": TIMESTAMP}, ("id", "key", "name"))
APP_CREATE = obj({"key": KEY, "name": LABEL, "description": LABEL}, ("key", "name"))


def _rebased(schema: Any, base: str) -> Any:
    """The engine's meta-schema with its `#/$defs/…` references re-rooted inside OpenAPI."""
    if isinstance(schema, dict):
        return {key: (value.replace("#/$defs/", base) if key == "$ref" else _rebased(value, base))
                for key, value in schema.items() if key not in ("$schema", "$id")}
    if isinstance(schema, list):
        return [_rebased(item, base) for item in schema]
    return schema


FORM_DEFINITION = _rebased(META_SCHEMA, "#/components/schemas/FormDefinition/$defs/")
DEFINITION_REF = {"$ref": "#/components/schemas/FormDefinition"}
VERSION_SUMMARY = obj({"version": {"type": "integer"}, "published_at": TIMESTAMP,
                       "published_by": nullable(ID), "diff": {"type": "object"},
                       "impact": {"type": "object"}},
                      ("version", "published_at", "diff"))
FORM = obj({
    "key": KEY, "app": KEY, "draft": {"type": "object"},
    "draft_updated_at": TIMESTAMP, "published_version": nullable({"type": "integer"}),
    "published": {"anyOf": [obj({"version": {"type": "integer"}, "definition": {"type": "object"},
                                 "published_at": TIMESTAMP}), {"type": "null"}]},
    "has_unpublished_changes": {"type": "boolean"},
    "indexes": obj({"ready": {"type": "boolean"}, "pending": {
        "type": "array", "items": {"type": "string"},
        "description": "Indexes of the published version still being built (or failed and "
                       "waiting for another try)"}}, ("ready", "pending")),
}, ("key", "app", "draft", "published_version", "published", "has_unpublished_changes"))
FORM_SUMMARY = obj({"key": KEY, "label": {}, "published_version": nullable({"type": "integer"}),
                    "has_unpublished_changes": {"type": "boolean"}},
                   ("key", "published_version"))
PUBLISH_REQUEST = obj({"migrations": {"type": "object", "maxProperties": 500,
                                      "additionalProperties": obj({
                                          "drop": {"type": "boolean"}, "default": {},
                                          "convert": {"type": "boolean"},
                                          "map": {"type": "object", "additionalProperties":
                                                  {"type": "string"}}})}})
PUBLISH_RESPONSE = obj({"version": {"type": "integer"}, "diff": {"type": "object"},
                        "impact": {"type": "object"}}, ("version", "diff", "impact"))
VERSION_QUERY = {
    "version": {**VERSION, "description": "A published version (default: current)."},
    "draft": {"type": "boolean", "description": "Use the draft instead of a published version."},
}
SCHEMA_RESPONSE = obj({"version": {"anyOf": [{"type": "integer"}, {"const": "draft"}]},
                       "input": {"type": "object"}, "record": {"type": "object"},
                       "ui": {"type": "object"}}, ("version", "input", "record", "ui"))
EVALUATE_REQUEST = obj({"data": {"type": "object"},
                        "mode": {"enum": ["json", "input"], "description":
                                 "`input` reads values as people type them (2024/1/5, 1,234.50)."},
                        "draft": {"type": "boolean"},
                        "version": VERSION}, ("data",))
EVALUATE_RESPONSE = obj({"data": {"type": "object"}, "visible": {"type": "object"},
                         "required": {"type": "object"}, "read_only": {"type": "object"},
                         "errors": {"type": "array", "items": obj({
                             "path": {"type": "string"}, "code": {"type": "string"},
                             "message": {"type": "string"}})}},
                        ("data", "visible", "required", "read_only", "errors"))
