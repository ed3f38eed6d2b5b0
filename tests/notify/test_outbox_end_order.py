"""A build that ends before the outbox drained its queue (ick/notify/outbox.py end_write):
its queue and start are decided in the transaction of its end, before it, so a forge's
pending status is never stored after the build's final one (it would be sent after it and
undo it), nor a start's message after the end's; drained afterwards, they are not stored
twice."""

from __future__ import annotations

from dataclasses import replace

from ick.model import BuildState
from tests.notify.test_outbox import World, project, world  # noqa: F401
from tests.notify.test_outbox_end_write import failed, queued


async def test_an_undrained_queue_is_stored_before_the_end(world: World) -> None:  # noqa: F811
    await world.resources.put_project(project({"email": "dev@example.org",
                                               "on": ["started", "ended"]}))
    outbox = world.outbox()
    build = await queued(world)
    outbox.build_queued(build)
    outbox.build_started(replace(build, state=BuildState.RUNNING))
    end = failed(build)
    await world.builds.save(end, (0,), also=[outbox.end_write(end)])  # before any drain
    rows = await world.store.for_build(build.id)
    assert [n.event for n in sorted(rows, key=lambda n: n.id)] == ["start", "end"]
    outbox.build_finished(end)
    await outbox.drain()
    assert len(await world.store.for_build(build.id)) == 2
