"""The field-type registry: one module per type, one explicit alphabetized table.

`FIELD_TYPES` maps a definition's `type` to its implementation; `field_type(name)` raises
`UnknownFieldType` naming the type. `extend(**types)` returns a new registry rather than
changing this one. The contract every type follows is in `form_engine.field_types.base`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from form_engine.errors import FormEngineError
from form_engine.field_types.address import Address
from form_engine.field_types.autonumber import Autonumber
from form_engine.field_types.base import FieldType, TypeEnv
from form_engine.field_types.boolean import Boolean
from form_engine.field_types.currency import Currency
from form_engine.field_types.date import Date
from form_engine.field_types.datetime import DateTime
from form_engine.field_types.department import Department
from form_engine.field_types.email import Email
from form_engine.field_types.formula import Formula
from form_engine.field_types.lookup import Lookup
from form_engine.field_types.multiselect import Multiselect
from form_engine.field_types.note import Note
from form_engine.field_types.number import Number
from form_engine.field_types.percent import Percent
from form_engine.field_types.phone import Phone
from form_engine.field_types.rating import Rating
from form_engine.field_types.rollup import Rollup
from form_engine.field_types.section import Section
from form_engine.field_types.select import Select
from form_engine.field_types.subtable import Subtable
from form_engine.field_types.text import Text
from form_engine.field_types.textarea import Textarea
from form_engine.field_types.time import Time
from form_engine.field_types.url import Url
from form_engine.field_types.user import User


class UnknownFieldType(FormEngineError):
    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(f"unknown field type {name!r}")


FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType({
    "address": Address(),
    "autonumber": Autonumber(),
    "boolean": Boolean(),
    "currency": Currency(),
    "date": Date(),
    "datetime": DateTime(),
    "department": Department(),
    "email": Email(),
    "formula": Formula(),
    "lookup": Lookup(),
    "multiselect": Multiselect(),
    "note": Note(),
    "number": Number(),
    "percent": Percent(),
    "phone": Phone(),
    "rating": Rating(),
    "rollup": Rollup(),
    "section": Section(),
    "select": Select(),
    "subtable": Subtable(),
    "text": Text(),
    "textarea": Textarea(),
    "time": Time(),
    "url": Url(),
    "user": User(),
})


def field_type(name: object, registry: Mapping[str, FieldType] = FIELD_TYPES) -> FieldType:
    try:
        return registry[name]  # type: ignore[index]
    except (KeyError, TypeError):
        raise UnknownFieldType(name) from None


def extend(registry: Mapping[str, FieldType] = FIELD_TYPES, **types: FieldType
           ) -> Mapping[str, FieldType]:
    """A new registry with `types` added or replaced; the original is untouched."""
    return MappingProxyType({**registry, **types})


# Types whose value is the id of something else (a user, a department, another record).
REFERENCE_TYPES = frozenset({"user", "department", "lookup"})

__all__ = ["FIELD_TYPES", "REFERENCE_TYPES", "FieldType", "TypeEnv", "UnknownFieldType",
           "extend", "field_type"]
