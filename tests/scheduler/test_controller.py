"""The controller's driver on real storage: remote workers that fall silent."""

from __future__ import annotations

from pathlib import Path

from ick.config import Settings
from ick.daemon import open_daemon
from ick.model import Pipeline, Project
from ick.scheduler.machine import Outcome


async def test_a_silent_remote_worker_is_dropped_and_its_build_interrupted(
        tmp_path: Path) -> None:
    async with open_daemon(Settings(state_dir=tmp_path / "state", workers=0)) as svc:
        await svc.resources.put_pipeline(
            Pipeline("p", [], [{"shell": "sleep 1", "where": "host"}]))
        await svc.resources.put_project(Project("proj", pipelines=["p"]))
        controller = svc.controller
        worker = await controller.register("remote")
        controller.seen(worker, now=100.0)
        build = await controller.trigger("proj", {})
        item = await controller.next_work(worker, timeout=5)
        assert item is not None and item.build_id == build.id

        assert await controller.drop_silent(now=150.0, limit=120.0) == []
        assert await controller.drop_silent(now=221.0, limit=120.0) == [worker]
        stored = await svc.builds.get(build.id)
        assert stored is not None
        assert stored.state.value == "interrupted"
        assert stored.actions[0].state.value == "interrupted"
        assert stored.actions[0].message == "the worker went away"
        # A late report from the dropped worker changes nothing.
        assert not await controller.done(worker, build.id, 0, Outcome(0, 1.0))
        stored = await svc.builds.get(build.id)
        assert stored is not None and stored.state.value == "interrupted"
