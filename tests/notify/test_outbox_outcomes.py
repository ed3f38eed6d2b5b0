"""The outbox against a real SMTP server: a cancelled build is neither broken nor fixed and
is not the outcome the next build is compared with; two rules for one address send one mail."""

from __future__ import annotations

import asyncio

from ick.model import BuildState
from ick.notify.outbox import Outbox
from ick.storage.notifications import NotifyState
from tests.notify.test_outbox import World, project, running, world  # noqa: F401
from tests.notify_servers import MailSink


async def all_sent(world: World,  # noqa: F811
                   outbox: Outbox, build_ids: list[int]) -> None:
    """Every notification of these builds (each has some) decided and sent."""
    await outbox.drain()
    for build_id in build_ids:
        await world.wait_for(build_id, lambda ns: all(n.state == NotifyState.SENT for n in ns),
                             "sent")


async def test_a_cancelled_build_is_neither_broken_nor_the_previous_outcome(
        world: World) -> None:  # noqa: F811
    sink = MailSink().up()
    world.smtp.port = sink.port
    try:
        await world.resources.put_project(project({"email": "lead@example.org", "when": "change"},
                                                  {"email": "dev@example.org"}))
        states = [BuildState.SUCCEEDED, BuildState.CANCELLED, BuildState.SUCCEEDED,
                  BuildState.FAILED, BuildState.CANCELLED, BuildState.SUCCEEDED]
        built = [await world.finished_build("hello", state) for state in states]
        async with running(world.outbox()) as outbox:
            await asyncio.to_thread(sink.wait_count, 8)
            await all_sent(world, outbox, [b.id for b in built])
    finally:
        sink.close()
    told = sorted((m["To"], m["Subject"]) for m in sink.items)
    assert told == [
        ("dev@example.org", "[ick] hello #1 succeeded"),
        ("dev@example.org", "[ick] hello #2 cancelled"),
        ("dev@example.org", "[ick] hello #3 succeeded"),
        ("dev@example.org", "[ick] hello #4 failed (broken)"),
        ("dev@example.org", "[ick] hello #5 cancelled"),
        ("dev@example.org", "[ick] hello #6 succeeded (fixed)"),
        ("lead@example.org", "[ick] hello #4 failed (broken)"),
        ("lead@example.org", "[ick] hello #6 succeeded (fixed)"),
    ]
    assert await world.builds.previous_outcome("hello", built[5].id) == BuildState.FAILED


async def test_two_rules_for_one_address_send_one_mail(world: World) -> None:  # noqa: F811
    sink = MailSink().up()
    world.smtp.port = sink.port
    try:
        await world.resources.put_project(project(
            {"email": "dev@example.org"}, {"email": "dev@example.org", "when": "failure"},
            {"email": "dev@example.org", "when": "change"}, {"email": "ops@example.org"}))
        build = await world.finished_build("hello", BuildState.FAILED)
        async with running(world.outbox()) as outbox:
            await asyncio.to_thread(sink.wait_count, 2)
            await all_sent(world, outbox, [build.id])
    finally:
        sink.close()
    assert sorted(m["To"] for m in sink.items) == ["dev@example.org", "ops@example.org"]
    assert len(await world.store.for_build(build.id)) == 2
