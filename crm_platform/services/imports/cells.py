"""Text in spreadsheet cells: what a CSV export guards and what an import takes back.

A CSV cell starting with `=`, `+`, `-`, `@`, tab or carriage return is a formula to Excel,
LibreOffice and Google Sheets, so the export writes it with a leading apostrophe. To keep
export → edit → import exact, the guard is undone on import, and it is a bijection: a
text whose first character after any apostrophes is such a start gets one more apostrophe
(`'=x` is written `''=x`), and exactly one is taken off again. XLSX needs none of this:
its text cells are string cells, which a spreadsheet never runs.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _guarded(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """`=HYPERLINK(...)` → `'=HYPERLINK(...)`: shown as text, never run."""
    return "'" + text if _guarded(text) else text


def restore(text: str) -> str:
    """The text `neutralise` was given: one guarding apostrophe taken off."""
    return text[1:] if text.startswith("'") and _guarded(text) else text
