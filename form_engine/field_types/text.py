"""`text`: a single line of text (spaces folded on input)."""

from form_engine.field_types.strings import StringType


class Text(StringType):
    name = "text"
    widget = "text"
    default_max_length = 500
