"""The meta-schema of form definitions (JSON Schema draft 2020-12), built from the registry
so each field type's own options are part of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from form_engine.field_types import FIELD_TYPES, FieldType

KEY = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
LABEL = {"oneOf": [
    {"type": "string", "maxLength": 500},
    {"type": "object", "minProperties": 1, "additionalProperties": False,
     "properties": {"en": {"type": "string", "maxLength": 500},
                    "zh": {"type": "string", "maxLength": 500}}},
]}
EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 2000}

LAYOUT_OPTIONS = {
    "key": KEY,
    "type": {"type": "string"},
    "label": {"$ref": "#/$defs/label"},
    "help": {"$ref": "#/$defs/label"},
    "visible_if": EXPRESSION,
}
VALUE_OPTIONS = {
    **LAYOUT_OPTIONS,
    "placeholder": {"$ref": "#/$defs/label"},
    "required": {"type": "boolean"},
    "unique": {"type": "boolean"},
    "indexed": {"type": "boolean"},
    "read_only": {"type": "boolean"},
    "default": {},
    "default_expression": EXPRESSION,
    "required_if": EXPRESSION,
    "readonly_if": EXPRESSION,
}
# Computed fields are filled by the engine: no input options.
COMPUTED_OPTIONS = {key: value for key, value in VALUE_OPTIONS.items()
                    if key not in ("placeholder", "required", "default", "default_expression",
                                   "required_if", "readonly_if", "read_only")}

COMMON_BY_KIND = {"value": VALUE_OPTIONS, "computed": COMPUTED_OPTIONS, "layout": LAYOUT_OPTIONS}


def field_options(kind: FieldType) -> dict[str, Any]:
    """Every option a field of this type may have."""
    return {**COMMON_BY_KIND[kind.kind], **kind.options}


def _type_branch(name: str, kind: FieldType) -> dict[str, Any]:
    return {
        "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
        "then": {"properties": field_options(kind), "additionalProperties": False,
                 "required": ["key", "type", *kind.required_options]},
    }


def build_meta_schema(registry: Mapping[str, FieldType] = FIELD_TYPES) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://loom.example/schemas/form-definition.json",
        "title": "Loom form definition",
        "type": "object",
        "required": ["key", "fields"],
        "additionalProperties": False,
        "properties": {
            "key": KEY,
            "label": {"$ref": "#/$defs/label"},
            "description": {"$ref": "#/$defs/label"},
            "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}, "minItems": 1,
                       "maxItems": 500},
            "rules": {"type": "array", "maxItems": 200, "items": {
                "type": "object", "additionalProperties": False,
                "required": ["key", "error_if", "message"],
                "properties": {"key": KEY, "error_if": EXPRESSION, "field": KEY,
                               "message": {"$ref": "#/$defs/label"}}}},
            "layout": {"type": "array", "maxItems": 100, "items": {
                "type": "object", "additionalProperties": False, "required": ["fields"],
                "properties": {"section": {"$ref": "#/$defs/label"},
                               "columns": {"type": "integer", "minimum": 1, "maximum": 4},
                               "fields": {"type": "array", "items": KEY}}}},
            "title": {"type": "string", "maxLength": 200},
            "dedup": {"type": "array", "maxItems": 10, "items": {
                "type": "array", "items": KEY, "minItems": 1, "maxItems": 5,
                "uniqueItems": True}},
        },
        "$defs": {
            "label": LABEL,
            "field": {
                "type": "object",
                "required": ["key", "type"],
                "properties": {"key": KEY, "type": {"enum": sorted(registry)}},
                "allOf": [_type_branch(name, kind) for name, kind in sorted(registry.items())],
            },
        },
    }


META_SCHEMA = build_meta_schema()
