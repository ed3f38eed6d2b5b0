"""The build state machine and queue policy: events in, decisions out.

No I/O, no asyncio, no clock: time arrives as an argument. The driver persists every
`Save` decision before it acts on the decisions that follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ick.model import (
    SOURCES_KEY,
    ActionRecord,
    ActionState,
    Build,
    BuildState,
    GateFacts,
    GitFacts,
    JobRecord,
    SourceRevision,
)
from ick.scheduler.conditions import status_miss
from ick.scheduler.routing import Needs, WorkerInfo, can_take, needs_of, waiting_reason
from ick.timefmt import parse_iso


@dataclass(frozen=True)
class Save:
    """Persist the build's row, its jobs' rows and these actions' rows."""

    build: Build
    seqs: tuple[int, ...]
    git: bool = False  # the build's git facts changed (a checkout found them): store them too


@dataclass(frozen=True)
class Dispatch:
    """Hand action `seq` of `build` to `worker`; `starts_build` when it is the build's first
    (its listeners are told the build started)."""

    worker: str
    build: Build
    seq: int
    starts_build: bool = False


@dataclass(frozen=True)
class Kill:
    """Stop the action that `worker` runs for job `job` of `build`."""

    worker: str
    build: Build
    job: int = 0


@dataclass(frozen=True)
class JobEnded:
    """One job of a build with several has ended (its Save came first)."""

    build: Build
    job: int


@dataclass(frozen=True)
class Finished:
    """The build has ended (its Save came first)."""

    build: Build


Decision = Save | Dispatch | Kill | JobEnded | Finished


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
    """A view of the action a job runs now: who runs it, and what it is."""

    build_id: int
    project: str
    worker: str
    seq: int
    kind: str  # the action's type, decided when its pipeline was checked (ActionRecord.kind)
    spec: dict[str, Any]
    parameters: dict[str, Any]  # the job's: the build's, then the job's own
    job: int = 0


@dataclass(eq=False)
class _Record:
    """The machine's own mutable record of a build it holds, made from the snapshot storage
    gave it. Its jobs and actions are frozen values, replaced (never changed) one by one;
    `snapshot()` is the frozen Build that decisions carry."""

    base: Build  # what never changes while the machine holds it: id, project, parameters...
    state: BuildState
    started_at: str | None
    finished_at: str | None
    worker: str | None
    jobs: list[JobRecord]
    actions: list[ActionRecord]
    git: GitFacts
    _seqs: dict[int, list[int]] = field(default_factory=dict)
    _snap: Build | None = None  # the last snapshot, while nothing changed since

    @classmethod
    def of(cls, build: Build) -> _Record:
        return cls(build, build.state, build.started_at, build.finished_at, build.worker,
                   list(build.jobs), list(build.actions), build.git, _snap=build)

    @property
    def id(self) -> int:
        return self.base.id

    def snapshot(self) -> Build:
        # Made field by field, not with dataclasses.replace: several times faster, and the
        # machine makes one at every step of every build.
        if self._snap is None:
            b = self.base
            self._snap = Build(
                id=b.id, project=b.project, number=b.number, state=self.state,
                parameters=b.parameters, queued_at=b.queued_at, started_at=self.started_at,
                finished_at=self.finished_at, concurrent=b.concurrent,
                actions=tuple(self.actions), worker=self.worker,
                resolved_commit=b.resolved_commit, jobs=tuple(self.jobs),
                fail_fast=b.fail_fast, event=b.event, triggered_by=b.triggered_by,
                git=self.git, gate=b.gate)
        return self._snap

    def set_state(self, state: BuildState, now: str | None = None,
                  worker: str | None = None) -> None:
        """The build's state; `now` is when it started (RUNNING, QUEUED) or ended."""
        self.state = state
        if state is BuildState.RUNNING:
            self.started_at, self.worker = now, worker
        elif state is BuildState.QUEUED:
            self.started_at = self.worker = None
        else:
            self.finished_at = now
        self._snap = None

    def set_job(self, job: int, state: BuildState, now: str | None = None,
                worker: str | None = None) -> None:
        """Job `job`'s state; `now` is when it started (RUNNING, QUEUED) or ended."""
        old = self.jobs[job]
        runs_on, started_at, finished_at = old.worker, old.started_at, old.finished_at
        if state is BuildState.RUNNING:
            runs_on, started_at = worker, now
        elif state is BuildState.QUEUED:
            runs_on = started_at = None
        else:
            finished_at = now
        self.jobs[job] = JobRecord(old.job, old.parameters, state, runs_on, started_at,
                                   finished_at)
        self._snap = None

    def set_action(self, seq: int, **changes: Any) -> None:
        """Action `seq` with these of its fields (state, exit_code, duration, message,
        details) changed."""
        old = self.actions[seq]
        fields = {"state": old.state, "exit_code": old.exit_code, "duration": old.duration,
                  "message": old.message, "details": old.details, **changes}
        self.actions[seq] = ActionRecord(old.pipeline, old.index, old.kind, old.where, old.spec,
                                         job=old.job, local=old.local, arch_key=old.arch_key,
                                         **fields)
        self._snap = None

    def checked_out(self, details: dict[str, object]) -> bool:
        """Add to the build's git facts what an action reports it checked out first (see
        GitFacts.checked_out); whether they changed."""
        entries = details.get(SOURCES_KEY)
        source = SourceRevision.from_json(entries[0]) \
            if isinstance(entries, list) and entries else None
        facts = self.git if source is None else self.git.checked_out(source)
        if facts == self.git:
            return False
        self.git = facts
        self._snap = None
        return True

    def job_seqs(self, job: int) -> list[int]:
        seqs = self._seqs.get(job)
        if seqs is None:
            seqs = self._seqs[job] = self.base.job_seqs(job)
        return seqs

    def job_parameters(self, job: int) -> dict[str, Any]:
        return self.base.job_parameters(job)


