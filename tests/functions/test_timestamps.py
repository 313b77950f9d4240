"""functions/timestamps.py `micros`: the Storage Write API's TIMESTAMP from a normalised timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions import timestamps


@given(st.datetimes(timezones=st.just(UTC)))
def test_micros_of_any_normalised_timestamp(moment: datetime) -> None:
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert timestamps.micros(timestamps.format_utc(moment)) == expected


@pytest.mark.parametrize(
    "value",
    ["2024-05-01T10:15:00Z", "2024-05-01T10:15:00.123456+00:00", "2024-02-30T10:15:00.000000Z",
     "2024-05-01T24:00:00.000000Z", "2024-05-01T10:15:00.12345xZ", "2024-05-01T10:15:00.\u0661\u0662\u0663\u0664\u0665\u0666Z", "", None, 17],
)  # fmt: skip
def test_micros_takes_only_the_normalised_form(value: object) -> None:
    assert timestamps.micros(value) is None
