"""How JSON columns are written: orjson for speed, with exactly what simplejson wrote
before — decimals exact to the last written digit, dates as ISO text, non-string keys as
strings, integers of any size."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import simplejson
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_platform.db import dump_json, load_json, stable_json

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.text(max_size=20), st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.floats(allow_nan=False, allow_infinity=False))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5),
    st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 99)), inner, max_size=5)),
    max_leaves=30)


def _exact(value):
    """A loaded document with each decimal as its written text (1.50 is not 1.5 here)."""
    if isinstance(value, Decimal):
        return ("decimal", str(value))
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    return value


@settings(max_examples=600, deadline=None)
@given(documents)
def test_what_is_written_reads_back_as_simplejson_wrote_it(document) -> None:
    fast, reference = dump_json(document), stable_json(document)
    assert _exact(load_json(fast)) == _exact(load_json(reference))


def test_examples_a_reader_relies_on() -> None:
    written = dump_json({"amount": Decimal("1234.50"), "tiny": Decimal("1E-7"),
                         "on": date(2024, 1, 5), "at": datetime(2026, 1, 2, 3, 4, 5, 6, UTC),
                         1: "one", "name": "北京", "big": 2**70})
    assert load_json(written) == {"amount": Decimal("1234.50"), "tiny": Decimal("1E-7"),
                                  "on": "2024-01-05", "at": "2026-01-02T03:04:05.000006+00:00",
                                  "1": "one", "name": "北京", "big": 2**70}
    assert "北京" in written and str(load_json(written)["amount"]) == "1234.50"
    assert simplejson.loads(dump_json([Decimal("-0.00")]), use_decimal=True) == [
        Decimal("-0.00")]
