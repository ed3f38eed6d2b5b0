"""ick/worker/instance.py: a remote worker's own key, made once and kept in its state
directory."""

from __future__ import annotations

from pathlib import Path

from ick.worker.instance import instance_key


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    key = instance_key(tmp_path)
    assert len(key) == 32 and int(key, 16) >= 0
    assert (tmp_path / "instance").stat().st_mode & 0o777 == 0o600
    assert instance_key(tmp_path) == key
    assert instance_key(tmp_path / ".." / tmp_path.name) == key
    other = tmp_path / "other"
    other.mkdir()
    assert instance_key(other) != key


def test_a_damaged_key_is_made_anew(tmp_path: Path) -> None:
    (tmp_path / "instance").write_text("not hex\n")
    key = instance_key(tmp_path)
    assert len(key) == 32 and key != "not hex"
