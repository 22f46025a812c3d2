"""A record's title: what lists, links, inboxes and notifications call it.

The form's `title` template (`"{number} {customer}"`) when it has one; else the first text
field with a value; else nothing (the caller shows the record's number). Fields the
reader may not see (`hidden`) never reach a title.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from form_engine.compiled import CompiledForm

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_TITLE_TYPES = ("text", "autonumber", "email", "phone", "url")
MAX_LENGTH = 200


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | Decimal | float):
        return str(value)
    return ""


def record_title(form: CompiledForm, data: Mapping[str, Any],
                 hidden: Collection[str] = ()) -> str:
    """The title of a record holding `data`, or "" when it has none to show."""
    template = form.definition.get("title")
    if isinstance(template, str) and template:
        title = _PLACEHOLDER.sub(lambda match: "" if match.group(1) in hidden
                                 else _text(data.get(match.group(1))), template)
        title = " ".join(title.split())
        if title:
            return title[:MAX_LENGTH]
    for item in form.fields:
        if item.type in _TITLE_TYPES and item.key not in hidden:
            text = _text(data.get(item.key)).strip()
            if text:
                return text[:MAX_LENGTH]
    return ""
