"""The daemon's systree cache lives on disk unless `systree_cache: tmpfs` says otherwise:
two trees on a tmpfs held 2.2 GB of RAM (issue 22, finding 22)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ick.runners.mounts import fstype_at
from tests.services import in_process

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root mounts a tmpfs")


@needs_root
async def test_the_cache_is_on_disk_by_default(tmp_path: Path) -> None:
    async with in_process(tmp_path / "state") as daemon:
        daemon.systrees._prepare()  # what the first populate_systree does
        assert fstype_at(daemon.systrees.root) is None
        assert daemon.systrees.trees.is_dir()


@needs_root
async def test_a_tmpfs_when_the_setting_asks_for_one(tmp_path: Path) -> None:
    async with in_process(tmp_path / "state", systree_cache="tmpfs") as daemon:
        daemon.systrees._prepare()
        assert fstype_at(daemon.systrees.root) == "tmpfs"
    assert fstype_at(tmp_path / "state" / "systrees") is None  # unmounted at the end
