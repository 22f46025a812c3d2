"""A form proposed from a spreadsheet: one field per column, its type guessed from the
values under it — phone, e-mail, web address, date, money, number, a choice of the few
distinct values a column repeats, long or short text — and its label the column's name.
The designer adjusts the proposal in the builder, publishes it, and the rows go through
the import wizard like any file (`imports.wizard`), which maps the columns back by label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from form_engine.editing import new_key

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_URL = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$")
_MONEY_SIGNS = re.compile(r"^[¥￥$€£]|元$|^(CNY|RMB|USD|US\$|HK\$)\s?", re.IGNORECASE)
_MONEY_WORDS = re.compile(r"金额|价|款|费|amount|price|cost|revenue|budget|fee|total",
                          re.IGNORECASE)
MAX_CHOICES = 12      # a column repeating at most this many values is a choice
LONG_TEXT = 200


def propose_form(key: str, label: dict[str, str], headers: Sequence[str],
                 rows: Sequence[Sequence[Any]], region: str) -> dict[str, Any]:
    """A valid form definition for the sheet; every column becomes a field."""
    taken: set[str] = set()
    fields = []
    for index, header in enumerate(headers):
        values = [row[index] for row in rows if index < len(row)
                  and row[index] not in (None, "")]
        name = header.strip() or f"Column {index + 1}"
        field_key = new_key(name if re.search(r"[A-Za-z]", name) else f"column {index + 1}",
                            taken)
        taken.add(field_key)
        field = {"key": field_key, "type": "text",
                 "label": {"zh": name} if re.search(r"[\u4e00-\u9fff]", name)
                 else {"en": name}, **_guess(name, values, region)}
        fields.append(field)
    definition: dict[str, Any] = {"key": key, "label": label, "fields": fields}
    if fields:
        definition["title"] = "{" + fields[0]["key"] + "}"
    return definition


def _guess(header: str, values: list[Any], region: str) -> dict[str, Any]:
    if not values:
        return {}
    texts = [str(value).strip() for value in values]
    if all(isinstance(value, datetime | date) for value in values) or all(
            _DATE.match(text) for text in texts):
        return {"type": "date"}
    if all(_EMAIL.match(text) for text in texts):
        return {"type": "email"}
    if all(_URL.match(text) for text in texts):
        return {"type": "url"}
    if all(_is_phone(text, region) for text in texts):
        return {"type": "phone"}
    numbers = [_number(text) for text in texts]
    if all(number is not None for number in numbers) and not all(
            isinstance(value, bool) for value in values):
        if any(_MONEY_SIGNS.search(text) for text in texts) or _MONEY_WORDS.search(header):
            return {"type": "currency"}
        return {"type": "number"}
    distinct = list(dict.fromkeys(texts))
    if len(texts) >= 4 and len(distinct) <= min(MAX_CHOICES, len(texts) // 2) and all(
            len(text) <= 100 for text in distinct):
        return {"type": "select", "options": [{"value": text} for text in distinct]}
    if any(len(text) > LONG_TEXT or "\n" in text for text in texts):
        return {"type": "textarea"}
    return {}


def _is_phone(text: str, region: str) -> bool:
    digits = re.sub(r"[\s\-()]", "", text)
    if not re.fullmatch(r"\+?\d{7,15}", digits):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        return False


def _number(text: str) -> Decimal | None:
    cleaned = _MONEY_SIGNS.sub("", text).replace(",", "").replace("，", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
