"""Build workspaces (ick/worker/workspaces.py): empty at the start of every build, emptied off
the build's path afterwards and reused."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from ick.worker.workspaces import MAX_SPARES, Workspaces
from tests.polling import apoll


def test_a_workspace_starts_empty_even_where_a_leftover_was(tmp_path: Path) -> None:
    spaces = Workspaces(tmp_path / "ws")
    leftover = spaces.path(7)
    (leftover / "deep").mkdir(parents=True)
    (leftover / "deep" / "file").write_text("old")
    made = spaces.create(7)
    assert made == leftover and list(made.iterdir()) == []


def test_a_released_workspace_is_emptied_and_reused(tmp_path: Path) -> None:
    spaces = Workspaces(tmp_path / "ws")
    first = spaces.create(1)
    (first / "a" / "b").mkdir(parents=True)
    (first / "a" / "b" / "c").write_text("x")
    inode = first.stat().st_ino
    spaces.release(1)  # no background task: emptied at once
    assert not first.exists()
    second = spaces.create(2)
    assert list(second.iterdir()) == [] and second.stat().st_ino == inode


def test_spares_are_bounded(tmp_path: Path) -> None:
    spaces = Workspaces(tmp_path / "ws")
    for build_id in range(MAX_SPARES + 3):
        spaces.create(build_id)
    for build_id in range(MAX_SPARES + 3):
        spaces.release(build_id)
    assert len(list(spaces.spare_dir.iterdir())) == MAX_SPARES
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == [".spare"]


async def test_the_background_task_empties_off_the_build_path(tmp_path: Path) -> None:
    spaces = Workspaces(tmp_path / "ws")
    task = asyncio.ensure_future(spaces.run())
    try:
        await asyncio.sleep(0)
        ws = spaces.create(1)
        for i in range(200):
            (ws / f"f{i}").write_text("x")
        spaces.release(1)
        assert not ws.exists()  # out of the way at once; emptied later
        await apoll(lambda: asyncio.sleep(0, list(spaces.spare_dir.iterdir())),
                    lambda found: [p.suffix for p in found] == [""], 10,
                    lambda found: f"not emptied: {found}")
        again = spaces.create(2)
        assert list(again.iterdir()) == []
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_a_new_instance_picks_up_the_spares(tmp_path: Path) -> None:
    spaces = Workspaces(tmp_path / "ws")
    spaces.create(1)
    spaces.release(1)
    again = Workspaces(tmp_path / "ws")
    made = again.create(5)
    assert list(made.iterdir()) == [] and list(again.spare_dir.iterdir()) == []
