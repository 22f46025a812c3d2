"""A record as the parties of flows and rules see it."""

from __future__ import annotations

from typing import Any

from crm_platform.models import Record


def with_people(record: Record) -> dict[str, Any]:
    """The record's values plus its owner, creator and last updater (user fields every
    record has; a form field of the same key wins), as parties of flows and rules see
    them."""
    return {"owner": record.owner_id, "created_by": record.created_by_id,
            "updated_by": record.updated_by_id, **record.data}
