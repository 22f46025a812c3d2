"""Shared behaviour of reference types: a positive integer id whose existence the platform
checks through the validation context's resolver (the engine itself has no database)."""

from collections.abc import Mapping
from typing import Any, ClassVar

from form_engine.coercion import whole_number
from form_engine.field_types.base import EQUALITY, Coercer, FieldType, TypeEnv, reject

MAX_ID = 2**63 - 1


class Reference(FieldType):
    operators = EQUALITY
    target: ClassVar[str] = "record"

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        target = self.target

        def coerce(value: Any) -> int:
            if lenient:
                value = whole_number(value)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
                raise reject("bad_reference", target=target)
            return value

        return coerce

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
