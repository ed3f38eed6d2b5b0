"""ick/daemon/supervise.py: a background task that fails is logged and started again; it
never ends the task group (the daemon) it runs in."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ick.daemon.supervise import supervised


async def test_a_failing_task_is_logged_and_started_again(
        caplog: pytest.LogCaptureFixture) -> None:
    runs = 0
    third = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise OSError(24, "Too many open files")
        third.set()
        await asyncio.Event().wait()  # then runs as a background task does: forever

    with caplog.at_level(logging.INFO, logger="ick.daemon.supervise"):
        async with asyncio.TaskGroup() as group:
            task = group.create_task(supervised("trim", flaky, pause=0.01))
            neighbour = group.create_task(asyncio.Event().wait())
            async with asyncio.timeout(10):
                await third.wait()
            # The group was not torn down by the failures: its other task still runs.
            assert not neighbour.done()
            task.cancel()
            neighbour.cancel()
    assert runs == 3
    failures = [r for r in caplog.records if r.name == "ick.daemon.supervise"]
    assert len(failures) == 2
    # The traceback once; the same failure again in one line.
    assert failures[0].exc_info is not None
    assert "background task trim failed" in failures[0].getMessage()
    assert failures[1].exc_info is None
    assert "failed again (OSError: [Errno 24] Too many open files)" in failures[1].getMessage()


async def test_a_task_that_returns_is_not_started_again() -> None:
    runs = 0

    async def once() -> None:
        nonlocal runs
        runs += 1

    async with asyncio.timeout(10):
        await supervised("once", once, pause=0.01)
    assert runs == 1
