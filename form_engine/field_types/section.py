"""`section`: a heading that groups the fields after it; holds no value."""

from form_engine.field_types.base import FieldType


class Section(FieldType):
    name = "section"
    kind = "layout"
    widget = "section"
    operators = ()
    in_subtable = False
