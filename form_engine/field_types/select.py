"""`select`: one of the options (import also accepts an option's label)."""

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from form_engine.errors import Problem
from form_engine.field_types.base import (
    EQUALITY,
    Coercer,
    Constant,
    FieldType,
    TypeEnv,
    reject,
)
from form_engine.field_types.choices import (
    OPTIONS,
    check_options,
    option_label,
    option_values,
    resolver,
)


class Select(FieldType):
    name = "select"
    widget = "select"
    operators = EQUALITY
    options: ClassVar[dict[str, Any]] = OPTIONS
    required_options = ("options",)

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        return check_options(field)

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        table = resolver(field, lenient)

        def coerce(value: Any) -> str:
            if not isinstance(value, str):
                raise reject("wrong_type", expected="text")
            found = table.get(value.strip() if lenient else value)
            if found is None:
                raise reject("not_an_option", value=value)
            return found

        return coerce

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        values = constant(frozenset(option_values(field)))
        return [f"if v.__class__ is not str or v not in {values}: return None"]

    def lenient_source(self, field: Mapping[str, Any], constant: Constant
                       ) -> tuple[str, list[str]] | None:
        if type(self).coercer is not Select.coercer:
            return None
        table = constant(resolver(field, lenient=True))  # values and labels -> values
        return "v.__class__ is str", [f"v = {table}.get(v.strip())",
                                      "if v is None: return None"]

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "enum": option_values(field)}

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        return "" if value is None else option_label(field, value, locale)