@dataclass(eq=False)
class _Running:
    build: _Record
    job: int
    worker: str
    seq: int
    cancel_requested: bool = False
    log_failure: str | None = None  # why the job's log could not be written, if it could not
    since: str | None = None  # when its current action was handed to its worker
    failed: bool = False  # an action of the job failed: only `status: failure` ones run on
    planned: frozenset[int] = frozenset()  # seqs skipped when the build was planned (`when:`)

    def ran(self, now: str) -> float | None:
        """Seconds the current action has run by `now` (None: not known)."""
        if self.since is None:
            return None
        return max(0.0, (parse_iso(now) - parse_iso(self.since)).total_seconds())

    def deadline(self) -> float | None:
        """The current action's `timeout:` in seconds, if it has one."""
        value = self.build.actions[self.seq].spec.get("timeout")
        return float(value) if isinstance(value, int | float) and value > 0 else None


# When jobs end differently, the build's state is the first of these that one of them has.
_OUTCOME_ORDER = (BuildState.FAILED, BuildState.INTERRUPTED, BuildState.CANCELLED,
                  BuildState.SUCCEEDED)


def build_outcome(jobs: Sequence[JobRecord]) -> BuildState:
    """The state of a build whose jobs have all ended: succeeded only when all did."""
    states = {j.state for j in jobs}
    return next((s for s in _OUTCOME_ORDER if s in states), BuildState.SUCCEEDED)


