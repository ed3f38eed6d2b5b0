"""The controller's driver on real storage: remote workers that fall silent."""

from __future__ import annotations

import pytest

from ick.daemon import Daemon
from ick.errors import ForbiddenError, NotFoundError
from ick.model import Project
from ick.scheduler.machine import Outcome
from tests.pipelines import checked


async def test_a_silent_remote_worker_is_dropped_and_its_build_interrupted(
        services: Daemon) -> None:
    await services.resources.put_pipeline(
        checked("p", [], [{"shell": "sleep 1", "where": "host"}]))
    await services.resources.put_project(Project("proj", pipelines=["p"]))
    controller = services.controller
    worker = await controller.register("remote", token="t1")
    build = await controller.trigger("proj", {})
    item = await controller.next_work(worker, timeout=5)
    assert item is not None and item.build_id == build.id
    controller.seen(worker, 100.0)  # its last request

    assert await controller.drop_silent(now=150.0, limit=120.0) == []
    assert await controller.drop_silent(now=221.0, limit=120.0) == [worker]
    stored = await services.builds.get(build.id)
    assert stored is not None
    assert stored.state.value == "interrupted"
    assert stored.actions[0].state.value == "interrupted"
    assert stored.actions[0].message == (
        f"worker {worker} went away: not heard from for 121 s, its lease ran out")
    assert f"ick: worker {worker} went away" in services.logs.path(build.id).read_text()
    # A late report from the dropped worker changes nothing.
    assert not await controller.done(worker, build.id, 0, Outcome(0, 1.0))
    stored = await services.builds.get(build.id)
    assert stored is not None and stored.state.value == "interrupted"


async def test_local_workers_have_no_lease_and_answer_to_no_token(services: Daemon) -> None:
    controller = services.controller
    local = await controller.register("local0")
    remote = await controller.register("far", token="t1")
    controller.seen(local, 100.0)
    controller.seen(remote, 100.0)
    assert await controller.drop_silent(now=10_000.0, limit=60.0) == [remote]
    assert [w.worker for w in controller.workers()] == [local]
    for token in ("t1", "t2", ""):
        with pytest.raises(ForbiddenError) as e:
            controller.check_worker(local, token)
        assert e.value.message == f"worker {local!r} is not registered with this token"
    with pytest.raises(NotFoundError):
        controller.check_worker(remote, "t1")  # dropped: it must register again
    other = await controller.register("far", token="t1")
    controller.check_worker(other, "t1")
    with pytest.raises(ForbiddenError):
        controller.check_worker(other, "t2")
