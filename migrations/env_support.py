"""What the Alembic environment and the schema tests share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_platform.models.keys import exists_on
from crm_platform.services.storage.data_fields import is_runtime_index


def include_object_on(dialect: str) -> Callable[..., bool]:
    """What autogenerate compares on `dialect`: not the per-form indexes of indexed fields
    (built at run time, not by migrations), and only the constraints that exist there
    (references hold the tenant on PostgreSQL only: models/keys.py)."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                       compare_to: Any) -> bool:
        if type_ == "index" and is_runtime_index(name):
            return False
        return reflected or type_ != "foreign_key_constraint" or exists_on(obj, dialect)

    return include_object