class Scheduler:
    """Knows the queue of jobs, the running jobs and the idle workers.

    The unit queued, routed and run is a job: (build, job number). A build without a matrix
    has one job, job 0. The builds it is given are snapshots it never changes: it keeps its
    own records of them, and its decisions carry fresh snapshots.
    """

    def __init__(self) -> None:
        self._queue: list[tuple[_Record, int]] = []
        self._running: dict[tuple[int, int], _Running] = {}
        # A worker once per free slot of it that asked for work, most recently idle last: work
        # goes to the last (LIFO), whose processes and caches are warm; the rest stay cold.
        self._idle: list[str] = []
        self._workers: dict[str, WorkerInfo] = {}
        self._needs: dict[tuple[int, int], Needs] = {}
        self._waiting: dict[tuple[int, int], str] = {}
        # The gates (project, target) whose candidate's build has ended and whose merge the
        # gate has not yet decided: the next candidate waits, so it merges onto the result.
        self._gate_held: set[tuple[str, str]] = set()

    # views --------------------------------------------------------------

    def _view(self, run: _Running) -> RunningAction:
        action = run.build.actions[run.seq]
        return RunningAction(run.build.id, run.build.base.project, run.worker, run.seq,
                             action.kind, dict(action.spec),
                             run.build.job_parameters(run.job), run.job)

    def running_action(self, build_id: int, seq: int | None = None) -> RunningAction | None:
        """The running action `seq` of the build (any job of it); without `seq`, the first
        running job's action."""
        run = self._find(build_id, seq)
        return None if run is None else self._view(run)

    def running_actions(self) -> tuple[RunningAction, ...]:
        return tuple(self._view(run) for run in self._running.values())

    def snapshot(self, build_id: int) -> Build | None:
        """The build as the machine holds it now (queued or running), or None."""
        run = self._find(build_id, None)
        if run is not None:
            return run.build.snapshot()
        return next((r.snapshot() for r, _ in self._queue if r.id == build_id), None)

    def is_running(self, build_id: int, job: int | None = None) -> bool:
        """Does the build (or that job of it) run now?"""
        if job is not None:
            return (build_id, job) in self._running
        return any(bid == build_id for bid, _ in self._running)

    def cancel_requested(self, build_id: int, job: int) -> bool:
        """Has the worker running that job been told to stop it?"""
        run = self._running.get((build_id, job))
        return run is not None and run.cancel_requested

    def busy(self) -> bool:
        """Is anything queued or running?"""
        return bool(self._running or self._queue)

    def queued(self) -> tuple[int, ...]:
        """The ids of the builds with queued jobs, in queue order."""
        return tuple(dict.fromkeys(b.id for b, _ in self._queue))

    def running_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(bid for bid, _ in self._running))

    def idle_workers(self) -> tuple[str, ...]:
        """The workers waiting for work, first to be given work first (most recently idle)."""
        return tuple(reversed(self._idle))

    def workers(self) -> frozenset[str]:
        return frozenset(self._workers)

    def waiting(self, build_id: int) -> str | None:
        """Why no worker there is can take a queued job of this build, or None."""
        return next((why for (bid, _), why in sorted(self._waiting.items())
                     if bid == build_id), None)

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
        """A stopping worker gave back the action it ran: its job is queued again, at the
        head of the queue, to run from its first action on another worker."""
        run = self._find(build_id, seq)
        if run is None:
            return []
        if run.cancel_requested:
            return self._end(run, BuildState.CANCELLED, ActionState.CANCELLED, None, now,
                             "cancelled")
        del self._running[(build_id, run.job)]
        # The worker stops: it takes nothing more, least of all this job again.
        self._idle = [w for w in self._idle if w != run.worker]
        build = run.build
        build.set_job(run.job, BuildState.QUEUED)
        # What `when:` skipped at plan time stays skipped; the rest runs again.
        seqs = [s for s in build.job_seqs(run.job) if s not in run.planned]
        for seq_ in seqs:
            build.set_action(seq_, state=ActionState.PENDING, exit_code=None, duration=None,
                             message=None, details={})
        if all(j.state is BuildState.QUEUED for j in build.jobs):
            build.set_state(BuildState.QUEUED)
        self._queue.insert(0, (build, run.job))
        self._route([(build, run.job)])
        return [Save(build.snapshot(), tuple(seqs)), *self._assign(now)]

    def enqueue(self, build: Build, now: str) -> list[Decision]:
        record = _Record.of(build)
        units = [(record, j.job) for j in build.jobs if j.state is BuildState.QUEUED]
        out: list[Decision] = []
        for unit in list(units):
            first, _ = self._next(record, unit[1], None, failed=False)
            if first is None:
                units.remove(unit)
                out += self._nothing_to_run(record, unit[1], now)
        self._queue += units
        self._route(units)
        return out + self._assign(now)

    def forget(self, build_id: int, now: str) -> list[Decision]:
        """A build enqueued whose creation could not be stored: it never was. The workers
        its jobs were given (not yet handed anything) take other work."""
        self._queue = [(b, j) for b, j in self._queue if b.id != build_id]
        for key in [k for k in self._running if k[0] == build_id]:
            self._idle.append(self._running.pop(key).worker)
        for table in (self._needs, self._waiting):
            for key in [k for k in table if k[0] == build_id]:
                del table[key]
        return self._assign(now)

    def worker_ready(self, worker: str, now: str) -> list[Decision]:
        """A worker with a free slot asks for work."""
        if worker not in self._workers:
            self.add_worker(worker)
        # A job in hand takes a slot: its next action comes when the last one ends.
        busy = sum(1 for r in self._running.values() if r.worker == worker)
        if busy + self._idle.count(worker) >= self._workers[worker].slots:
            return []
        self._idle.append(worker)
        return self._assign(now)

    def log_failed(self, build_id: int, reason: str, seq: int | None = None) -> list[Decision]:
        """The job's log cannot be written (a full disk): its running action fails when it
        ends, whatever its exit code."""
        run = self._find(build_id, seq)
        if run is not None and run.log_failure is None:
            run.log_failure = reason
        return []

    def action_exited(self, build_id: int, seq: int, outcome: Outcome, now: str) -> list[Decision]:
        run = self._find(build_id, seq)
        if run is None:
            return []  # already ended (cancelled, interrupted): nothing to record
        if not run.build.checked_out(outcome.details):
            return self._exited(run, seq, outcome, now)
        # Once a build: the first checkout tells what the trigger did not (commit, subject,
        # author), stored with the build so listings without actions show it.
        return [replace(d, git=True) if isinstance(d, Save) else d
                for d in self._exited(run, seq, outcome, now)]

    def _exited(self, run: _Running, seq: int, outcome: Outcome, now: str) -> list[Decision]:
        if run.log_failure is not None and outcome.exit_code == 0:
            outcome = replace(outcome, exit_code=None,
                              message=f"cannot write the build's log: {run.log_failure}")
        build = run.build
        ended: dict[str, Any] = {
            "exit_code": outcome.exit_code, "duration": outcome.duration,
            "details": {**build.actions[seq].details, **outcome.details}}
        if run.cancel_requested:
            build.set_action(seq, **ended)
            return self._end(run, BuildState.CANCELLED, ActionState.CANCELLED, outcome, now,
                             "cancelled")
        first_failure = False
        if outcome.exit_code == 0 and not outcome.timed_out:
            build.set_action(seq, state=ActionState.SUCCEEDED, message=outcome.message, **ended)
        elif outcome.timed_out:
            # A timeout stops the job, as cancelling does: nothing runs after it.
            build.set_action(seq, **ended)
            message = outcome.message or f"exit status {outcome.exit_code}"
            return self._end(run, BuildState.FAILED, ActionState.FAILED, outcome, now, message)
        else:
            message = outcome.message or f"exit status {outcome.exit_code}"
            build.set_action(seq, state=ActionState.FAILED, message=message, **ended)
            first_failure, run.failed = not run.failed, True
        # The job goes on with the next action its `when: status` lets run: after a failure,
        # those that say `failure` (cleaning up, collecting reports); the job stays failed.
        nxt, misses = self._next(build, run.job, seq, run.failed)
        skipped = self._skip(build, misses)
        state = BuildState.FAILED if run.failed else BuildState.SUCCEEDED
        if nxt is None:
            return self._end(run, state, None, outcome, now, None, (seq, *skipped))
        run.seq = nxt
        run.since = now
        build.set_action(nxt, state=ActionState.RUNNING)
        dropped: tuple[int, ...] = ()
        kills: list[Decision] = []
        if run.failed and first_failure and build.base.fail_fast:
            # The first failure cancels the other jobs now, not when this one's cleanup ends.
            dropped = self._drop_queued(build, BuildState.CANCELLED, now)
            kills = self._kill_running(build, spare=run)
        snap = build.snapshot()
        seqs = tuple(sorted({seq, *skipped, nxt, *dropped}))
        return [Save(snap, seqs), Dispatch(run.worker, snap, nxt), *kills]

    def overdue(self, now: str, grace: float) -> tuple[RunningAction, ...]:
        """The running actions that have run past their `timeout:` plus `grace` seconds by
        `now`: their worker neither ended them nor reported (a remote one may never)."""
        late = []
        for run in self._running.values():
            limit, ran = run.deadline(), run.ran(now)
            if limit is not None and ran is not None and ran > limit + grace:
                late.append(self._view(run))
        return tuple(late)

    def timed_out(self, build_id: int, seq: int, now: str) -> list[Decision]:
        """The controller ends action `seq`, run past its timeout: it fails with the message
        a worker's own timeout gives, and its worker is told to kill it."""
        run = self._find(build_id, seq)
        if run is None:
            return []
        limit = run.deadline() or 0.0
        kill = Kill(run.worker, run.build.snapshot(), run.job)
        return [kill, *self._end(run, BuildState.FAILED, ActionState.FAILED, None, now,
                                 f"timed out after {limit:g} s")]

    def cancel(self, build_id: int, now: str) -> list[Decision]:
        """Cancel a queued or running build (every job of it); a finished one is left alone."""
        build = next((b for b, _ in self._queue if b.id == build_id), None)
        if build is None:
            build = next((r.build for (bid, _), r in self._running.items() if bid == build_id),
                         None)
        if build is None:
            return []
        return self._stop_rest(build, BuildState.CANCELLED, now)

    def recovered_running(self, snapshot: Build, now: str) -> list[Decision]:
        """A build the database says was running when the daemon died: it is interrupted."""
        build = _Record.of(snapshot)
        seqs: list[int] = []
        ran: list[tuple[JobRecord, int]] = []
        for job in [j for j in build.jobs if not j.state.finished]:
            mine = build.job_seqs(job.job)
            states = [build.actions[s].state for s in mine]
            started = (job.state is BuildState.RUNNING or len(build.jobs) == 1
                       or ActionState.RUNNING in states)
            if started and mine:
                seq = next((s for s in mine if build.actions[s].state == ActionState.RUNNING),
                           None)
                if seq is None:
                    seq = next((s for s in mine
                                if build.actions[s].state == ActionState.PENDING), mine[-1])
                ran.append((job, seq))
                continue
            build.set_job(job.job, BuildState.INTERRUPTED, now)
            for seq in mine:
                build.set_action(seq, state=ActionState.SKIPPED)
                seqs.append(seq)
        out: list[Decision] = []
        for job, seq in ran:
            run = _Running(build, job.job, job.worker or build.worker or "?", seq)
            self._running[(build.id, job.job)] = run
            out += self._end(run, BuildState.INTERRUPTED, ActionState.INTERRUPTED, None, now,
                             "the daemon stopped while it ran", tuple(seqs))
            seqs = []
        if not ran:
            build.set_state(BuildState.INTERRUPTED, now)
            self._hold_gate(build)
            snap = build.snapshot()
            out += [Save(snap, tuple(seqs)), Finished(snap)]
        return out

    def gate_hold(self, project: str, target: str) -> None:
        """No candidate of this gate starts until gate_released (a restart's undecided one)."""
        self._gate_held.add((project, target))

    def gate_released(self, project: str, target: str, now: str) -> list[Decision]:
        """The gate has decided its last candidate: the next one may start."""
        self._gate_held.discard((project, target))
        return self._assign(now)

    def shutdown(self, now: str) -> list[Decision]:
        """The daemon stops: every running job is interrupted, and the queued jobs of its
        build with it; builds none of whose jobs run stay queued."""
        out: list[Decision] = []
        for run in list(self._running.values()):
            out.append(Kill(run.worker, run.build.snapshot(), run.job))
            seqs = self._drop_queued(run.build, BuildState.INTERRUPTED, now)
            out += self._end(run, BuildState.INTERRUPTED, ActionState.INTERRUPTED, None, now,
                             "the daemon stopped", seqs)
        self._idle.clear()
        self._workers.clear()
        return out

    # policy -------------------------------------------------------------

    def _find(self, build_id: int, seq: int | None) -> _Running | None:
        """The running job of the build whose current action is `seq` (None: the first)."""
        return next((r for (bid, _), r in self._running.items()
                     if bid == build_id and (seq is None or r.seq == seq)), None)

    def _runnable(self, build: _Record) -> bool:
        gate = build.base.gate
        if gate is not None and not self._gate_turn(build, gate):
            return False
        if build.base.concurrent:
            return True
        return not any(r.build.base.project == build.base.project and r.build.id != build.id
                       for r in self._running.values())

    def _gate_turn(self, build: _Record, gate: GateFacts) -> bool:
        """Is it this candidate's turn: its gate is not held, none of its other candidates
        runs, and none queued was pushed before it?"""
        project = build.base.project
        if (project, gate.target) in self._gate_held:
            return False
        order = gate.key(build.id)

        def same(other: _Record) -> GateFacts | None:
            g = other.base.gate
            ok = other.id != build.id and g is not None and other.base.project == project \
                and g.target == gate.target
            return g if ok else None

        if any(same(r.build) is not None for r in self._running.values()):
            return False
        return not any((g := same(q)) is not None and g.key(q.id) < order
                       for q, _ in self._queue)

    def _needs_of(self, build: _Record, job: int) -> Needs:
        needs = self._needs.get((build.id, job))
        if needs is None:
            needs = self._needs[(build.id, job)] = needs_of(
                ((a.traits, a.spec) for a in build.actions
                 if a.job == job and a.state is not ActionState.SKIPPED),
                build.job_parameters(job))
        return needs

    def _route(self, units: list[tuple[_Record, int]]) -> None:
        """Say again why these queued jobs wait: only who is registered changes that."""
        for build, job in units:
            reason = waiting_reason(self._needs_of(build, job), self._workers.values())
            if reason is None:
                self._waiting.pop((build.id, job), None)
            else:
                many = len(build.jobs) > 1
                self._waiting[(build.id, job)] = f"job {job}: {reason}" if many else reason

    def _pick(self) -> tuple[_Record, int, str] | None:
        """The first queued job that may run, and the most recently idle worker that may take
        it."""
        if not self._idle:
            return None
        for build, job in self._queue:
            if (build.id, job) in self._waiting or not self._runnable(build):
                continue
            needs = self._needs_of(build, job)
            worker = next((w for w in reversed(self._idle)
                           if can_take(self._workers[w], needs)), None)
            if worker is not None:
                return build, job, worker
        return None

    def _assign(self, now: str) -> list[Decision]:
        out: list[Decision] = []
        while (picked := self._pick()) is not None:
            build, job, worker = picked
            self._queue.remove((build, job))
            self._idle.reverse()  # its last slot goes: the others keep their places
            self._idle.remove(worker)
            self._idle.reverse()
            starts = build.state is BuildState.QUEUED
            if starts:
                build.set_state(BuildState.RUNNING, now, worker)
            build.set_job(job, BuildState.RUNNING, now, worker)
            planned = frozenset(s for s in build.job_seqs(job)
                                if build.actions[s].state is ActionState.SKIPPED)
            # A queued job always has an action to run (enqueue ended those without one).
            first, misses = self._next(build, job, None, failed=False)
            assert first is not None
            skipped = self._skip(build, misses)
            build.set_action(first, state=ActionState.RUNNING)
            self._running[(build.id, job)] = _Running(build, job, worker, first, since=now,
                                                      planned=planned)
            snap = build.snapshot()
            out += [Save(snap, (*skipped, first)), Dispatch(worker, snap, first, starts)]
        return out

    @staticmethod
    def _next(build: _Record, job: int, after: int | None,
              failed: bool) -> tuple[int | None, list[tuple[int, str]]]:
        """The job's next action to run after seq `after` (None: its first), now that the job
        has `failed` or not; and the pending actions before it (or, with none to run, all
        after `after`) that their `when: status` skips, each with why (see _skip)."""
        misses: list[tuple[int, str]] = []
        for seq in build.job_seqs(job):
            action = build.actions[seq]
            if (after is not None and seq <= after) or action.state is not ActionState.PENDING:
                continue
            miss = status_miss(action.spec.get("when"), failed)
            if miss is None:
                return seq, misses
            misses.append((seq, miss))
        return None, misses

    @staticmethod
    def _skip(build: _Record, misses: list[tuple[int, str]]) -> list[int]:
        """Mark these actions skipped, each saying why; their seqs."""
        for seq, miss in misses:
            build.set_action(seq, state=ActionState.SKIPPED, message=miss)
        return [seq for seq, _ in misses]

    def _nothing_to_run(self, build: _Record, job: int, now: str) -> list[Decision]:
        """A queued job none of whose actions runs (none, or each skipped by `when:`): it
        succeeds at once, without a worker."""
        skipped = self._skip(build, self._next(build, job, None, failed=False)[1])
        build.set_job(job, BuildState.RUNNING, now)  # it starts and ends now
        # The build starts with the first job that runs (its listeners are told then), or
        # here when none of its jobs does.
        if build.state is BuildState.QUEUED and all(
                j.state.finished for j in build.jobs if j.job != job):
            build.set_state(BuildState.RUNNING, now)
        return self._job_over(build, job, BuildState.SUCCEEDED, now, tuple(skipped))

    def _drop_queued(self, build: _Record, state: BuildState, now: str) -> tuple[int, ...]:
        """Take the build's queued jobs off the queue, ended in `state`: their actions'
        seqs (all skipped)."""
        seqs: list[int] = []
        for unit in [u for u in self._queue if u[0].id == build.id]:
            self._queue.remove(unit)
            self._waiting.pop((build.id, unit[1]), None)
            self._needs.pop((build.id, unit[1]), None)
            build.set_job(unit[1], state, now)
            for seq in build.job_seqs(unit[1]):
                build.set_action(seq, state=ActionState.SKIPPED)
                seqs.append(seq)
        return tuple(seqs)

    def _kill_running(self, build: _Record, spare: _Running | None = None) -> list[Decision]:
        """Ask the workers of the build's running jobs (but `spare`) to stop them; each job
        ends when its worker reports."""
        kills: list[Decision] = []
        for run in [r for r in self._running.values()
                    if r.build.id == build.id and r is not spare]:
            if not run.cancel_requested:
                run.cancel_requested = True
                kills.append(Kill(run.worker, build.snapshot(), run.job))
        return kills

    def _stop_rest(self, build: _Record, state: BuildState, now: str) -> list[Decision]:
        """End the build's queued jobs in `state` and kill its running ones; the build ends
        here when none of its jobs still runs."""
        seqs = self._drop_queued(build, state, now)
        kills = self._kill_running(build)
        if all(j.state.finished for j in build.jobs):
            return self._finish(build, now, seqs)
        return ([Save(build.snapshot(), seqs)] if seqs else []) + kills

    def _hold_gate(self, build: _Record) -> None:
        gate = build.base.gate
        if gate is not None:
            self._gate_held.add((build.base.project, gate.target))

    def _finish(self, build: _Record, now: str, seqs: tuple[int, ...]) -> list[Decision]:
        build.set_state(build_outcome(build.jobs), now)
        self._hold_gate(build)
        snap = build.snapshot()
        return [Save(snap, seqs), Finished(snap)]

    def _job_over(self, build: _Record, job: int, state: BuildState, now: str,
                  seqs: tuple[int, ...]) -> list[Decision]:
        """Job `job` has ended in `state`: maybe the build too, or (fail_fast) the rest."""
        self._needs.pop((build.id, job), None)
        build.set_job(job, state, now)
        kills: list[Decision] = []
        if state is BuildState.FAILED and build.base.fail_fast:
            seqs = tuple(sorted({*seqs, *self._drop_queued(build, BuildState.CANCELLED, now)}))
            kills = self._kill_running(build)
        if all(j.state.finished for j in build.jobs):
            return self._finish(build, now, seqs)
        snap = build.snapshot()
        return [Save(snap, seqs), JobEnded(snap, job), *kills]

    def _end(
        self, run: _Running, state: BuildState, action_state: ActionState | None,
        outcome: Outcome | None, now: str, message: str | None, also: tuple[int, ...] = (),
    ) -> list[Decision]:
        """The running job ends in `state`, its current action in `action_state`; `also`:
        seqs of other actions of the build changed on the way, to save with it."""
        del self._running[(run.build.id, run.job)]
        build = run.build
        if action_state is not None:
            changes: dict[str, Any] = {"state": action_state, "message": message}
            if outcome is None:  # ended here, not by its worker: it ran until now
                changes["exit_code"] = None
                changes["duration"] = run.ran(now)
            build.set_action(run.seq, **changes)
        later = [s for s in build.job_seqs(run.job) if s > run.seq]
        for seq in later:
            build.set_action(seq, state=ActionState.SKIPPED)
        seqs = tuple(sorted({*also, run.seq, *later}))
        return self._job_over(build, run.job, state, now, seqs)
