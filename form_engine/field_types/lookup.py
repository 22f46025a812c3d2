"""`lookup`: a record of another form of the same app (by id); `form` names that form and
`display_field` the field shown for it."""

from typing import Any, ClassVar

from form_engine.field_types.references import Reference

KEY_PATTERN = "^[a-z][a-z0-9_]{0,62}$"


class Lookup(Reference):
    name = "lookup"
    widget = "lookup"
    target = "record"
    options: ClassVar[dict[str, Any]] = {
        "form": {"type": "string", "pattern": KEY_PATTERN},
        "display_field": {"type": "string", "pattern": KEY_PATTERN},
    }
    required_options = ("form",)
