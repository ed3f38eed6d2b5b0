"""The worker registry (ick/scheduler/registry.py): ids, inboxes, leases, the sweep's choice
and the frozen views /workers answers with."""

from __future__ import annotations

import json

import pytest

from ick.errors import ForbiddenError, NotFoundError
from ick.scheduler.registry import WorkerRegistry
from ick.scheduler.roster import WorkerView


async def test_a_worker_gets_an_id_of_its_name_and_an_inbox_until_it_goes() -> None:
    registry = WorkerRegistry()
    info = registry.add("box", {"arch": ("amd64",)}, 2, token=None)
    assert info.id.startswith("box-") and info.local and info.slots == 2
    assert registry.inbox(info.id).empty()
    registry.remove(info.id)
    assert registry.views({}) == ()
    registry.drop_inbox(info.id)
    with pytest.raises(NotFoundError):
        registry.inbox(info.id)


async def test_a_remote_worker_answers_to_its_token_only() -> None:
    registry = WorkerRegistry()
    remote = registry.add("far", {}, 1, token="t1").id
    local = registry.add("near", {}, 1, token=None).id
    registry.check(remote, "t1")
    with pytest.raises(ForbiddenError):
        registry.check(remote, "t2")
    with pytest.raises(ForbiddenError):
        registry.check(local, "t1")


async def test_only_silent_remote_workers_are_dropped_and_told_why() -> None:
    registry = WorkerRegistry(lease=60.0)
    remote = registry.add("far", {}, 1, token="t1").id
    registry.add("near", {}, 1, token=None)
    registry.seen(remote, 100.0)
    dropped: list[tuple[str, str]] = []

    async def drop(worker: str, why: str) -> None:
        dropped.append((worker, why))

    assert await registry.drop_silent(150.0, 60.0, drop) == []
    assert await registry.drop_silent(161.0, 60.0, drop) == [remote]
    assert dropped == [(remote, f"worker {remote} went away: not heard from for 61 s, its "
                                "lease ran out")]


async def test_closing_tells_every_waiting_worker_there_is_no_more_work() -> None:
    registry = WorkerRegistry()
    workers = [registry.add(f"w{i}", {}, 1, None).id for i in range(2)]
    registry.close()
    assert [registry.inbox(w).get_nowait() for w in workers] == [None, None]


async def test_views_are_frozen_and_read_as_the_api_has_always_answered() -> None:
    registry = WorkerRegistry()
    worker = registry.add("box", {"kvm": ("yes",), "arch": ("amd64", "i386")}, 2, "t").id
    [view] = registry.views({worker: [(9, 1), (4, 0)], "gone": [(1, 0)]})
    assert isinstance(view, WorkerView)
    with pytest.raises(AttributeError):
        view.slots = 3  # type: ignore[misc]
    doc = view.to_json()
    assert json.dumps(doc) == json.dumps({
        "worker": worker, "name": "box", "local": False,
        "labels": {"arch": ["amd64", "i386"], "kvm": ["yes"]},
        "slots": 2,
        "running": [{"build": 4, "seq": 0}, {"build": 9, "seq": 1}],
        "last_seen": view.last_seen,
    })
