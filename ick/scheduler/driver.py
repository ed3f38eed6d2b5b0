"""The controller's async driver: feeds events to the state machine, persists, then acts."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any, Protocol

from ick.errors import ConflictError, NotFoundError
from ick.model import ActionRecord, Build, BuildState
from ick.scheduler.machine import (
    Decision,
    Dispatch,
    Finished,
    Kill,
    Outcome,
    RunningAction,
    Save,
    Scheduler,
)
from ick.scheduler.plan import plan_build
from ick.scheduler.roster import LEASE, Roster
from ick.scheduler.routing import Labels
from ick.scheduler.work import WorkItem
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.timefmt import now_iso

log = logging.getLogger(__name__)


class BuildListener(Protocol):
    """Told when a build starts (its first action is handed out) and when it ends.

    Called inside the controller's transition: a listener only takes note and returns.
    """

    def build_started(self, build: Build) -> None: ...

    def build_finished(self, build: Build) -> None: ...


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    """Wait for `event`, at most `timeout` seconds: did it happen?"""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


class Controller:
    """Owns the queue and the running builds; workers talk to it through `WorkSource`."""

    def __init__(self, builds: BuildStore, resources: ResourceStore, logs: LogStore,
                 listeners: Sequence[BuildListener] = (), lease: float = LEASE) -> None:
        self._builds = builds
        self.lease = lease  # seconds a remote worker may stay silent
        self._resources = resources
        self._logs = logs
        self._listeners = tuple(listeners)
        self._machine = Scheduler()
        self._lock = asyncio.Lock()
        # None in an inbox: the daemon stops, hand out nothing more.
        self._inbox: dict[str, asyncio.Queue[WorkItem | None]] = {}
        self._cancel: dict[int, asyncio.Event] = {}
        self._stopping = False
        self._finished_count = 0
        self._roster = Roster()

    # start and stop -------------------------------------------------------

    async def recover(self) -> list[int]:
        """After a crash: running builds become interrupted, queued ones are queued again.

        Returns the ids of the builds that were interrupted, so their leftovers can be killed.
        """
        now = now_iso()
        interrupted = []
        for build in await self._builds.in_state(BuildState.RUNNING):
            self._logs.open(build.id)
            self._logs.append(build.id, b"ick: the daemon stopped while this build ran\n")
            async with self._lock:
                await self._apply(self._machine.recovered_running(build, now))
            interrupted.append(build.id)
            log.warning("build %d: interrupted by a daemon restart", build.id)
        for build in await self._builds.in_state(BuildState.QUEUED):
            self._logs.open(build.id)
            async with self._lock:
                await self._apply(self._machine.enqueue(build, now))
        return interrupted

    async def shutdown(self) -> None:
        """Interrupt every running build (persisted first), then tell its worker to stop."""
        self._stopping = True
        async with self._lock:
            await self._apply(self._machine.shutdown(now_iso()))
        for inbox in self._inbox.values():
            inbox.put_nowait(None)

    # views ----------------------------------------------------------------

    def running_action(self, build_id: int) -> RunningAction | None:
        return self._machine.running_action(build_id)

    def busy(self) -> bool:
        return self._machine.busy()

    def activity(self) -> int:
        """A number that changes whenever a build ends."""
        return self._finished_count

    def waiting(self, build_id: int) -> str | None:
        """Why a queued build waits although workers may be idle ("no worker has arch=x")."""
        return self._machine.waiting(build_id)

    def workers(self) -> list[dict[str, object]]:
        """Every registered worker, its labels and slots, what it runs, when it was last seen."""
        running: dict[str, list[tuple[int, int]]] = {}
        for build_id in self._machine.running_ids():
            run = self._machine.running_action(build_id)
            if run is not None:
                running.setdefault(run.worker, []).append((build_id, run.seq))
        return self._roster.to_json(running)

    # users' requests ------------------------------------------------------

    async def trigger(self, project_name: str, overrides: dict[str, Any], *,
                      ick_trigger: str = "api", check: bool = True) -> Build:
        """Queue a build; `ick_trigger` (a build parameter) says what asked for it. With
        `check`, a parameter the project does not know is refused (see plan_build)."""
        project = await self._resources.project(project_name)
        if project is None:
            raise NotFoundError(f"no project {project_name!r}")
        pipelines = {name: await self._resources.pipeline(name) for name in project.pipelines}
        plan = plan_build(project, pipelines, overrides, ick_trigger=ick_trigger, check=check)
        now = now_iso()
        build = await self._builds.create(project.name, plan.parameters, project.concurrent,
                                          plan.actions, now)
        self._logs.open(build.id)
        log.info("build %d: queued, project %s number %d", build.id, build.project, build.number)
        async with self._lock:
            await self._apply(self._machine.enqueue(build, now))
        return build

    async def rebuild(self, build_id: int) -> Build:
        """Queue a new build of the same project with the same parameters."""
        old = await self._builds.get(build_id)
        if old is None:
            raise NotFoundError(f"no build {build_id}")
        overrides = {k: v for k, v in old.parameters.items() if k != "ick_trigger"}
        # Unchecked: the project may have dropped a parameter since; it ran with it then.
        return await self.trigger(old.project, overrides, ick_trigger="rebuild", check=False)

    async def cancel(self, build_id: int) -> Build:
        build = await self._builds.get(build_id)
        if build is None:
            raise NotFoundError(f"no build {build_id}")
        if build.state.finished:
            raise ConflictError(f"build {build_id} has already ended ({build.state.value})")
        async with self._lock:
            await self._apply(self._machine.cancel(build_id, now_iso()))
        return build

    # the work protocol ----------------------------------------------------

    async def register(self, name: str, labels: Labels | None = None, slots: int = 1,
                       token: str | None = None) -> str:
        """A new worker; `token` is the id of the token a remote one registered with (None:
        a local, in-process worker, which no HTTP request can speak for)."""
        worker = f"{name}-{secrets.token_hex(4)}"
        self._inbox[worker] = asyncio.Queue()
        info = self._roster.add(worker, name, labels or {}, slots, token, time.monotonic(),
                                now_iso())
        async with self._lock:
            await self._apply(self._machine.add_worker(worker, info))
        log.info("worker %s registered (%s, %d slots)", worker,
                 "local" if token is None else "remote", slots)
        return worker

    def check_worker(self, worker: str, token: str) -> None:
        """An HTTP request speaks for `worker` with the token of id `token`: 404 if there is
        no such worker, 403 if it is not that token's (local workers are no token's). Renews
        the worker's lease."""
        self._roster.check(worker, token, time.monotonic(), now_iso())

    def seen(self, worker: str, now: float) -> None:
        """The worker was heard from at monotonic time `now` (renews its lease)."""
        self._roster.seen(worker, now, now_iso())

    async def drop_silent(self, now: float, limit: float) -> list[str]:
        """Unregister remote workers not seen for `limit` seconds: their builds are interrupted."""
        gone = self._roster.silent(now, limit)
        for worker, silence in gone:
            log.warning("worker %s: silent for %.0f s, dropping it", worker, silence)
            await self.unregister(worker, f"worker {worker} went away: not heard from for "
                                          f"{silence:.0f} s, its lease ran out")
        return [w for w, _ in gone]

    async def deregister(self, worker: str) -> None:
        """The worker stops (it has handed back or finished what it ran)."""
        log.info("worker %s deregistered", worker)
        await self.unregister(worker, f"worker {worker} stopped")

    async def hand_back(self, worker: str, build_id: int, seq: int) -> None:
        """A stopping worker gives back the action it runs: the build is queued again and
        starts over on another worker, and its log says so."""
        run = self._machine.running_action(build_id)
        if run is None or run.worker != worker or run.seq != seq:
            return
        self._logs.append(build_id, (
            f"ick: worker {worker} stopped and handed back action {seq + 1}: the build is "
            "queued again and runs from its first action on another worker\n").encode())
        log.warning("build %d: handed back by worker %s, queued again", build_id, worker)
        async with self._lock:
            await self._apply(self._machine.hand_back(build_id, seq, now_iso()))

    async def unregister(self, worker: str, why: str = "the worker went away") -> None:
        self._roster.remove(worker)
        for build_id in self._machine.running_ids():
            run = self._machine.running_action(build_id)
            if run is not None and run.worker == worker:
                self._logs.append(build_id, f"ick: {why}\n".encode())
        async with self._lock:
            await self._apply(self._machine.remove_worker(worker, now_iso(), why))
        self._inbox.pop(worker, None)

    async def next_work(self, worker_id: str, timeout: float) -> WorkItem | None:
        inbox = self._inbox.get(worker_id)
        if inbox is None:
            raise NotFoundError(f"no worker {worker_id!r}: register again")
        self._roster.seen(worker_id, time.monotonic(), now_iso())
        if self._stopping:
            # Nothing more is handed out; wait out the poll rather than have a worker spin.
            await asyncio.sleep(timeout)
            return None
        if inbox.empty():
            async with self._lock:
                await self._apply(self._machine.worker_ready(worker_id, now_iso()))
        try:
            async with asyncio.timeout(timeout):
                return await inbox.get()
        except TimeoutError:
            return None

    def output(self, worker_id: str, build_id: int, seq: int, data: bytes) -> None:
        run = self._machine.running_action(build_id)
        if run is not None and run.worker == worker_id and run.seq == seq:
            self._logs.append(build_id, data, stream=True)

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome) -> bool:
        run = self._machine.running_action(build_id)
        if run is None or run.worker != worker_id:
            return False
        if seq != run.seq:
            return True  # a late or confused report: the machine would ignore it too
        async with self._lock:
            unwritten = self._logs.failure(build_id)
            if unwritten is not None:
                await self._apply(self._machine.log_failed(build_id, unwritten))
            if outcome.message and (outcome.exit_code != 0 or outcome.timed_out):
                self._logs.append(build_id, f"ick: {outcome.message}\n".encode())
            decisions = self._machine.action_exited(build_id, seq, outcome, now_iso())
            self._logs.append(build_id, _footer(outcome))
            await self._apply(decisions)
        return self._machine.is_running(build_id)

    async def wait_cancel(self, worker_id: str, build_id: int) -> None:
        if not self._machine.is_running(build_id):
            return
        await self._cancel.setdefault(build_id, asyncio.Event()).wait()

    async def wait_cancel_for(self, worker_id: str, build_id: int, timeout: float) -> bool:
        """Like wait_cancel, bounded (for long polls): True if the build is to be stopped."""
        if not self._machine.is_running(build_id):
            return True
        return await _wait(self._cancel.setdefault(build_id, asyncio.Event()), timeout)

    # acting on decisions --------------------------------------------------

    async def _apply(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, Save):
                await self._builds.save(decision.build, decision.seqs)
            elif isinstance(decision, Dispatch):
                self._dispatch(decision)
            elif isinstance(decision, Kill):
                log.info("build %d: stopping its running action", decision.build.id)
                self._cancel.setdefault(decision.build.id, asyncio.Event()).set()
            elif isinstance(decision, Finished):
                self._finished(decision.build)

    def _dispatch(self, decision: Dispatch) -> None:
        build, seq = decision.build, decision.seq
        if seq == 0:
            for listener in self._listeners:
                listener.build_started(build)
        action = build.actions[seq]
        self._logs.append(build.id, _header(build, action, seq))
        item = WorkItem(
            build_id=build.id, project=build.project, number=build.number, seq=seq,
            total=len(build.actions), action=action.spec, parameters=build.parameters,
        )
        self._inbox[decision.worker].put_nowait(item)

    def _finished(self, build: Build) -> None:
        log.info("build %d: %s", build.id, build.state.value)
        self._logs.append(build.id, f"ick: build {build.id} {build.state.value}\n".encode())
        self._logs.close(build.id)
        self._finished_count += 1
        self._cancel.pop(build.id, None)
        for listener in self._listeners:
            listener.build_finished(build)


def _header(build: Build, action: ActionRecord, seq: int) -> bytes:
    return (
        f"==== [{seq + 1}/{len(build.actions)}] pipeline {action.pipeline}, "
        f"action {action.index + 1}: {action.kind} (where: {action.where})\n"
    ).encode()


def _footer(outcome: Outcome) -> bytes:
    code = "none" if outcome.exit_code is None else str(outcome.exit_code)
    return f"---- exit code {code}, {outcome.duration or 0:.2f} s\n".encode()
