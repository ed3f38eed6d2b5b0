"""A worker: asks a `WorkSource` for actions, runs them (up to `slots` at once), times each and
reports how it ended; on stop it hands back what it runs and deregisters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ick.errors import ClientError, IckError, NotFoundError
from ick.model import job_name
from ick.runners.base import ActionContext, BuildScratch, HostSettings, Runner, WorkerServices
from ick.runners.registry import Runners
from ick.runners.result import ActionResult
from ick.scheduler.machine import Outcome
from ick.scheduler.routing import Labels
from ick.scheduler.work import Refused, Unreachable, WorkItem, WorkSource
from ick.worker.deployed import fill_workspace
from ick.worker.outputs import with_outputs
from ick.worker.secretfiles import secret_files
from ick.worker.tracking import ActionTracker
from ick.worker.workspaces import Workspaces

log = logging.getLogger(__name__)

POLL = 30.0  # seconds one long-poll for work may take
MAX_BACKOFF = 30.0  # seconds between attempts to reach a controller that does not answer
HAND_BACK_LIMIT = 10.0  # seconds a stopping worker tries to hand back an action


def outcome_of(result: ActionResult, duration: float) -> Outcome:
    """How an action ended, from what its runner gave back, timed by the worker."""
    return Outcome(result.exit_code, duration, result.message, result.timed_out,
                   result.reported())


@dataclass
class _Build:
    """What the worker keeps for a build between its actions."""

    scratch: BuildScratch = field(default_factory=BuildScratch)
    seq: int = 0  # the action it runs, or ran last
    filled: bool = False  # a deployment's run: its workspace holds the deployed outputs


class Worker:
    def __init__(
        self, source: WorkSource, name: str, host: HostSettings,
        services: WorkerServices | None = None, workspaces: Workspaces | None = None,
        runners: Runners | None = None, labels: Labels | None = None, slots: int = 1,
        tracker: ActionTracker | None = None, announce: int = logging.DEBUG,
        controller: str = "the daemon",
    ) -> None:
        self.source = source
        self.name = name
        self.host = host
        self.services = services
        self.workspaces = workspaces or Workspaces(host.state_dir / "workspaces")
        self.runners = runners or Runners()
        self.labels = dict(labels or {})
        self.slots = slots
        self.tracker = tracker  # remote workers: what runs, so a restart can kill leftovers
        self.worker_id: str | None = None
        self._builds: dict[tuple[int, int], _Build] = {}  # (build, job) -> its scratch
        self._register_lock = asyncio.Lock()
        # The level of the lines saying what it does: INFO for `ick worker`, whose output is
        # all its user sees; DEBUG for the daemon's own workers (the daemon logs builds).
        self.announce = announce
        self.controller = controller  # who it registers with, as its lines name it

    def workspace(self, build_id: int, job: int = 0) -> Path:
        return self.workspaces.path(build_id, job)

    def run_dir(self, build_id: int, job: int = 0) -> Path:
        # job 0's is the build's, as its workspace is
        return (self.host.run_root or self.host.state_dir / "run") / job_name(build_id, job or None)

    async def run(self) -> None:
        """Work until cancelled: then what runs is handed back, and the worker deregisters."""
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.slots):
                    group.create_task(self._slot())
        finally:
            # Jobs in hand between two actions go back too (those running an action went
            # back as their slot stopped), then the worker deregisters. A job's actions are
            # one after another in its build: the next one is seq + 1.
            for unit, build in list(self._builds.items()):
                if self.worker_id is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self.source.hand_back(
                            self.worker_id, unit[0], build.seq + 1), HAND_BACK_LIMIT)
                await self._end_build(unit)
            if self.worker_id is not None:
                worker_id, self.worker_id = self.worker_id, None
                with contextlib.suppress(IckError, TimeoutError):
                    await asyncio.wait_for(self.source.deregister(worker_id), HAND_BACK_LIMIT)

    async def _registered(self) -> str:
        """This worker's id, registering (again) if it has none."""
        async with self._register_lock:
            if self.worker_id is None:
                self.worker_id = await self.source.register(self.name, self.labels, self.slots)
                labels = " ".join(f"{key}={','.join(values)}"
                                  for key, values in sorted(self.labels.items())) or "none"
                log.log(self.announce, "worker %s: registered with %s as %s (%d slots, "
                        "labels %s)", self.name, self.controller, self.worker_id, self.slots,
                        labels)
            return self.worker_id

    async def _slot(self) -> None:
        """One slot: poll, run, report, forever. A controller that is away is tried again with
        backoff (same id: an idle worker is not disturbed); one that forgot this worker (it
        restarted, or dropped us) is registered with again."""
        backoff = 0.5
        worker_id: str | None = None
        while True:
            try:
                worker_id = await self._registered()
                item = await self.source.next_work(worker_id, POLL)
                backoff = 0.5
                if item is not None:
                    await self.handle(worker_id, item)
            except Refused:
                raise  # a bad or revoked token: the worker stops
            except Unreachable as e:
                log.warning("worker %s: %s; trying again in %.1f s", self.name, e.message,
                            backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except (ClientError, NotFoundError) as e:
                log.warning("worker %s: %s; registering again", self.name, e.message)
                async with self._register_lock:
                    if self.worker_id == worker_id:
                        self.worker_id = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def handle(self, worker_id: str, item: WorkItem) -> None:
        failed: Outcome | None = None
        unit = (item.build_id, item.job)
        if unit not in self._builds:
            try:
                self._begin_build(unit)
            except OSError as e:  # the build fails, saying why; the worker goes on
                log.warning("build %d: cannot start: %s", item.build_id, e)
                failed = Outcome(None, 0.0, f"cannot start the build: {e.strerror or e}")
        self._builds[unit].seq = item.seq
        what = (f"worker {self.name}: build {item.build_id} action {item.seq + 1}/{item.total} "
                f"({item.kind or next(iter(item.action), 'action')}) of {item.project}")
        log.log(self.announce, "%s", what)
        try:
            outcome = failed or await self._run_until_cancelled(worker_id, item)
        except asyncio.CancelledError:
            # The worker stops: give the action back, so its build is not lost.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    self.source.hand_back(worker_id, item.build_id, item.seq), HAND_BACK_LIMIT)
            await self._end_build(unit)
            raise
        ended = "succeeded" if outcome.exit_code == 0 else "failed"
        log.log(self.announce, "%s done: %s in %.1f s", what, ended, outcome.duration)
        try:
            # ready: the slot asks for its next work as soon as this job is cleaned up.
            more = await self.source.done(worker_id, item.build_id, item.seq, outcome,
                                          ready=True)
        except BaseException:
            await self._end_build(unit)
            raise
        if not more:
            try:
                # Once: who waits for the build's end (its log's followers) hears of it
                # before the worker clears its workspace and run directory.
                await asyncio.sleep(0)
            finally:
                await self._end_build(unit)

    def _begin_build(self, unit: tuple[int, int]) -> None:
        """A job begins here: its own workspace and run directory."""
        self._builds[unit] = _Build()
        self.workspaces.create(*unit)
        run_dir = self.run_dir(*unit)
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, mode=0o700)

    async def _end_build(self, unit: tuple[int, int]) -> None:
        build = self._builds.pop(unit, None)
        if build is None:
            return
        build_id = unit[0]
        for cleanup in reversed(build.scratch.cleanups):
            try:
                result = cleanup()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("build %d: cleanup failed", build_id)
        shutil.rmtree(self.run_dir(*unit), ignore_errors=True)
        self.workspaces.release(*unit)

    async def _run_until_cancelled(self, worker_id: str, item: WorkItem) -> Outcome:
        """Run the action while its source watches for its cancel, which cancels this task:
        the action reaps its processes as the cancel reaches them, and ends "cancelled". A
        cancel of the worker itself (it stops) goes on up."""
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        told = False

        def stop() -> None:
            nonlocal told
            told = True
            task.cancel()

        unwatch = self.source.watch_cancel(worker_id, item.build_id, item.seq, stop)
        try:
            outcome = await self._run_action(worker_id, item)
        except asyncio.CancelledError:
            if told and task.uncancel() == 0:
                return Outcome(None, loop.time() - started, "cancelled")  # the time it ran
            raise
        finally:
            unwatch()
        if told:  # the cancel came as the action ended, which did not stop for it
            task.uncancel()
        return outcome

    def _runner(self, item: WorkItem) -> Runner:
        """The runner of the item's kind, decided when the action's file was checked."""
        return self.runners.runner_for(item.kind)

    async def _run_action(self, worker_id: str, item: WorkItem) -> Outcome:
        ctx = ActionContext(
            build_id=item.build_id, project=item.project, number=item.number, seq=item.seq,
            action=item.action, parameters=item.parameters,
            workspace=self.workspace(item.build_id, item.job),
            run_dir=self.run_dir(item.build_id, item.job),
            output=lambda data: self.source.output(worker_id, item.build_id, item.seq, data),
            host=self.host, scratch=self._builds[(item.build_id, item.job)].scratch,
            job=item.job, kind=item.kind, event=item.event, git=item.git,
            services=self.services, shared=self.runners.shared,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        tracked = (self.tracker.track(item.build_id, item.seq) if self.tracker is not None
                   else contextlib.nullcontext())
        try:
            with tracked:
                if self.tracker is not None:
                    ctx.started = self.tracker.started(item.build_id, item.seq)
                held = self._builds[(item.build_id, item.job)]
                if not held.filled:  # before a deployment's first action
                    held.filled = True
                    await fill_workspace(ctx)
                async with secret_files(ctx):
                    try:
                        result = await self._runner(item).run(ctx)
                    except IckError as e:
                        result = ActionResult(None, e.message)
                # Kept whether it succeeded or failed (a failed build's test reports).
                result = await with_outputs(ctx, result)
            return outcome_of(result, loop.time() - started)
        except IckError as e:
            return Outcome(None, loop.time() - started, e.message)
        except Exception as e:  # a bug in one runner fails its action, not the daemon
            log.exception("build %d: action %d failed inside ick", item.build_id, item.seq)
            return Outcome(None, loop.time() - started, f"internal error: {e}")
