"""`url`: an http(s) web address."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from form_engine.field_types.base import reject
from form_engine.field_types.strings import StringType

URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+[^\s]*$"
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class Url(StringType):
    name = "url"
    widget = "url"
    default_max_length = 2000

    def normalize(self, text: str, field: Mapping[str, Any]) -> str:
        if _SPACE_OR_CONTROL.search(text):
            raise reject("bad_url")
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise reject("bad_url")
        return text

    def json_schema(self, field: Mapping[str, Any]) -> dict[str, Any]:
        schema = {**super().json_schema(field), "format": "uri"}
        if "pattern" in schema:
            return {**schema, "allOf": [{"pattern": URL_PATTERN}]}
        return {**schema, "pattern": URL_PATTERN}
