"""The controller's async driver: feeds events to the state machine, persists, then acts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ick.errors import ConflictError, InputError, NotFoundError
from ick.model import ActionRecord, Build, BuildState, action_kind
from ick.scheduler.machine import Decision, Dispatch, Finished, Kill, Outcome, Save, Scheduler
from ick.scheduler.roster import LEASE, Roster
from ick.scheduler.routing import Labels, merge_requirements
from ick.scheduler.work import WorkItem
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.timefmt import now_iso

log = logging.getLogger(__name__)

BuildListener = Callable[[Build], None]
T = TypeVar("T")


class Controller:
    """Owns the queue and the running builds; workers talk to it through `WorkSource`."""

    def __init__(self, builds: BuildStore, resources: ResourceStore, logs: LogStore,
                 lease: float = LEASE) -> None:
        self.builds = builds
        self.lease = lease  # seconds a remote worker may stay silent
        self.resources = resources
        self.logs = logs
        self.machine = Scheduler()
        self.finished_listeners: list[BuildListener] = []
        self.started_listeners: list[BuildListener] = []
        self._lock = asyncio.Lock()
        self._inbox: dict[str, asyncio.Queue[WorkItem]] = {}
        self._cancel: dict[int, asyncio.Event] = {}
        self._stopping = False
        self._finished_count = 0
        self._stopped = asyncio.Event()
        self.roster = Roster()

    # start and stop -------------------------------------------------------

    async def recover(self) -> list[int]:
        """After a crash: running builds become interrupted, queued ones are queued again.

        Returns the ids of the builds that were interrupted, so their leftovers can be killed.
        """
        now = now_iso()
        interrupted = []
        for build in await self.builds.in_state(BuildState.RUNNING):
            self.logs.open(build.id)
            self.logs.append(build.id, b"ick: the daemon stopped while this build ran\n")
            async with self._lock:
                await self._apply(self.machine.recovered_running(build, now))
            interrupted.append(build.id)
            log.warning("build %d: interrupted by a daemon restart", build.id)
        for build in await self.builds.in_state(BuildState.QUEUED):
            self.logs.open(build.id)
            async with self._lock:
                await self._apply(self.machine.enqueue(build, now))
        return interrupted

    async def shutdown(self) -> None:
        """Interrupt every running build (persisted first), then tell its worker to stop."""
        self._stopping = True
        self._stopped.set()
        async with self._lock:
            await self._apply(self.machine.shutdown(now_iso()))

    # users' requests ------------------------------------------------------

    async def trigger(self, project_name: str, overrides: dict[str, Any]) -> Build:
        project = await self.resources.project(project_name)
        if project is None:
            raise NotFoundError(f"no project {project_name!r}")
        parameters = {**project.parameters, **overrides}
        actions: list[ActionRecord] = []
        for pipeline_name in project.pipelines:
            pipeline = await self.resources.pipeline(pipeline_name)
            if pipeline is None:
                raise ConflictError(
                    f"project {project_name!r} names pipeline {pipeline_name!r}, "
                    "which does not exist"
                )
            missing = [p for p in pipeline.parameters if p not in parameters]
            if missing:
                raise InputError(
                    f"pipeline {pipeline_name!r} requires parameter {missing[0]!r}, "
                    f"which project {project_name!r} does not give"
                )
            for index, spec in enumerate(pipeline.actions):
                # Every level's `worker:` restricts where the build runs; each action carries
                # them all, so routing needs only the build (and survives a restart).
                needs = merge_requirements(
                    (f"project {project.name!r}", project.worker),
                    (f"pipeline {pipeline_name!r}", pipeline.worker),
                    (f"action {index + 1} of pipeline {pipeline_name!r}", spec.get("worker")),
                )
                if needs:
                    spec = {**spec, "worker": needs}
                actions.append(ActionRecord(
                    pipeline=pipeline_name, index=index, kind=action_kind(spec),
                    where=str(spec.get("where", "host")), spec=spec,
                ))
        merge_requirements(*((f"action {a.index + 1} of pipeline {a.pipeline!r}",
                              a.spec.get("worker")) for a in actions))
        now = now_iso()
        build = await self.builds.create(project.name, parameters, project.concurrent, actions, now)
        self.logs.open(build.id)
        log.info("build %d: queued, project %s number %d", build.id, build.project, build.number)
        async with self._lock:
            await self._apply(self.machine.enqueue(build, now))
        return build

    async def cancel(self, build_id: int) -> Build:
        build = await self.builds.get(build_id)
        if build is None:
            raise NotFoundError(f"no build {build_id}")
        if build.state.finished:
            raise ConflictError(f"build {build_id} has already ended ({build.state.value})")
        async with self._lock:
            await self._apply(self.machine.cancel(build_id, now_iso()))
        return build


    def busy(self) -> bool:
        return bool(self.machine.running or self.machine.queue)

    def activity(self) -> int:
        """A number that changes whenever a build ends."""
        return self._finished_count

    def waiting(self, build_id: int) -> str | None:
        """Why a queued build waits although workers may be idle ("no worker has arch=x")."""
        return self.machine.waiting(build_id)

    def workers(self) -> list[dict[str, object]]:
        """Every registered worker, its labels and slots, what it runs, when it was last seen."""
        running: dict[str, list[tuple[int, int]]] = {}
        for build_id, run in self.machine.running.items():
            running.setdefault(run.worker, []).append((build_id, run.seq))
        return self.roster.to_json(running)

    # the work protocol ----------------------------------------------------

    async def register(self, name: str, labels: Labels | None = None, slots: int = 1,
                       token: str | None = None) -> str:
        """A new worker; `token` is the id of the token a remote one registered with (None:
        a local, in-process worker, which no HTTP request can speak for)."""
        worker = f"{name}-{secrets.token_hex(4)}"
        self._inbox[worker] = asyncio.Queue()
        info = self.roster.add(worker, name, labels or {}, slots, token, time.monotonic(),
                               now_iso())
        async with self._lock:
            await self._apply(self.machine.add_worker(worker, info))
        log.info("worker %s registered (%s, %d slots)", worker,
                 "local" if token is None else "remote", slots)
        return worker

    def check_worker(self, worker: str, token: str) -> None:
        """An HTTP request speaks for `worker` with the token of id `token`: 404 if there is
        no such worker, 403 if it is not that token's (local workers are no token's). Renews
        the worker's lease."""
        self.roster.check(worker, token, time.monotonic(), now_iso())

    async def drop_silent(self, now: float, limit: float) -> list[str]:
        """Unregister remote workers not seen for `limit` seconds: their builds are interrupted."""
        gone = self.roster.silent(now, limit)
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
        run = self.machine.running.get(build_id)
        if run is None or run.worker != worker or run.seq != seq:
            return
        self.logs.append(build_id, (
            f"ick: worker {worker} stopped and handed back action {seq + 1}: the build is "
            "queued again and runs from its first action on another worker\n").encode())
        log.warning("build %d: handed back by worker %s, queued again", build_id, worker)
        async with self._lock:
            await self._apply(self.machine.hand_back(build_id, seq, now_iso()))

    async def _until_stopped(self, awaitable: Awaitable[T], timeout: float) -> T | None:
        """Await `awaitable`, but give up at the timeout or when the daemon stops."""
        task = asyncio.ensure_future(awaitable)
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({task, stopped}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            return task.result()
        return None

    async def unregister(self, worker: str, why: str = "the worker went away") -> None:
        self.roster.remove(worker)
        for build_id, run in self.machine.running.items():
            if run.worker == worker:
                self.logs.append(build_id, f"ick: {why}\n".encode())
        async with self._lock:
            await self._apply(self.machine.remove_worker(worker, now_iso(), why))
        self._inbox.pop(worker, None)

    async def next_work(self, worker_id: str, timeout: float) -> WorkItem | None:
        inbox = self._inbox.get(worker_id)
        if inbox is None:
            raise NotFoundError(f"no worker {worker_id!r}: register again")
        self.roster.seen(worker_id, time.monotonic(), now_iso())
        if self._stopping:
            # Nothing more is handed out; wait out the poll rather than have a worker spin.
            await asyncio.sleep(timeout)
            return None
        if inbox.empty():
            async with self._lock:
                await self._apply(self.machine.worker_ready(worker_id, now_iso()))
        return await self._until_stopped(inbox.get(), timeout)

    def output(self, worker_id: str, build_id: int, seq: int, data: bytes) -> None:
        run = self.machine.running.get(build_id)
        if run is not None and run.worker == worker_id and run.seq == seq:
            self.logs.append(build_id, data, stream=True)

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome) -> bool:
        run = self.machine.running.get(build_id)
        if run is None or run.worker != worker_id:
            return False
        if seq != run.seq:
            return True  # a late or confused report: the machine would ignore it too
        action = run.build.actions[seq]
        unwritten = self.logs.failure(build_id)
        if unwritten is not None and outcome.exit_code == 0:
            outcome = dataclasses.replace(
                outcome, exit_code=None, message=f"cannot write the build's log: {unwritten}"
            )
        if outcome.message and (outcome.exit_code != 0 or outcome.timed_out):
            self.logs.append(build_id, f"ick: {outcome.message}\n".encode())
        async with self._lock:
            decisions = self.machine.action_exited(build_id, seq, outcome, now_iso())
            self.logs.append(build_id, _footer(action))
            await self._apply(decisions)
        return build_id in self.machine.running

    async def wait_cancel(self, worker_id: str, build_id: int) -> None:
        if build_id not in self.machine.running:
            return
        await self._cancel.setdefault(build_id, asyncio.Event()).wait()

    async def wait_cancel_for(self, worker_id: str, build_id: int, timeout: float) -> bool:
        """Like wait_cancel, bounded (for long polls): True if the build is to be stopped."""
        done = await self._until_stopped(self._cancelled(worker_id, build_id), timeout)
        return bool(done) or self._stopping

    async def _cancelled(self, worker_id: str, build_id: int) -> bool:
        await self.wait_cancel(worker_id, build_id)
        return True

    # acting on decisions --------------------------------------------------

    async def _apply(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, Save):
                await self.builds.save(decision.build, decision.seqs)
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
            for listener in self.started_listeners:
                listener(build)
        action = build.actions[seq]
        self.logs.append(build.id, _header(build, action, seq))
        item = WorkItem(
            build_id=build.id, project=build.project, number=build.number, seq=seq,
            total=len(build.actions), action=action.spec, parameters=build.parameters,
        )
        self._inbox[decision.worker].put_nowait(item)

    def _finished(self, build: Build) -> None:
        log.info("build %d: %s", build.id, build.state.value)
        self.logs.append(build.id, f"ick: build {build.id} {build.state.value}\n".encode())
        self.logs.close(build.id)
        self._finished_count += 1
        self._cancel.pop(build.id, None)
        for listener in self.finished_listeners:
            listener(build)


def _header(build: Build, action: ActionRecord, seq: int) -> bytes:
    return (
        f"==== [{seq + 1}/{len(build.actions)}] pipeline {action.pipeline}, "
        f"action {action.index + 1}: {action.kind} (where: {action.where})\n"
    ).encode()


def _footer(action: ActionRecord) -> bytes:
    code = "none" if action.exit_code is None else str(action.exit_code)
    return f"---- exit code {code}, {action.duration or 0:.2f} s\n".encode()
