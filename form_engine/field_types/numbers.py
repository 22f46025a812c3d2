"""Shared behaviour of the numeric types: exact decimals, precision, minimum and maximum."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from form_engine.coercion import decimal_places, parse_decimal
from form_engine.errors import Problem
from form_engine.field_types.base import (
    ORDERED,
    Coercer,
    Constant,
    FieldType,
    TypeEnv,
    check_min_max,
    reject,
)

NUMBER_OPTIONS = {
    "precision": {"type": "integer", "minimum": 0, "maximum": 10},
    "min": {"type": "number"},
    "max": {"type": "number"},
    "unit": {"$ref": "#/$defs/label"},
}
# Beyond this a number is almost certainly a typo (and would not fit NUMERIC(30, 10)).
MAGNITUDE_LIMIT = Decimal(10) ** 20


class NumberLike(FieldType):
    options: ClassVar[dict[str, Any]] = NUMBER_OPTIONS
    operators = ORDERED
    widget = "number"
    default_precision: ClassVar[int] = 10
    integer_only: ClassVar[bool] = False
    # What people type around a number that the number does not need (lenient input only).
    decorations: ClassVar[tuple[str, ...]] = ()

    def check(self, field: Mapping[str, Any]) -> Iterator[Problem]:
        yield from check_min_max(field)

    def precision(self, field: Mapping[str, Any]) -> int:
        if self.integer_only or field.get("kind") == "integer":
            return 0
        return field.get("precision", self.default_precision)

    def coercer(self, field: Mapping[str, Any], lenient: bool, env: TypeEnv) -> Coercer:
        places = self.precision(field)
        low = Decimal(str(field["min"])) if field.get("min") is not None else -MAGNITUDE_LIMIT
        high = Decimal(str(field["max"])) if field.get("max") is not None else MAGNITUDE_LIMIT
        strict_low, strict_high = field.get("min") is not None, field.get("max") is not None

        decorations = self.decorations

        def coerce(value: Any) -> Decimal | int:
            if lenient and isinstance(value, str) and decorations:
                for decoration in decorations:
                    value = value.replace(decoration, "")
            number = parse_decimal(value, lenient)
            if not number.is_finite():
                raise reject("not_a_number", value=str(value))
            if number < low:
                raise reject("too_small", limit=field["min"] if strict_low else low)
            if number > high:
                raise reject("too_large", limit=field["max"] if strict_high else high)
            if places == 0:
                if number != number.to_integral_value():
                    raise reject("not_an_integer")
                return int(number)
            exponent = number.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places and (
                    decimal_places(number.normalize()) > places):  # 1.50 has 1 place, not 2
                raise reject("too_many_decimals", limit=places)
            return number

        return coerce

    def lenient_source(self, field: Mapping[str, Any], constant: Constant
                       ) -> tuple[str, list[str]] | None:
        """Typed numbers ('1,234.50', '¥12'): read as the coercer reads them, then checked
        as a JSON decimal is."""
        if type(self).coercer is not NumberLike.coercer:
            return None
        lines = [f"v = v.replace({decoration!r}, '')" for decoration in self.decorations]
        lines += ["try:", f"    v = {constant(parse_decimal)}(v, True)",
                  "except _CoercionError:", "    return None"]
        return "v.__class__ is str", [*lines, *self.strict_source(field, constant)]

    def strict_source(self, field: Mapping[str, Any], constant: Constant) -> list[str] | None:
        """JSON integers and exact decimals (what the API parses numbers into)."""
        if type(self).coercer is not NumberLike.coercer:
            return None
        places = self.precision(field)
        low = constant(Decimal(str(field["min"])) if field.get("min") is not None
                       else -MAGNITUDE_LIMIT)
        high = constant(Decimal(str(field["max"])) if field.get("max") is not None
                        else MAGNITUDE_LIMIT)
        lines = ["if v.__class__ is int:",
                 f"    if not {low} <= v <= {high}: return None"]
        if places:
            lines.append(f"    v = {constant(Decimal)}(v)")
        lines += [f"elif v.__class__ is {constant(Decimal)}:",
                  f"    if not v.is_finite() or not {low} <= v <= {high}: return None"]
        if places:
            # Rounding to the allowed places changes nothing (1.50 fits one place); too
            # many digits to round (InvalidOperation): the coercer decides.
            quantum = constant(Decimal(1).scaleb(-places))
            lines += ["    try:", f"        if v.quantize({quantum}) != v: return None",
                      "    except ArithmeticError:", "        return None"]
        else:
            lines += ["    if v != v.to_integral_value(): return None", "    v = int(v)"]
        return [*lines, "else: return None"]

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer" if self.precision(field) == 0 else "number",
                                  "x-precision": self.precision(field)}
        schema["minimum"] = field["min"] if field.get("min") is not None else -10**20
        schema["maximum"] = field["max"] if field.get("max") is not None else 10**20
        return schema

    def display(self, field: Mapping[str, Any], value: Any, locale: str) -> str:
        if value is None:
            return ""
        places = self.precision(field)
        number = Decimal(value)
        text = f"{number:,.{places}f}" if places <= 4 else f"{number.normalize():,f}"
        return text
