"""`department`: a department of the tenant (by id)."""

from form_engine.field_types.references import Reference


class Department(Reference):
    name = "department"
    widget = "department"
    target = "department"
