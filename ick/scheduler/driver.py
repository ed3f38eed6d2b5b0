"""The controller's async driver: feeds events to the state machine, persists, then acts."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ick.errors import ConflictError, InputError, NotFoundError
from ick.model import ActionRecord, Build, BuildState, action_kind
from ick.scheduler.machine import Decision, Dispatch, Finished, Kill, Outcome, Save, Scheduler
from ick.scheduler.work import WorkItem
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.timefmt import now_iso

log = logging.getLogger(__name__)

BuildListener = Callable[[Build], None]
# Parameters any project takes at trigger time: the hook and polls set them on every project.
ALWAYS_KNOWN = ("git_commit", "git_ref", "ick_trigger")
T = TypeVar("T")


class Controller:
    """Owns the queue and the running builds; workers talk to it through `WorkSource`."""

    def __init__(self, builds: BuildStore, resources: ResourceStore, logs: LogStore) -> None:
        self.builds = builds
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
        self._seen: dict[str, float] = {}  # remote workers: when each last asked for something

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

    async def trigger(self, project_name: str, overrides: dict[str, Any], *,
                      ick_trigger: str = "api", check: bool = True) -> Build:
        """Queue a build; `ick_trigger` says what asked for it (a build parameter). With
        `check`, a parameter the project does not know is refused (unless it says
        extra_parameters: true)."""
        project = await self.resources.project(project_name)
        if project is None:
            raise NotFoundError(f"no project {project_name!r}")
        pipelines = []
        for pipeline_name in project.pipelines:
            pipeline = await self.resources.pipeline(pipeline_name)
            if pipeline is None:
                raise ConflictError(
                    f"project {project_name!r} names pipeline {pipeline_name!r}, "
                    "which does not exist"
                )
            pipelines.append(pipeline)
        if check and not project.extra_parameters:
            known = {*project.parameters, *ALWAYS_KNOWN}
            known.update(name for pipeline in pipelines for name in pipeline.parameters)
            unknown = sorted(set(overrides) - known)
            if unknown:
                raise InputError(
                    f"project {project_name!r} has no parameter {unknown[0]!r} "
                    f"(known: {', '.join(sorted(known))}; "
                    "a project with extra_parameters: true takes any)"
                )
        parameters = {**project.parameters, **overrides, "ick_trigger": ick_trigger}
        actions: list[ActionRecord] = []
        for pipeline in pipelines:
            missing = [p for p in pipeline.parameters if p not in parameters]
            if missing:
                raise InputError(
                    f"pipeline {pipeline.name!r} requires parameter {missing[0]!r}, "
                    f"which project {project_name!r} does not give"
                )
            for index, spec in enumerate(pipeline.actions):
                actions.append(ActionRecord(
                    pipeline=pipeline.name, index=index, kind=action_kind(spec),
                    where=str(spec.get("where", "host")), spec=spec,
                ))
        now = now_iso()
        build = await self.builds.create(project.name, parameters, project.concurrent, actions, now)
        self.logs.open(build.id)
        log.info("build %d: queued, project %s number %d", build.id, build.project, build.number)
        async with self._lock:
            await self._apply(self.machine.enqueue(build, now))
        return build

    async def rebuild(self, build_id: int) -> Build:
        """Queue a new build of the same project with the same parameters."""
        old = await self.builds.get(build_id)
        if old is None:
            raise NotFoundError(f"no build {build_id}")
        overrides = {k: v for k, v in old.parameters.items() if k != "ick_trigger"}
        # Unchecked: the project may have dropped a parameter since; it ran with it then.
        return await self.trigger(old.project, overrides, ick_trigger="rebuild", check=False)

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

    # the work protocol ----------------------------------------------------

    async def register(self, name: str) -> str:
        worker = f"{name}-{secrets.token_hex(4)}"
        self._inbox[worker] = asyncio.Queue()
        self.machine.add_worker(worker)
        log.info("worker %s registered", worker)
        return worker

    def seen(self, worker: str, now: float) -> None:
        """A remote worker made a request; one that goes quiet for too long is dropped."""
        self._seen[worker] = now

    async def drop_silent(self, now: float, limit: float) -> list[str]:
        """Unregister remote workers not seen for `limit` seconds: their builds are interrupted."""
        gone = [w for w, t in self._seen.items() if now - t > limit]
        for worker in gone:
            log.warning("worker %s: silent for %.0f s, dropping it", worker,
                        now - self._seen[worker])
            del self._seen[worker]
            await self.unregister(worker)
        return gone

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

    async def unregister(self, worker: str) -> None:
        async with self._lock:
            await self._apply(self.machine.remove_worker(worker, now_iso()))
        self._inbox.pop(worker, None)

    async def next_work(self, worker_id: str, timeout: float) -> WorkItem | None:
        inbox = self._inbox.get(worker_id)
        if inbox is None:
            raise NotFoundError(f"no worker {worker_id!r}: register again")
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
