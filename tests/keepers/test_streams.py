"""ick/keepers/streams.py: live log streams are capped per owner and in all, and a stream's
place is given back when it ends, however it ends."""

from __future__ import annotations

import pytest

from ick.errors import TooManyError
from ick.keepers.streams import StreamSlots


def test_streams_are_capped_per_owner_and_in_all() -> None:
    slots = StreamSlots(total=3, per_owner=2)
    with slots.slot("session:a"), slots.slot("session:a"):
        with pytest.raises(TooManyError, match=r"for one session or token \(2, "), \
                slots.slot("session:a"):
            pass
        with slots.slot("token:b"):
            assert slots.open == 3
            with pytest.raises(TooManyError, match=r"too many live log streams open \(3, "), \
                    slots.slot("token:c"):
                pass
    assert slots.open == 0


def test_a_stream_that_fails_gives_its_place_back() -> None:
    slots = StreamSlots(total=1, per_owner=1)
    with pytest.raises(ConnectionResetError), slots.slot("session:a"):
        raise ConnectionResetError
    with slots.slot("session:a"):
        assert slots.open == 1
    assert TooManyError("x").status == 429
