"""COPY text for PostgreSQL imports: every value Loom writes, escaped as COPY reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm_platform.services.records.bulk_insert import Prepared, copy_text

WHEN = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


def test_copy_text_writes_each_kind_of_value_as_copy_reads_it() -> None:
    rows = Prepared("records", ["id", "data", "locked", "owner_id", "amount", "at"], [
        [1, '{"note": "a\\tb"}', False, None, Decimal("12.50"), WHEN],
        [2, "line one\nline two\r\\end", True, 7, Decimal("-0.001"), WHEN],
    ])
    assert copy_text(rows).split("\n") == [
        '1\t{"note": "a\\\\tb"}\tf\t\\N\t12.50\t2026-12-02T08:30:00+00:00',
        "2\tline one\\nline two\\r\\\\end\tt\t7\t-0.001\t2026-12-02T08:30:00+00:00",
        "",
    ]


def test_a_value_repeated_from_the_row_before_is_written_the_same() -> None:
    shared = "tab\there"
    rows = Prepared("t", ["a", "b"], [[shared, None], [shared, 3], ["other", 3], [shared, None]])
    assert copy_text(rows).split("\n")[:4] == [
        "tab\\there\t\\N", "tab\\there\t3", "other\t3", "tab\\there\t\\N"]


@pytest.mark.parametrize("value", [1.5, datetime(2026, 1, 1), b"bytes", [1]])
def test_a_value_with_no_exact_copy_text_is_refused(value) -> None:
    with pytest.raises(TypeError, match="records"):
        copy_text(Prepared("records", ["x"], [[value]]))
