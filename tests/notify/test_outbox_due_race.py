"""The outbox's look for due notifications while a send is being recorded: a row its query
read as pending just before the send was recorded is not sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ick.model import BuildState
from ick.notify.outbox import Outbox
from ick.storage.notifications import Notification, NotificationStore
from tests.notify.test_outbox import World, project, running, world  # noqa: F401
from tests.notify_servers import MailSink
from tests.polling import apoll


class HeldStore(NotificationStore):
    """A real store whose first record waits for the test, and whose second look for due
    rows reads them before that record and returns only after it (a slow reader)."""

    def __init__(self, store: NotificationStore) -> None:
        super().__init__(store.db)
        self.let_record = asyncio.Event()
        self.recorded: set[int] = set()
        self.looks = 0
        self.outbox: Outbox | None = None

    async def record(self, n: Notification) -> None:
        if not self.recorded:
            await self.let_record.wait()
        await super().record(n)
        self.recorded.add(n.id)

    async def due(self, now: str, exclude: set[int], limit: int) -> list[Notification]:
        self.looks += 1
        rows: Sequence[Notification] = await super().due(now, set(), limit + len(exclude))
        if self.looks == 2:  # read while the first send waits to be recorded
            self.let_record.set()
            outbox = self.outbox
            assert outbox is not None
            await apoll(lambda: asyncio.sleep(0, self.recorded), lambda done: bool(done)
                        and not (done & outbox._sending), 20, lambda _: "never recorded")
        return [n for n in rows if n.id not in exclude][:limit]


async def test_a_send_recorded_while_a_look_runs_is_not_sent_again(
        world: World) -> None:  # noqa: F811
    sink = MailSink().up()
    world.smtp.port = sink.port
    held = HeldStore(world.store)
    world.store = held
    try:
        await world.resources.put_project(project({"email": "dev@example.org"}))
        first = await world.finished_build("hello", BuildState.FAILED)
        outbox = world.outbox()
        held.outbox = outbox
        async with running(outbox):
            await asyncio.to_thread(sink.wait_count, 1)  # the first is out, not yet recorded
            second = await world.finished_build("hello", BuildState.SUCCEEDED)
            outbox.build_finished(second)  # a new decision: the outbox looks again
            await asyncio.to_thread(sink.wait_count, 2)
            await apoll(lambda: asyncio.sleep(0, len(held.recorded)), lambda n: n == 2, 20,
                        lambda n: f"{n} recorded")
            # and nothing more in flight: a second send of the first would be out by now
            await apoll(lambda: asyncio.sleep(0, len(outbox._sending)), lambda n: n == 0, 20,
                        lambda n: f"{n} sends in flight")
            assert held.looks >= 2
    finally:
        sink.close()
    # one mail per build: the first build's was not sent a second time
    assert sorted(m["X-Ick-Build"] for m in sink.items) == sorted([str(first.id),
                                                                   str(second.id)])
