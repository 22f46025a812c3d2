"""`textarea`: several lines of text."""

from form_engine.field_types.strings import StringType


class Textarea(StringType):
    name = "textarea"
    widget = "textarea"
    default_max_length = 20_000
    multiline = True
