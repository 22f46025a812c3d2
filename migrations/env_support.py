"""What the Alembic environment and the schema tests share."""

from __future__ import annotations

from typing import Any

from crm_platform.services.data_fields import is_runtime_index


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Per-form indexes of indexed fields are built at run time, not by migrations."""
    return not (type_ == "index" and is_runtime_index(name))
