"""ick/config.py: the settings of connections and live log streams."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.config import load_settings
from ick.errors import InputError


def test_defaults() -> None:
    settings = load_settings(None, environ={})
    assert (settings.max_connections, settings.header_timeout) == (512, 10.0)
    assert (settings.max_streams, settings.max_streams_per_session) == (256, 8)


def test_the_example_file_holds_the_defaults() -> None:
    example = Path(__file__).parent.parent / "ick.yaml.example"
    settings = load_settings(str(example), environ={})
    assert (settings.max_connections, settings.header_timeout) == (512, 10.0)
    assert (settings.max_streams, settings.max_streams_per_session) == (256, 8)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("max_connections", 0, "max_connections: expected a whole number from 1 to 1000000"),
    ("max_streams", -1, "max_streams: expected a whole number from 0 to 1000000"),
    ("max_streams_per_session", True, "max_streams_per_session: expected a whole number"),
    ("header_timeout", 0, "header_timeout: expected a number of seconds above 0"),
    ("header_timeout", "10", "header_timeout: expected a number of seconds above 0"),
])
def test_bad_values_are_refused(key: str, value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_settings(None, environ={}, overrides={key: value})


def test_values_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "ick.yaml"
    path.write_text("max_connections: 20\nheader_timeout: 0.5\nmax_streams: 3\n"
                    "max_streams_per_session: 1\n")
    settings = load_settings(str(path), environ={})
    assert (settings.max_connections, settings.header_timeout) == (20, 0.5)
    assert (settings.max_streams, settings.max_streams_per_session) == (3, 1)
