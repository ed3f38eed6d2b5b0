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
    JobEnded,
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
from ick.storage.logs import LogStore, job_key, log_keys
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
        self._cancel: dict[tuple[int, int], asyncio.Event] = {}  # (build, job): stop it
        self._stopping = False
        self._finished_count = 0
        self._job_keys: dict[tuple[int, int], int | None] = {}  # (build, job) -> its log
        self._roster = Roster()

    # start and stop -------------------------------------------------------

    async def recover(self) -> list[int]:
        """After a crash: running builds become interrupted, queued ones are queued again.

        Returns the ids of the builds that were interrupted, so their leftovers can be killed.
        """
        now = now_iso()
        interrupted = []
        for build in await self._builds.in_state(BuildState.RUNNING):
            self._open_logs(build)
            self._logs.append(build.id, b"ick: the daemon stopped while this build ran\n")
            async with self._lock:
                await self._apply(self._machine.recovered_running(build, now))
            interrupted.append(build.id)
            log.warning("build %d: interrupted by a daemon restart", build.id)
        for build in await self._builds.in_state(BuildState.QUEUED):
            self._open_logs(build)
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

    def running_action(self, build_id: int, seq: int | None = None) -> RunningAction | None:
        """The running action `seq` of the build (without `seq`: of its first running job)."""
        return self._machine.running_action(build_id, seq)

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
        for run in self._machine.running_actions():
            running.setdefault(run.worker, []).append((run.build_id, run.seq))
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
                                          plan.actions, now, plan.jobs, plan.fail_fast)
        self._open_logs(build)
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
        run = self._machine.running_action(build_id, seq)
        if run is None or run.worker != worker:
            return
        self._job_log(build_id, run.job, (
            f"ick: worker {worker} stopped and handed back action {seq + 1}: the "
            f"{'build' if self._job_keys.get((build_id, run.job)) is None else 'job'} is "
            "queued again and runs from its first action on another worker\n").encode())
        log.warning("build %d: job %d handed back by worker %s, queued again", build_id,
                    run.job, worker)
        async with self._lock:
            await self._apply(self._machine.hand_back(build_id, seq, now_iso()))

    async def unregister(self, worker: str, why: str = "the worker went away") -> None:
        self._roster.remove(worker)
        for run in self._machine.running_actions():
            if run.worker == worker:
                self._job_log(run.build_id, run.job, f"ick: {why}\n".encode())
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
        run = self._machine.running_action(build_id, seq)
        if run is not None and run.worker == worker_id:
            self._job_log(build_id, run.job, data, stream=True)

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome) -> bool:
        run = self._machine.running_action(build_id, seq)
        if run is None or run.worker != worker_id:
            return False  # that job has ended (cancelled, interrupted): nothing more of it
        job = run.job
        async with self._lock:
            unwritten = self._logs.failure(build_id, self._job_keys.get((build_id, job)))
            if unwritten is not None:
                await self._apply(self._machine.log_failed(build_id, unwritten, seq))
            if outcome.message and (outcome.exit_code != 0 or outcome.timed_out):
                self._job_log(build_id, job, f"ick: {outcome.message}\n".encode())
            decisions = self._machine.action_exited(build_id, seq, outcome, now_iso())
            self._job_log(build_id, job, _footer(outcome))
            await self._apply(decisions)
        return self._machine.is_running(build_id, job)

    def _cancel_event(self, build_id: int, seq: int | None) -> asyncio.Event | None:
        """The event that says to stop the job whose action `seq` runs; None if none runs."""
        run = self._machine.running_action(build_id, seq)
        if run is None:
            return None
        return self._cancel.setdefault((build_id, run.job), asyncio.Event())

    async def wait_cancel(self, worker_id: str, build_id: int, seq: int | None = None) -> None:
        event = self._cancel_event(build_id, seq)
        if event is not None:
            await event.wait()

    async def wait_cancel_for(self, worker_id: str, build_id: int, timeout: float,
                              seq: int | None = None) -> bool:
        """Like wait_cancel, bounded (for long polls): True if the job is to be stopped."""
        event = self._cancel_event(build_id, seq)
        if event is None:
            return True
        return await _wait(event, timeout)

    # acting on decisions --------------------------------------------------

    async def _apply(self, decisions: list[Decision]) -> None:
        for decision in decisions:
            if isinstance(decision, Save):
                await self._builds.save(decision.build, decision.seqs)
            elif isinstance(decision, Dispatch):
                failure = self._dispatch(decision)
                if failure is not None:  # the build failed as it started: its worker is free
                    now = now_iso()
                    await self._apply(self._machine.action_exited(
                        decision.build.id, decision.seq, failure, now))
                    await self._apply(self._machine.worker_ready(decision.worker, now))
            elif isinstance(decision, Kill):
                log.info("build %d: stopping the running action of job %d", decision.build.id,
                         decision.job)
                self._cancel.setdefault((decision.build.id, decision.job),
                                        asyncio.Event()).set()
            elif isinstance(decision, JobEnded):
                self._job_ended(decision.build, decision.job)
            elif isinstance(decision, Finished):
                self._finished(decision.build)

    def _open_logs(self, build: Build) -> None:
        for key in log_keys(build):
            self._logs.open(build.id, key)
        for job in build.jobs:
            self._job_keys[(build.id, job.job)] = job_key(build, job.job)

    def _job_log(self, build_id: int, job: int, data: bytes, stream: bool = False) -> None:
        self._logs.append(build_id, data, stream=stream,
                          job=self._job_keys.get((build_id, job)))

    def _dispatch(self, decision: Dispatch) -> Outcome | None:
        """Hand the action to its worker; the outcome of a build that cannot start."""
        build, seq = decision.build, decision.seq
        if decision.starts_build:
            try:
                for listener in self._listeners:
                    listener.build_started(build)
            except Exception as e:  # a failure while starting fails the build, nothing else
                message = f"cannot start the build: {e}"
                log.warning("build %d: %s", build.id, message)
                self._job_log(build.id, build.actions[seq].job, f"ick: {message}\n".encode())
                return Outcome(None, 0.0, message)
        action = build.actions[seq]
        seqs = build.job_seqs(action.job)
        self._job_log(build.id, action.job, _header(action, seqs.index(seq), len(seqs)))
        item = WorkItem(
            build_id=build.id, project=build.project, number=build.number, seq=seq,
            total=len(build.actions), action=action.spec,
            parameters=build.job_parameters(action.job), job=action.job,
        )
        self._inbox[decision.worker].put_nowait(item)
        return None

    def _job_ended(self, build: Build, job: int) -> None:
        """One job of several has ended; the build goes on."""
        state = build.jobs[job].state.value
        log.info("build %d: job %d %s", build.id, job, state)
        self._job_log(build.id, job, f"ick: job {job} {state}\n".encode())
        self._logs.close(build.id, self._job_keys.pop((build.id, job), None))

    def _finished(self, build: Build) -> None:
        log.info("build %d: %s", build.id, build.state.value)
        if len(build.jobs) > 1:
            for job in build.jobs:
                if (build.id, job.job) in self._job_keys:
                    self._job_ended(build, job.job)
            failed = [str(j.job) for j in build.jobs if j.state is BuildState.FAILED]
            if failed:
                self._logs.append(build.id, (
                    f"ick: failed: job{'s' if len(failed) > 1 else ''} "
                    f"{', '.join(failed)}\n").encode())
        self._logs.append(build.id, f"ick: build {build.id} {build.state.value}\n".encode())
        for key in log_keys(build):
            self._logs.close(build.id, key)
        for job in build.jobs:
            self._job_keys.pop((build.id, job.job), None)
            self._cancel.pop((build.id, job.job), None)
        self._finished_count += 1
        for listener in self._listeners:
            listener.build_finished(build)


def _header(action: ActionRecord, position: int, total: int) -> bytes:
    return (
        f"==== [{position + 1}/{total}] pipeline {action.pipeline}, "
        f"action {action.index + 1}: {action.kind} (where: {action.where})\n"
    ).encode()


def _footer(outcome: Outcome) -> bytes:
    code = "none" if outcome.exit_code is None else str(outcome.exit_code)
    return f"---- exit code {code}, {outcome.duration or 0:.2f} s\n".encode()
