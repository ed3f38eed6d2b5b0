"""The worker registry: who is registered (the roster), each worker's inbox of work, its
lease (renewed by every call it makes) and the sweep that drops workers whose lease ran out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping

from ick.errors import NotFoundError
from ick.scheduler.roster import LEASE, Roster, WorkerView
from ick.scheduler.routing import Labels, WorkerInfo
from ick.scheduler.work import WorkItem
from ick.timefmt import now_iso

log = logging.getLogger(__name__)

Drop = Callable[[str, str], Awaitable[None]]  # (worker, why): unregister it
Connected = Callable[[], bool]  # is the connection of a worker's long poll still open?


class WorkerRegistry:
    def __init__(self, lease: float = LEASE) -> None:
        self.lease = lease  # seconds a remote worker may stay silent
        self._roster = Roster()
        # None in an inbox: the daemon stops, hand out nothing more.
        self._inbox: dict[str, asyncio.Queue[WorkItem | None]] = {}
        # The long polls each worker has open now, by how to tell their connections are open.
        self._polls: dict[str, list[Connected]] = {}

    def add(self, name: str, labels: Labels, slots: int, token: str | None,
            instance: str | None = None) -> WorkerInfo:
        """A new worker, under a fresh id; `token`: the id of the token a remote one registered
        with (None: a local, in-process worker, which no HTTP request can speak for)."""
        worker = f"{name}-{secrets.token_hex(4)}"
        self._inbox[worker] = asyncio.Queue()
        return self._roster.add(worker, name, labels, slots, token, time.monotonic(), now_iso(),
                                instance)

    def same(self, name: str, token: str, instance: str) -> list[str]:
        """The registrations of the remote worker `instance` (its own key) under `name` with
        the token of id `token`: itself, before it was started again."""
        return self._roster.named(name, token, instance)

    def remove(self, worker: str) -> None:
        """No request speaks for the worker any more; its inbox stays until `drop_inbox`."""
        self._roster.remove(worker)

    def drop_inbox(self, worker: str) -> None:
        """Once the machine has forgotten the worker: no work can come for it any more."""
        self._inbox.pop(worker, None)

    def check(self, worker: str, token: str) -> None:
        """An HTTP request speaks for `worker` with the token of id `token`: 404 if there is
        no such worker, 403 if it is not that token's. Renews the worker's lease."""
        self._roster.check(worker, token, time.monotonic(), now_iso())

    def seen(self, worker: str, now: float | None = None) -> None:
        """The worker was heard from (at monotonic time `now`): its lease is renewed."""
        self._roster.seen(worker, time.monotonic() if now is None else now, now_iso())

    def inbox(self, worker: str) -> asyncio.Queue[WorkItem | None]:
        inbox = self._inbox.get(worker)
        if inbox is None:
            raise NotFoundError(f"no worker {worker!r}: register again")
        return inbox

    @contextlib.contextmanager
    def polling(self, worker: str, connected: Connected | None) -> Iterator[None]:
        """While the worker's long poll waits for work (`connected`: is its connection open;
        None, a local worker's: always)."""
        if connected is None:
            yield
            return
        polls = self._polls.setdefault(worker, [])
        polls.append(connected)
        try:
            yield
        finally:
            polls.remove(connected)
            if not polls:
                del self._polls[worker]

    def gone(self, worker: str) -> bool:
        """Has every long poll the worker waits in lost its connection (the worker died while
        idle)? Work handed to it now would never be taken."""
        polls = self._polls.get(worker, [])
        return bool(polls) and not any(connected() for connected in polls)

    def hand_out(self, worker: str, item: WorkItem) -> None:
        self._inbox[worker].put_nowait(item)

    def close(self) -> None:
        """The daemon stops: every worker waiting for work is told there is none."""
        for inbox in self._inbox.values():
            inbox.put_nowait(None)

    def views(self, running: Mapping[str, Iterable[tuple[int, int]]]) -> tuple[WorkerView, ...]:
        """Every registered worker, with what `running` says it runs (worker -> (build, seq))."""
        return self._roster.views(running)

    async def drop_silent(self, now: float, limit: float, drop: Drop) -> list[str]:
        """Drop remote workers not heard from for `limit` seconds; their builds are
        interrupted (by `drop`)."""
        gone = self._roster.silent(now, limit)
        for worker, silence in gone:
            log.warning("worker %s: silent for %.0f s, dropping it", worker, silence)
            await drop(worker, f"worker {worker} went away: not heard from for "
                               f"{silence:.0f} s, its lease ran out")
        return [w for w, _ in gone]

    async def sweep(self, drop: Drop) -> None:
        """Forever: drop remote workers whose lease ran out, so their builds do not hang."""
        while True:
            await asyncio.sleep(max(0.05, self.lease / 8))
            await self.drop_silent(time.monotonic(), self.lease, drop)
