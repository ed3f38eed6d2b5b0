"""Daemon settings from a real ick.yaml: the retention keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.config import Settings, load_settings
from ick.errors import InputError


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "ick.yaml"
    path.write_text(text)
    return load_settings(str(path), {}, {})


def test_retention_defaults_and_values(tmp_path: Path) -> None:
    default = load_settings(None, {}, {})
    assert (default.keep_builds, default.keep_days) == (200, None)
    given = settings_from(tmp_path, "keep_builds: 10\nkeep_days: 1.5\n")
    assert (given.keep_builds, given.keep_days) == (10, 1.5)
    unlimited = settings_from(tmp_path, "keep_builds: null\n")
    assert unlimited.keep_builds is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("keep_builds: 0\n", "keep_builds: expected a whole number of at least 1, or null to "
                             "keep every build"),
        ("keep_builds: true\n", "keep_builds: expected a whole number of at least 1, or null "
                                "to keep every build"),
        ("keep_days: -1\n", "keep_days: expected a positive number of days, or null"),
        ("keep_days: soon\n", "keep_days: expected a positive number of days, or null"),
    ],
)
def test_bad_retention_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        settings_from(tmp_path, text)
    assert info.value.message == f"{tmp_path / 'ick.yaml'}: {message}"
