"""`note`: explanatory text shown in the form (`text`); holds no value."""

from typing import Any, ClassVar

from form_engine.field_types.base import FieldType


class Note(FieldType):
    name = "note"
    kind = "layout"
    widget = "note"
    operators = ()
    in_subtable = False
    options: ClassVar[dict[str, Any]] = {"text": {"$ref": "#/$defs/label"}}
