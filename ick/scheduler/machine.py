"""The build state machine and queue policy: events in, decisions out.

No I/O, no asyncio, no clock: time arrives as an argument. The driver persists every
`Save` decision before it acts on the decisions that follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ick.model import ActionRecord, ActionState, Build, BuildState
from ick.scheduler.routing import Needs, WorkerInfo, can_take, needs_of, waiting_reason


@dataclass(frozen=True)
class Save:
    """Persist the build's row and these actions' rows."""

    build: Build
    seqs: tuple[int, ...]


@dataclass(frozen=True)
class Dispatch:
    """Hand action `seq` of `build` to `worker`."""

    worker: str
    build: Build
    seq: int


@dataclass(frozen=True)
class Kill:
    """Stop the action that `worker` runs for `build`."""

    worker: str
    build: Build


@dataclass(frozen=True)
class Finished:
    """The build has ended (its Save came first)."""

    build: Build


Decision = Save | Dispatch | Kill | Finished


@dataclass(frozen=True)
class Outcome:
    """How an action ended, as its worker reports it."""

    exit_code: int | None
    duration: float
    message: str | None = None
    timed_out: bool = False
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunningAction:
    """A view of the action a build runs now: who runs it, and what it is."""

    build_id: int
    project: str
    worker: str
    seq: int
    spec: dict[str, Any]
    parameters: dict[str, Any]


@dataclass
class _Running:
    build: Build
    worker: str
    seq: int
    cancel_requested: bool = False
    log_failure: str | None = None  # why the build's log could not be written, if it could not


class Scheduler:
    """Knows the queue, the running builds and the idle workers."""

    def __init__(self) -> None:
        self._queue: list[Build] = []
        self._running: dict[int, _Running] = {}
        self._idle: list[str] = []  # a worker once per free slot of it that asked for work
        self._workers: dict[str, WorkerInfo] = {}
        self._needs: dict[int, Needs] = {}
        self._waiting: dict[int, str] = {}

    # views --------------------------------------------------------------

    def running_action(self, build_id: int) -> RunningAction | None:
        run = self._running.get(build_id)
        if run is None:
            return None
        return RunningAction(run.build.id, run.build.project, run.worker, run.seq,
                             dict(run.build.actions[run.seq].spec), dict(run.build.parameters))

    def is_running(self, build_id: int) -> bool:
        return build_id in self._running

    def busy(self) -> bool:
        """Is anything queued or running?"""
        return bool(self._running or self._queue)

    def queued(self) -> tuple[int, ...]:
        """The ids of the queued builds, in queue order."""
        return tuple(b.id for b in self._queue)

    def running_ids(self) -> tuple[int, ...]:
        return tuple(self._running)

    def idle_workers(self) -> tuple[str, ...]:
        """The workers waiting for work, first to be given work first."""
        return tuple(self._idle)

    def workers(self) -> frozenset[str]:
        return frozenset(self._workers)

    def waiting(self, build_id: int) -> str | None:
        """Why no worker there is can take this queued build, or None."""
        return self._waiting.get(build_id)

    # events -------------------------------------------------------------

    def add_worker(self, worker: str, info: WorkerInfo | None = None) -> list[Decision]:
        self._workers[worker] = info or WorkerInfo(worker)
        self._route(self._queue)  # it may take what no worker could
        return []

    def remove_worker(self, worker: str, now: str,
                      why: str = "the worker went away") -> list[Decision]:
        """A worker went away: whatever it ran is interrupted."""
        self._workers.pop(worker, None)
        self._idle = [w for w in self._idle if w != worker]
        self._route(self._queue)
        out: list[Decision] = []
        for run in [r for r in self._running.values() if r.worker == worker]:
            out += self._end(run, BuildState.INTERRUPTED, ActionState.INTERRUPTED, None, now,
                             why)
        return out

    def hand_back(self, build_id: int, seq: int, now: str) -> list[Decision]:
        """A stopping worker gave back the action it ran: the build is queued again, at the
        head of the queue, to run from its first action on another worker."""
        run = self._running.get(build_id)
        if run is None or run.seq != seq:
            return []
        if run.cancel_requested:
            return self._end(run, BuildState.CANCELLED, ActionState.CANCELLED, None, now,
                             "cancelled")
        del self._running[build_id]
        # The worker stops: it takes nothing more, least of all this build again.
        self._idle = [w for w in self._idle if w != run.worker]
        build = run.build
        build.state = BuildState.QUEUED
        build.started_at = None
        build.worker = None
        for a in build.actions:
            a.state = ActionState.PENDING
            a.exit_code = a.duration = a.message = None
            a.details = {}
        self._queue.insert(0, build)
        self._route([build])
        return [Save(build, tuple(range(len(build.actions)))), *self._assign(now)]

    def enqueue(self, build: Build, now: str) -> list[Decision]:
        self._queue.append(build)
        self._route([build])
        return self._assign(now)

    def worker_ready(self, worker: str, now: str) -> list[Decision]:
        """A worker with a free slot asks for work."""
        if worker not in self._workers:
            self.add_worker(worker)
        # A build in hand takes a slot: its next action comes when the last one ends.
        busy = sum(1 for r in self._running.values() if r.worker == worker)
        if busy + self._idle.count(worker) >= self._workers[worker].slots:
            return []
        self._idle.append(worker)
        return self._assign(now)

    def log_failed(self, build_id: int, reason: str) -> list[Decision]:
        """The build's log cannot be written (a full disk): its running action fails when it
        ends, whatever its exit code."""
        run = self._running.get(build_id)
        if run is not None and run.log_failure is None:
            run.log_failure = reason
        return []

    def action_exited(self, build_id: int, seq: int, outcome: Outcome, now: str) -> list[Decision]:
        run = self._running.get(build_id)
        if run is None or run.seq != seq:
            return []  # already ended (cancelled, interrupted): nothing to record
        if run.log_failure is not None and outcome.exit_code == 0:
            outcome = replace(outcome, exit_code=None,
                              message=f"cannot write the build's log: {run.log_failure}")
        action = run.build.actions[seq]
        action.exit_code = outcome.exit_code
        action.duration = outcome.duration
        action.details.update(outcome.details)
        if run.cancel_requested:
            return self._end(run, BuildState.CANCELLED, ActionState.CANCELLED, outcome, now,
                             "cancelled")
        if outcome.exit_code == 0 and not outcome.timed_out:
            action.state = ActionState.SUCCEEDED
            action.message = outcome.message
            if seq + 1 < len(run.build.actions):
                run.seq = seq + 1
                run.build.actions[run.seq].state = ActionState.RUNNING
                return [Save(run.build, (seq, run.seq)), Dispatch(run.worker, run.build, run.seq)]
            return self._end(run, BuildState.SUCCEEDED, None, outcome, now, None)
        message = outcome.message or f"exit status {outcome.exit_code}"
        return self._end(run, BuildState.FAILED, ActionState.FAILED, outcome, now, message)

    def cancel(self, build_id: int, now: str) -> list[Decision]:
        """Cancel a queued or running build; a finished one is left alone."""
        for build in self._queue:
            if build.id == build_id:
                self._queue.remove(build)
                self._waiting.pop(build_id, None)
                self._needs.pop(build_id, None)
                build.state = BuildState.CANCELLED
                build.finished_at = now
                for a in build.actions:
                    a.state = ActionState.SKIPPED
                return [Save(build, tuple(range(len(build.actions)))), Finished(build)]
        run = self._running.get(build_id)
        if run is None or run.cancel_requested:
            return []
        run.cancel_requested = True
        return [Kill(run.worker, run.build)]

    def recovered_running(self, build: Build, now: str) -> list[Decision]:
        """A build the database says was running when the daemon died: it is interrupted."""
        seq = next((i for i, a in enumerate(build.actions) if a.state == ActionState.RUNNING),
                   None)
        if seq is None:
            seq = next((i for i, a in enumerate(build.actions)
                        if a.state == ActionState.PENDING), len(build.actions) - 1)
        if seq < 0:
            build.state = BuildState.INTERRUPTED
            build.finished_at = now
            return [Save(build, ()), Finished(build)]
        run = _Running(build, build.worker or "?", seq)
        self._running[build.id] = run
        return self._end(run, BuildState.INTERRUPTED, ActionState.INTERRUPTED, None, now,
                         "the daemon stopped while it ran")

    def shutdown(self, now: str) -> list[Decision]:
        """The daemon stops: every running build is interrupted; queued ones stay queued."""
        out: list[Decision] = []
        for run in list(self._running.values()):
            out.append(Kill(run.worker, run.build))
            out += self._end(run, BuildState.INTERRUPTED, ActionState.INTERRUPTED, None, now,
                             "the daemon stopped")
        self._idle.clear()
        self._workers.clear()
        return out

    # policy -------------------------------------------------------------

    def _runnable(self, build: Build) -> bool:
        if build.concurrent:
            return True
        return not any(r.build.project == build.project for r in self._running.values())

    def _needs_of(self, build: Build) -> Needs:
        needs = self._needs.get(build.id)
        if needs is None:
            needs = self._needs[build.id] = needs_of((a.kind, a.spec) for a in build.actions)
        return needs

    def _route(self, builds: list[Build]) -> None:
        """Say again why these queued builds wait: only who is registered changes that."""
        for build in builds:
            reason = waiting_reason(self._needs_of(build), self._workers.values())
            if reason is None:
                self._waiting.pop(build.id, None)
            else:
                self._waiting[build.id] = reason

    def _pick(self) -> tuple[Build, str] | None:
        """The first queued build that may run, and the first idle worker that may take it."""
        if not self._idle:
            return None
        for build in self._queue:
            if build.id in self._waiting or not self._runnable(build):
                continue
            needs = self._needs_of(build)
            worker = next((w for w in self._idle if can_take(self._workers[w], needs)), None)
            if worker is not None:
                return build, worker
        return None

    def _assign(self, now: str) -> list[Decision]:
        out: list[Decision] = []
        while (picked := self._pick()) is not None:
            build, worker = picked
            self._queue.remove(build)
            self._idle.remove(worker)
            build.state = BuildState.RUNNING
            build.started_at = now
            build.worker = worker
            if not build.actions:
                build.state = BuildState.SUCCEEDED
                build.finished_at = now
                out += [Save(build, ()), Finished(build)]
                self._idle.insert(0, worker)
                continue
            build.actions[0].state = ActionState.RUNNING
            self._running[build.id] = _Running(build, worker, 0)
            out += [Save(build, (0,)), Dispatch(worker, build, 0)]
        return out

    def _end(
        self, run: _Running, state: BuildState, action_state: ActionState | None,
        outcome: Outcome | None, now: str, message: str | None,
    ) -> list[Decision]:
        del self._running[run.build.id]
        self._needs.pop(run.build.id, None)
        build = run.build
        build.state = state
        build.finished_at = now
        current: ActionRecord = build.actions[run.seq]
        if action_state is not None:
            current.state = action_state
            current.message = message
            if outcome is None:
                current.exit_code = None
        for a in build.actions[run.seq + 1:]:
            a.state = ActionState.SKIPPED
        seqs = tuple(range(run.seq, len(build.actions)))
        return [Save(build, seqs), Finished(build)]
