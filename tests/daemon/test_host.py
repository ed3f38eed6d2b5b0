"""ick/daemon/host.py: what the host needs before containers run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ick.daemon.host import prepare_nspawn
from ick.runners.mounts import fstype_at, mounts_under, umount


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: mounts a tmpfs")
def test_the_nspawn_folder_gets_a_tmpfs_once(tmp_path: Path) -> None:
    folder = tmp_path / "run" / "systemd" / "nspawn"
    prepare_nspawn(folder)
    try:
        assert fstype_at(folder) == "tmpfs"
        prepare_nspawn(folder)
        assert mounts_under(folder) == [str(folder)]
    finally:
        umount(folder)
