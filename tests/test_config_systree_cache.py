"""The daemon setting `systree_cache`: on disk by default, a tmpfs only when asked for
(issue 22, finding 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.config import load_settings
from ick.errors import InputError


def test_the_systree_cache_is_on_disk_unless_tmpfs_is_asked_for(tmp_path: Path) -> None:
    assert load_settings(None, {}, {}).systree_cache == "disk"
    path = tmp_path / "ick.yaml"
    path.write_text("systree_cache: tmpfs\n")
    assert load_settings(str(path), {}, {}).systree_cache == "tmpfs"


def test_another_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ick.yaml"
    path.write_text("systree_cache: ram\n")
    with pytest.raises(InputError) as info:
        load_settings(str(path), {}, {})
    assert info.value.message == f"{path}: systree_cache: expected disk or tmpfs"
