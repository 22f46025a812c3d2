"""The meta-schema of a template bundle (JSON Schema draft 2020-12).

A bundle is one JSON document: a manifest, and the app's pieces in the very shapes the API
takes them — form definitions, approval flows, automation rules, roles, permissions per form
and role, saved views — plus sample records. The meta-schema checks the bundle's shape;
what each piece means (a form's fields, a flow's nodes, every expression) is checked by the
engine that owns it (`templates_gallery.checks`), exactly as when a user saves it by hand.

Sample records are `{"ref", "data", "owner_role"}`. In `data`, two markers stand for what
only the installing tenant knows: `{"$ref": "c001"}` is the record whose `ref` is c001 (a
lookup), and `{"$days": -12}` is the date twelve days before the install (so a follow-up
"due in 3 days" stays due in 3 days whenever the template is installed). `owner_role`
shares the records out, in turn, among the tenant's users with that role (else the
installer owns them).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

FORMAT = 1
MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_SAMPLE_RECORDS = 5000

KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
TEXT = {"type": "object", "additionalProperties": False, "required": ["en", "zh"],
        "properties": {"en": {"type": "string", "minLength": 1, "maxLength": 2000},
                       "zh": {"type": "string", "minLength": 1, "maxLength": 2000}}}
VERSION = {"type": "string", "maxLength": 40,
           "pattern": r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$"}
PIECE = {"type": "object", "required": ["key"], "properties": {"key": KEY}}
FLOW = {"type": "object", "required": ["key", "form"], "properties": {"key": KEY, "form": KEY}}
MAX_DEPTH = 48   # nesting of objects and lists: far past any real bundle, far from recursion
SCOPE = {"enum": ["none", "own", "department", "department_tree", "all"]}

BUNDLE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Loom template bundle",
    "type": "object", "additionalProperties": False,
    "required": ["format", "manifest", "forms"],
    "properties": {
        "format": {"const": FORMAT},
        "manifest": {
            "type": "object", "additionalProperties": False,
            "required": ["key", "version", "industry", "name", "description", "app"],
            "properties": {
                "key": KEY,
                "version": VERSION,
                "industry": {"enum": ["general", "manufacturing", "education", "retail",
                                      "services", "finance", "healthcare", "real_estate",
                                      "other"]},
                "name": TEXT,
                "description": TEXT,
                "app": {"type": "object", "additionalProperties": False,
                        "required": ["key", "name"],
                        "properties": {"key": KEY, "name": TEXT}},
                # Another template whose pieces this one is built on (the sales core): they
                # are installed together, as one app.
                "extends": {"type": "object", "additionalProperties": False,
                            "required": ["key", "version"],
                            "properties": {"key": KEY, "version": VERSION}},
                # Set by composing: the pieces of this template are in the bundle already
                # (an installed or exported industry app carries the sales core's forms).
                "built_on": {"type": "object", "additionalProperties": False,
                             "required": ["key", "version"],
                             "properties": {"key": KEY, "version": VERSION}},
                "screenshots": {"type": "array", "maxItems": 8, "items": {
                    "type": "string", "pattern": r"^[a-z0-9_-]{1,80}\.png$"}},
                "exported_from": {"type": "string", "maxLength": 200},
            },
        },
        "roles": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "name"],
            "properties": {"key": KEY, "name": TEXT, "description": TEXT}}},
        "forms": {"type": "array", "minItems": 1, "maxItems": 100, "items": PIECE},
        "permissions": {"type": "object", "maxProperties": 100,
                        "propertyNames": KEY, "additionalProperties": {
                            "type": "array", "maxItems": 50, "items": {
                                "type": "object", "additionalProperties": False,
                                "required": ["role"],
                                "properties": {
                                    "role": KEY, "can_create": {"type": "boolean"},
                                    "read": SCOPE, "update": SCOPE, "delete": SCOPE,
                                    # sees the records nobody owns, and may claim them
                                    "pool": {"type": "boolean"},
                                    "hidden_fields": {"type": "array", "items": KEY,
                                                      "uniqueItems": True},
                                    "readonly_fields": {"type": "array", "items": KEY,
                                                        "uniqueItems": True}}}}},
        "flows": {"type": "array", "maxItems": 100, "items": FLOW},
        "automations": {"type": "array", "maxItems": 200, "items": FLOW},
        "views": {"type": "array", "maxItems": 200, "items": {
            "type": "object", "required": ["form", "name", "kind"],
            "properties": {"form": KEY, "roles": {"type": "array", "items": KEY,
                                                   "maxItems": 50}}}},
        # Filled by the reports issue: kept as they are, installed once reports exist.
        "reports": {"type": "array", "maxItems": 100, "items": PIECE},
        "dashboards": {"type": "array", "maxItems": 50, "items": PIECE},
        "sample_data": {"type": "object", "propertyNames": KEY, "additionalProperties": {
            "type": "array", "maxItems": MAX_SAMPLE_RECORDS, "items": {
                "type": "object", "additionalProperties": False, "required": ["data"],
                "properties": {
                    "ref": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"},
                    "owner_role": KEY,
                    "data": {"type": "object"}}}}},
    },
}

BUNDLE_VALIDATOR = Draft202012Validator(BUNDLE_SCHEMA)
