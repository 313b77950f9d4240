"""The fast base64 decoder (pybase64) never accepts what binascii's strict mode refuses, and
decodes what it accepts to the same bytes: strict mode alone defines `bad_base64`."""

from __future__ import annotations

import base64
import binascii

import pybase64
from hypothesis import given
from hypothesis import strategies as st

from functions.pipeline import _b64decode

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _strict(data: bytes) -> bytes | None:
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error:
        return None


@given(st.binary(max_size=64).map(base64.b64encode) | st.lists(st.sampled_from([*ALPHABET, 10, 32, 45, 95])).map(bytes))
def test_fast_decoder_is_a_subset_of_strict_mode(data: bytes) -> None:
    try:
        fast = pybase64.b64decode(data, validate=True)
    except binascii.Error:
        fast = None
    if fast is not None:
        assert fast == _strict(data)
    try:
        assert _b64decode(data) == _strict(data)
    except binascii.Error:
        assert _strict(data) is None
