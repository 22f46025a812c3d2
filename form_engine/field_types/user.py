"""`user`: a user of the tenant (by id); `me` in filters means the caller."""

from form_engine.field_types.references import Reference


class User(Reference):
    name = "user"
    widget = "user"
    target = "user"
