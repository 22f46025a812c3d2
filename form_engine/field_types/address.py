"""`address`: province / city / district / detail (import also reads one cell such as
"广东省 深圳市 南山区 科技园南区 1 号")."""

from collections.abc import Mapping
from typing import Any, ClassVar

from form_engine.field_types.base import Coercer, FieldType, TypeEnv, reject

PARTS = ("province", "city", "district", "detail")
LIMITS = {"province": 50, "city": 50, "district": 50, "detail": 500}


class Address(FieldType):
    name = "address"
    widget = "address"
    operators = ("contains", "is_empty", "not_empty")
    options: ClassVar[dict[str, Any]] = {"require_detail": {"type": "boolean"}}

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        need_detail = field.get("require_detail", False)

        def coerce(value: Any) -> dict[str, str]:
            if lenient and isinstance(value, str):
                pieces = value.split()
                value = (dict(zip(PARTS[:3], pieces[:3], strict=False)) |
                         {"detail": " ".join(pieces[3:])}) if len(pieces) >= 3 else {
                    "detail": value.strip()}
            if not isinstance(value, dict) or set(value) - set(PARTS):
                raise reject("bad_address")
            address = {}
            for part in PARTS:
                text = value.get(part, "")
                if not isinstance(text, str) or len(text) > LIMITS[part]:
                    raise reject("bad_address")
                if lenient:
                    text = text.strip()
                if text:
                    address[part] = text
            if not address or (need_detail and not address.get("detail")):
                raise reject("bad_address")
            return address

        return coerce

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object", "additionalProperties": False,
            "properties": {part: {"type": "string", "maxLength": LIMITS[part]}
                           for part in PARTS},
            # at least one part filled in
            "anyOf": [{"required": [part], "properties": {part: {"minLength": 1}}}
                      for part in PARTS]}
        if field.get("require_detail"):
            schema["required"] = ["detail"]
            schema["properties"]["detail"] = {**schema["properties"]["detail"], "minLength": 1}
        return schema

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        if not value:
            return ""
        return " ".join(value[part] for part in PARTS if value.get(part))
