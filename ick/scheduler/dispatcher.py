"""The dispatcher: feeds events to the state machine, persists each of its decisions before
acting on the next, hands out work to the workers' inboxes and tells the listeners."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from ick.errors import ConflictError, NotFoundError
from ick.model import (
    GATE_PARAMETER,
    NO_GIT,
    ActionState,
    Build,
    BuildState,
    Environment,
    GateFacts,
    GitFacts,
    Pipeline,
    Project,
)
from ick.scheduler.buildlog import BuildLog
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
from ick.scheduler.plan import (
    REF_TRIGGERS,
    REFUSED,
    Plan,
    Refusal,
    RepositoryPipelines,
    RepositoryRead,
    event_of,
    failing_plan,
    plan_build,
    refuse_untrusted,
    untrusted,
)
from ick.scheduler.refs import GATE_PREFIX, gate_ref, ref_problem, same_ref
from ick.scheduler.registry import Connected, WorkerRegistry
from ick.scheduler.routing import WorkerInfo
from ick.scheduler.work import WorkItem
from ick.storage.builds import BuildStore, BuildWrite, IdsTaken
from ick.storage.db import Tx
from ick.storage.resources import ResourceStore
from ick.timefmt import now_iso

log = logging.getLogger(__name__)


class BuildListener(Protocol):
    """Told when a build starts (its first action is handed out), when an action of it fails
    while it goes on (a `status: failure` action or another job runs next), and when it
    ends, with a frozen snapshot of it.

    Called inside the controller's transition: a listener only takes note and returns.
    """

    def build_started(self, build: Build) -> None: ...

    def action_failed(self, build: Build) -> None: ...

    def build_finished(self, build: Build) -> None: ...


# Given a build that has ended, a write for the transaction that saves its end (the outbox's
# decision of who is told): the end and what follows from it are one commit.
EndWrite = Callable[[Build], Callable[[Tx], Awaitable[object]]]

# The events whose trigger, for a ref and commit the project has built, makes no new build.
PUSHED = ("push", "tag", "change")


def facts_of(ick_trigger: str, overrides: dict[str, Any], event: str | None,
             git: GitFacts | None) -> tuple[str, GitFacts]:
    """A trigger's event and git facts: those given, else what `ick_trigger` and the
    overrides' git_ref and git_commit say."""
    ref = overrides.get("git_ref")
    if event is None:
        event = event_of(ick_trigger, ref)
    if git is None:
        commit = overrides.get("git_commit")
        git = GitFacts.of_ref(ref if isinstance(ref, str) else None,
                              commit if isinstance(commit, str) else None)
    return event, git


class _Watch:
    """A local worker's watch for its running action's cancel (Dispatcher.watch_cancel)."""

    __slots__ = ("job", "stop", "ended")

    def __init__(self, job: int, stop: Callable[[], None]) -> None:
        self.job = job
        self.stop = stop
        self.ended = False

    def fire(self) -> None:
        if not self.ended:
            self.ended = True
            self.stop()


class Dispatcher:
    """Owns the state machine: every event goes through it, under one lock."""

    def __init__(self, builds: BuildStore, resources: ResourceStore, registry: WorkerRegistry,
                 buildlog: BuildLog, listeners: Sequence[BuildListener] = (),
                 on_queued: Sequence[Callable[[Build], None]] = (),
                 untrusted: Refusal | None = None,
                 repository: RepositoryRead | None = None,
                 on_end: Sequence[EndWrite] = ()) -> None:
        self._builds = builds
        self._on_end = tuple(on_end)  # written with a build's last Save
        self._repository = repository  # reads a build's repository pipelines
        # Told of each new build once it is queued (a forge's pending status); only take note.
        self._on_queued = tuple(on_queued)
        self._untrusted = untrusted  # what an untrusted change's action may not do
        self._resources = resources
        self._registry = registry
        self._log = buildlog
        self._listeners = tuple(listeners)
        self._machine = Scheduler()
        self._lock = asyncio.Lock()
        self._pushes = asyncio.Lock()  # one pushed-ref trigger at a time (duplicates)
        self._stopping = False
        self._finished_count = 0
        # Per build, set (and dropped) after a transition that touched the build: who waits
        # for one of its jobs to be told to stop looks at the machine again. The machine
        # alone knows what is to stop. Per build, so that a trigger or another build's step
        # wakes none of the running actions' cancel watches (their cost would grow with them).
        self._touched: dict[int, asyncio.Event] = {}
        # The same for local workers' running actions, as callbacks (no task or event each):
        # per build, each watch's job and what to call once that job is to stop.
        self._watches: dict[int, list[_Watch]] = {}

    # start and stop -------------------------------------------------------

    async def recover(self) -> list[int]:
        """After a crash: running builds become interrupted, queued ones are queued again.

        Returns the ids of the builds that were interrupted, so their leftovers can be killed.
        """
        now = now_iso()
        interrupted = []
        for build in await self._builds.in_state(BuildState.RUNNING):
            self._log.recovered(build)
            async with self._lock:
                await self._apply(self._machine.recovered_running(build, now))
            interrupted.append(build.id)
            log.warning("build %d: interrupted by a daemon restart", build.id)
        for build in await self._builds.in_state(BuildState.QUEUED):
            self._log.open(build)
            async with self._lock:
                await self._apply(self._machine.enqueue(build, now))
        return interrupted

    async def shutdown(self) -> None:
        """Interrupt every running build (persisted first), then tell its worker to stop."""
        self._stopping = True
        async with self._lock:
            await self._apply(self._machine.shutdown(now_iso()))
        self._registry.close()

    # views ----------------------------------------------------------------

    def running_action(self, build_id: int, seq: int | None = None) -> RunningAction | None:
        """The running action `seq` of the build (without `seq`: of its first running job)."""
        return self._machine.running_action(build_id, seq)

    def running_by_worker(self) -> dict[str, list[tuple[int, int]]]:
        """What each busy worker runs: (build, seq) of each of its actions."""
        running: dict[str, list[tuple[int, int]]] = {}
        for run in self._machine.running_actions():
            running.setdefault(run.worker, []).append((run.build_id, run.seq))
        return running

    def busy(self) -> bool:
        return self._machine.busy()

    def activity(self) -> int:
        """A number that changes whenever a build ends."""
        return self._finished_count

    def waiting(self, build_id: int) -> str | None:
        """Why a queued build waits although workers may be idle ("no worker has arch=x")."""
        return self._machine.waiting(build_id)

    # users' requests ------------------------------------------------------

    async def trigger(self, project_name: str, overrides: dict[str, Any], *,
                      ick_trigger: str = "api", check: bool = True, event: str | None = None,
                      git: GitFacts | None = None, triggered_by: str = "ick",
                      environment: Environment | None = None) -> Build:
        """Queue a build; `ick_trigger` (a build parameter) says what asked for it. With
        `check`, a parameter the project does not know is refused (see plan_build). `event`
        (None: what `ick_trigger` and the ref mean), `git` (None: the overrides' git_ref and
        git_commit) and `triggered_by` (a token's name, or ick) are kept with the build; an
        untrusted change's actions that break its rules are marked to fail before they start
        (see plan.refuse_untrusted). With `environment`, the build is a deployment's run
        there: its pipelines, event deploy."""
        project = await self._resources.project(project_name)
        if project is None:
            raise NotFoundError(f"no project {project_name!r}")
        if environment is not None:
            # A deployment's run (DESIGN.md, "Continuous delivery"): the environment's
            # pipelines, one job (the workspace holds every job's outputs), event deploy.
            project = replace(project, pipelines=list(environment.pipelines), matrix=None,
                              fail_fast=False)
            event = "deploy"
        event, git = facts_of(ick_trigger, overrides, event, git)
        return await self._queue(project, overrides, ick_trigger, check, event, git,
                                 triggered_by)

    async def _queue(self, project: Project, overrides: dict[str, Any], ick_trigger: str,
                     check: bool, event: str, git: GitFacts, triggered_by: str,
                     gate: GateFacts | None = None) -> Build:
        pipelines = {name: await self._resources.pipeline(name)
                     for name in project.pipeline_names()}
        repository = None
        if project.repository_pipelines is not None and self._repository is not None:
            repository = await self._repository(project, overrides)
            pipelines.update((name, p) for name, p in repository.pipelines.items()
                             if name in pipelines)
        plan = await self._plan(project, pipelines, overrides, ick_trigger, check, event, git,
                                repository)
        if self._untrusted is not None and untrusted(project, event, ick_trigger):
            plan = refuse_untrusted(plan, self._untrusted)
        if self._untrusted is not None and repository is not None \
                and not project.trust_repository:
            plan = refuse_untrusted(plan, self._untrusted, set(repository.pipelines),
                                    f"untrusted pipeline of {project.repository_pipelines}")
        try:
            build, decisions, stored = await self._create(project, plan, event, triggered_by,
                                                          git, gate)
        except IdsTaken:  # another writer gave out its id: the store has read its counters
            build, decisions, stored = await self._create(project, plan, event, triggered_by,
                                                          git, gate)
        log.info("build %d: queued, project %s number %d", build.id, build.project, build.number)
        async with self._lock:
            await self._apply(decisions, stored)
        return build

    async def _create(self, project: Project, plan: Plan, event: str, triggered_by: str,
                      git: GitFacts, gate: GateFacts | None
                      ) -> tuple[Build, list[Decision], list[Save]]:
        """Store the new build, queued in the machine inside the transaction that inserts it
        (see enqueue below); the machine's decisions, and those of its Saves already stored.
        A build that could not be stored is forgotten by the machine and the logs."""
        now = now_iso()
        made: list[Build] = []  # the build, once its insert is under way
        decisions: list[Decision] = []
        stored: list[Save] = []

        def enqueue(build: Build) -> list[BuildWrite]:
            # Inside the transaction that inserts the build (called once): the machine queues
            # it, and what it makes of it at once (started on a free worker, or ended with
            # nothing to run) is stored in that same commit, one fsync on its way to its
            # start rather than two. The machine's calls are synchronous, so none of another
            # task's can come in between; its other builds' Saves go the usual way.
            made.append(build)
            self._log.open(build)
            for queued in self._on_queued:  # before the machine can start, or even end, it
                queued(build)
            decisions.extend(self._machine.enqueue(build, now))
            stored.extend(d for d in decisions if isinstance(d, Save) and d.build.id == build.id)
            return [self._write(save) for save in stored]

        try:
            build = await self._builds.create(project.name, plan.parameters,
                                              project.concurrent, plan.actions, now, plan.jobs,
                                              plan.fail_fast, event, triggered_by, git, gate,
                                              then=enqueue)
        except BaseException:
            if made:  # it was never stored: what the machine gave its jobs is free again
                self._log.forget(made[0].id)
                async with self._lock:
                    await self._apply(self._machine.forget(made[0].id, now_iso()))
            raise
        # Once stored, and before anything is acted on: its log starts with what `when:`
        # skipped at plan time (written earlier, a build never stored would leave a log).
        self._log.skipped(build)
        return build, decisions, stored

    async def _plan(self, project: Project, pipelines: dict[str, Pipeline | None],
                    overrides: dict[str, Any], ick_trigger: str, check: bool,
                    event: str, git: GitFacts,
                    repository: RepositoryPipelines | None) -> Plan:
        """plan_build, unless the repository's pipelines are broken or lack one the project
        names: then a build that fails at once, saying so (`PATH:LINE: what`)."""
        path = project.repository_pipelines or ""
        if repository is not None and repository.problem is not None:
            return failing_plan(project, overrides, ick_trigger, event, path, repository.problem)
        missing = next((name for name, p in pipelines.items() if p is None), None)
        if repository is not None and missing is not None:
            at = f" at commit {repository.commit[:12]}" if repository.commit else ""
            return failing_plan(project, overrides, ick_trigger, event, path,
                                f"{path}: project {project.name!r} names pipeline {missing!r}, "
                                f"which neither {path}{at} nor the server has")
        return plan_build(project, pipelines, overrides, ick_trigger=ick_trigger, check=check,
                          event=event, git=git)

    async def trigger_commit(self, project_name: str, overrides: dict[str, Any], *,
                             ick_trigger: str, check: bool = True, event: str | None = None,
                             git: GitFacts | None = None,
                             triggered_by: str = "ick") -> tuple[Build, bool]:
        """Like trigger, and whether the build is new. A trigger that reports a pushed ref
        (REF_TRIGGERS: hook, poll, forge) of a ref the project does not build (`branches:`,
        `tags:`) is a conflict; one of a ref and commit the project already has a queued,
        running or succeeded build of gives that build. A new push build of a branch cancels
        that branch's older push builds when the project says `cancel_superseded`."""
        project = await self._resources.project(project_name)
        if project is None:
            raise NotFoundError(f"no project {project_name!r}")
        event, git = facts_of(ick_trigger, overrides, event, git)
        if ick_trigger not in REF_TRIGGERS:  # manual and the daemon's own: never filtered
            return await self._queue(project, overrides, ick_trigger, check, event, git,
                                     triggered_by), True
        candidate = gate_ref(project, git)
        if candidate is not None:
            return await self._candidate(project, overrides, git, candidate, triggered_by)
        if project.gate is not None and (git.branch or "").startswith(GATE_PREFIX):
            raise ConflictError(f"{git.branch!r} is no candidate of project {project.name!r}'s "
                                f"gate: push to gate/{project.gate['branch']}/NAME")
        problem = ref_problem(project, git)
        if problem is not None:
            raise ConflictError(problem)
        # One at a time: a hook and a poll of one push make one build, and of two pushes of
        # a branch the later supersedes the earlier, never both each other.
        async with self._pushes:
            found = await self._same_push(project.name, git) if event in PUSHED else None
            if found is not None:
                log.info("build %d: already has commit %s of project %s (%s trigger)",
                         found.id, (git.commit or "")[:12], project.name, ick_trigger)
                return found, False
            build = await self._queue(project, overrides, ick_trigger, check, event, git,
                                      triggered_by)
            if event == "push" and project.cancel_superseded:
                await self._supersede(build)
        return build, True

    async def _candidate(self, project: Project, overrides: dict[str, Any], git: GitFacts,
                         candidate: tuple[str, str], triggered_by: str) -> tuple[Build, bool]:
        """A push to gate/TARGET/NAME: a candidate's build (event change, ick_trigger gate),
        queued behind the target's earlier candidates; one the project has already (the same
        ref and commit, queued, running or succeeded) is given instead."""
        if git.commit is None:
            raise ConflictError(f"a gate candidate needs its commit ({git.ref} has none)")
        target, name = candidate
        async with self._pushes:
            found = await self._same_push(project.name, git)
            if found is not None:
                return found, False
            build = await self._queue(project, {**overrides, GATE_PARAMETER: target}, "gate",
                                      True, "change", git, triggered_by,
                                      GateFacts(target, name, git.commit))
        return build, True

    async def retry_candidate(self, build: Build) -> Build:
        """The candidate of gate build `build` tested again, as its next attempt: merged onto
        the target's tip as it is now, ahead of the target's later candidates."""
        assert build.gate is not None
        gate = replace(build.gate, base=None, result=None, attempt=build.gate.attempt + 1,
                       order=build.gate.key(build.id))
        project = await self._resources.project(build.project)
        if project is None:
            raise NotFoundError(f"no project {build.project!r}")
        overrides = {k: v for k, v in build.parameters.items()
                     if k in ("git_ref", "git_commit", GATE_PARAMETER)}
        git = GitFacts.of_ref(build.git.ref, gate.candidate)
        return await self._queue(project, overrides, "gate", False, "change", git,
                                 build.triggered_by, gate)

    async def gate_released(self, project: str, target: str) -> None:
        """The gate has decided its last candidate: the next one may start."""
        async with self._lock:
            await self._apply(self._machine.gate_released(project, target, now_iso()))

    def gate_hold(self, project: str, target: str) -> None:
        """Hold the gate's candidates until gate_released (after a restart)."""
        self._machine.gate_hold(project, target)

    async def _same_push(self, project: str, git: GitFacts) -> Build | None:
        """The project's queued, running or succeeded build of this ref and commit, if any."""
        if git.commit is None:
            return None
        for built in await self._builds.of_commit(project, git.commit):
            facts = built.git
            if facts.ref is None:  # a build from before builds kept their git facts
                ref = built.parameters.get("git_ref")
                facts = GitFacts.of_ref(ref if isinstance(ref, str) else None)
            if same_ref(facts, git):
                return built
        return None

    async def _supersede(self, build: Build) -> None:
        """Cancel the project's queued and running push builds of the new build's branch
        that build other commits: the new one makes them moot."""
        branch, commit = build.git.branch, build.git.commit
        if branch is None or commit is None:
            return
        for old in await self._builds.unfinished(build.project):
            if (old.id >= build.id or old.event != "push" or old.git.branch != branch
                    or old.git.commit == commit):
                continue
            self._log.say_to_build(old.id, f"superseded by build {build.id}")
            log.info("build %d: superseded by build %d", old.id, build.id)
            async with self._lock:
                await self._apply(self._machine.cancel(old.id, now_iso()))

    async def rebuild(self, build_id: int, triggered_by: str = "ick") -> Build:
        """Queue a new build of the same project with the same parameters and git facts
        (event manual, ick_trigger rebuild)."""
        old = await self._builds.get(build_id)
        if old is None:
            raise NotFoundError(f"no build {build_id}")
        if await self._resources.project(old.project) is None:
            raise ConflictError(f"build {old.id} cannot be rebuilt: its project "
                                f"{old.project!r} was deleted")
        # A rebuild of a gate candidate tests it again without merging: only the gate moves
        # its target.
        overrides = {k: v for k, v in old.parameters.items()
                     if k not in ("ick_trigger", "ick_event", GATE_PARAMETER)}
        # Unchecked: the project may have dropped a parameter since; it ran with it then.
        # A change stays a change: the code proposed is no more trusted for being rebuilt.
        # (A gate candidate's was pushed to the repository: as trusted as a push.)
        return await self.trigger(old.project, overrides, ick_trigger="rebuild", check=False,
                                  event="change" if old.event == "change"
                                  and old.gate is None else "manual",
                                  git=None if old.git == NO_GIT else old.git,
                                  triggered_by=triggered_by)

    async def cancel(self, build_id: int) -> Build:
        build = await self._builds.get(build_id)
        if build is None:
            raise NotFoundError(f"no build {build_id}")
        if build.state.finished:
            raise ConflictError(f"build {build_id} has already ended ({build.state.value})")
        async with self._lock:
            await self._apply(self._machine.cancel(build_id, now_iso()))
        return build

    # workers' events ------------------------------------------------------

    async def worker_added(self, info: WorkerInfo) -> None:
        async with self._lock:
            await self._apply(self._machine.add_worker(info.id, info))

    async def worker_removed(self, worker: str, why: str) -> None:
        """The worker went away (`why`): whatever it ran is interrupted."""
        for run in self._machine.running_actions():
            if run.worker == worker:
                self._log.say(run.build_id, run.job, why)
        async with self._lock:
            await self._apply(self._machine.remove_worker(worker, now_iso(), why))

    async def hand_back(self, worker: str, build_id: int, seq: int) -> None:
        """A stopping worker gives back the action it runs: the build is queued again and
        starts over on another worker, and its log says so."""
        run = self._machine.running_action(build_id, seq)
        if run is None or run.worker != worker:
            return
        self._log.handed_back(build_id, run.job, worker, seq)
        log.warning("build %d: job %d handed back by worker %s, queued again", build_id,
                    run.job, worker)
        async with self._lock:
            await self._apply(self._machine.hand_back(build_id, seq, now_iso()))

    async def next_work(self, worker: str, timeout: float,
                        connected: Connected | None = None) -> WorkItem | None:
        """The worker's next action, waiting at most `timeout` seconds; `connected` says
        whether the long poll's connection is still open (None: a local worker's)."""
        inbox = self._registry.inbox(worker)
        self._registry.seen(worker)
        if self._stopping:
            # Nothing more is handed out; wait out the poll rather than have a worker spin.
            await asyncio.sleep(timeout)
            return None
        with self._registry.polling(worker, connected):
            if inbox.empty():
                async with self._lock:
                    await self._apply(self._machine.worker_ready(worker, now_iso()))
            try:
                async with asyncio.timeout(timeout):
                    item = await inbox.get()
            except TimeoutError:
                return None
        if item is not None and connected is not None and not connected():
            await self.undelivered(worker, item)
            return None
        return item

    async def undelivered(self, worker: str, item: WorkItem) -> None:
        """The action handed to the worker never reached it (its connection closed): its job
        goes back to the head of the queue at once, not after the worker's lease."""
        log.warning("build %d: worker %s is gone, action %d never reached it", item.build_id,
                    worker, item.seq)
        await self.hand_back(worker, item.build_id, item.seq)

    def output(self, worker: str, build_id: int, seq: int, data: bytes) -> None:
        run = self._machine.running_action(build_id, seq)
        if run is not None and run.worker == worker:
            self._log.output(build_id, run.job, data)

    async def done(self, worker: str, build_id: int, seq: int, outcome: Outcome,
                   ready: bool = False) -> bool:
        """The worker's action ended with `outcome`: whether its job goes on (its next action
        then comes to the worker). With `ready` (the worker asks for more as soon as this
        returns), a job that ended frees the slot in the same transition: the next job it
        is given is in its inbox, its start stored in the commit that stores this end."""
        run = self._machine.running_action(build_id, seq)
        if run is None or run.worker != worker:
            return False  # that job has ended (cancelled, interrupted): nothing more of it
        job = run.job
        async with self._lock:
            unwritten = self._log.failure(build_id, job)
            if unwritten is not None:
                await self._apply(self._machine.log_failed(build_id, unwritten, seq))
            if outcome.message and (outcome.exit_code != 0 or outcome.timed_out):
                self._log.say(build_id, job, outcome.message)
            now = now_iso()
            decisions = self._machine.action_exited(build_id, seq, outcome, now)
            self._log.action_ended(build_id, job, outcome)
            if ready and not self._stopping and not self._machine.is_running(build_id, job) \
                    and self._registry.inbox(worker).empty():
                self._registry.seen(worker)
                decisions += self._machine.worker_ready(worker, now)
            await self._apply(decisions)
        return self._machine.is_running(build_id, job)

    async def end_overdue(self, grace: float) -> None:
        """Fail each action run past its `timeout:` plus `grace` seconds, whose worker
        neither ended nor reported it; its worker's cancel poll then says stop."""
        now = now_iso()
        for run in self._machine.overdue(now, grace):
            async with self._lock:
                decisions = self._machine.timed_out(run.build_id, run.seq, now)
                if not decisions:
                    continue  # it ended meanwhile
                log.warning("build %d: action %d of job %d ran past its timeout on worker %s; "
                            "failing it", run.build_id, run.seq, run.job, run.worker)
                saved = next(d.build for d in decisions if isinstance(d, Save))
                action = saved.actions[run.seq]
                self._log.say(run.build_id, run.job, action.message or "timed out")
                self._log.action_ended(run.build_id, run.job,
                                       Outcome(None, action.duration or 0.0, action.message,
                                               timed_out=True))
                await self._apply(decisions)

    async def sweep_timeouts(self, grace: float) -> None:
        """Forever: end the actions that ran past their timeout plus `grace` seconds."""
        while True:
            await asyncio.sleep(min(1.0, max(0.05, grace / 8)))
            await self.end_overdue(grace)

    def _to_stop(self, build_id: int, job: int) -> bool:
        """Is the job to be stopped: told to, or no longer running (then it has ended)?"""
        return (self._machine.cancel_requested(build_id, job)
                or not self._machine.is_running(build_id, job))

    async def wait_cancel_for(self, build_id: int, timeout: float | None,
                              seq: int | None = None) -> bool:
        """Wait until the job whose action `seq` runs is to be stopped, at most `timeout`
        seconds (None: however long it takes): True if it is."""
        run = self._machine.running_action(build_id, seq)
        if run is None:
            return True
        try:
            async with asyncio.timeout(timeout):
                while not self._to_stop(build_id, run.job):
                    await self._touched.setdefault(build_id, asyncio.Event()).wait()
        except TimeoutError:
            return False
        return True

    def watch_cancel(self, build_id: int, seq: int,
                     stop: Callable[[], None]) -> Callable[[], None]:
        """Call `stop` (soon, from the event loop) once the job whose action `seq` runs is
        to be stopped, as wait_cancel_for would return True, unless the watch has ended: the
        function returned ends it. A callback rather than a task: a local worker watches
        every action it runs."""
        run = self._machine.running_action(build_id, seq)
        watch = _Watch(-1 if run is None else run.job, stop)
        if run is None or self._to_stop(build_id, run.job):  # told before it was watched
            asyncio.get_running_loop().call_soon(watch.fire)
        else:
            self._watches.setdefault(build_id, []).append(watch)

        def unwatch() -> None:
            watch.ended = True
            watches = self._watches.get(build_id)
            if watches is not None and watch in watches:
                watches.remove(watch)
                if not watches:
                    del self._watches[build_id]

        return unwatch

    def _wake_watches(self, build_id: int) -> None:
        watches = self._watches.get(build_id)
        if not watches:
            return
        loop = asyncio.get_running_loop()
        for watch in [w for w in watches if self._to_stop(build_id, w.job)]:
            watches.remove(watch)
            # Soon, not now: the watcher may be the very task that runs this transition.
            loop.call_soon(watch.fire)
        if not watches:
            del self._watches[build_id]

    # acting on decisions --------------------------------------------------

    async def _apply(self, decisions: list[Decision], stored: Sequence[Save] = ()) -> None:
        """Act on the machine's decisions, in order; `stored`: Saves already written (with
        the build's creation). Their Saves are written first, in order, in one transaction
        (a job's end and its worker's next job share a commit): what follows a Save acts only
        once it is stored."""
        saves = [d for d in decisions
                 if isinstance(d, Save) and not any(d is s for s in stored)]
        if saves:
            await self._persist(saves)
        for decision in decisions:
            if isinstance(decision, Save):
                self._log.skipped(decision.build, decision.seqs)
                self._failed(decision)
            elif isinstance(decision, Dispatch):
                if self._machine.running_action(decision.build.id, decision.seq) is None:
                    continue  # it ended while its Save was written (the worker went away)
                if self._registry.gone(decision.worker):
                    # It died while idle: its job is queued again for another worker, and
                    # it takes nothing more (the machine's hand-back) until it asks again.
                    log.warning("build %d: worker %s is gone (its long poll closed), "
                                "queuing job %d again", decision.build.id, decision.worker,
                                decision.build.actions[decision.seq].job)
                    await self._apply(self._machine.hand_back(decision.build.id, decision.seq,
                                                              now_iso()))
                    continue
                failure = self._dispatch(decision)
                if failure is not None:  # the build failed as it started: its worker is free
                    now = now_iso()
                    await self._apply(self._machine.action_exited(
                        decision.build.id, decision.seq, failure, now))
                    await self._apply(self._machine.worker_ready(decision.worker, now))
            elif isinstance(decision, Kill):
                log.info("build %d: stopping the running action of job %d", decision.build.id,
                         decision.job)
            elif isinstance(decision, JobEnded):  # one job of several: the build goes on
                self._log.job_ended(decision.build, decision.job)
            elif isinstance(decision, Finished):
                self._finished(decision.build)
        for build_id in {decision.build.id for decision in decisions}:
            touched = self._touched.pop(build_id, None)
            if touched is not None:
                touched.set()
            self._wake_watches(build_id)

    async def _persist(self, saves: list[Save]) -> None:
        """Write the builds as the Saves have them, in one transaction, with the lock held on
        entry and on return.

        The write joins the database's queue at once, in the order the machine decided, so
        a build's states are stored in that order; it is waited for without the lock, so the
        transitions of other builds meanwhile share its group commit rather than queueing
        behind its fsync.
        """
        saving = asyncio.ensure_future(self._builds.save_all([self._write(s) for s in saves]))
        self._lock.release()
        try:
            await asyncio.shield(saving)
        finally:
            # The caller's `async with` releases the lock: take it back even if cancelled.
            cancelled = False
            while True:
                try:
                    await self._lock.acquire()
                    break
                except asyncio.CancelledError:
                    cancelled = True
            if cancelled:
                raise asyncio.CancelledError

    def _write(self, save: Save) -> BuildWrite:
        """What storing the Save writes: with a build's end, who is told of it (on_end)."""
        also = tuple(end(save.build) for end in self._on_end) if save.build.state.finished \
            else ()
        return BuildWrite(save.build, save.seqs, save.git, also)

    def _dispatch(self, decision: Dispatch) -> Outcome | None:
        """Hand the action to its worker; the outcome of a build that cannot start."""
        build, seq = decision.build, decision.seq
        job = build.actions[seq].job
        if decision.starts_build:
            try:
                for listener in self._listeners:
                    listener.build_started(build)
            except Exception as e:  # a failure while starting fails the build, nothing else
                message = f"cannot start the build: {e}"
                log.warning("build %d: %s", build.id, message)
                self._log.say(build.id, job, message)
                return Outcome(None, 0.0, message)
        self._log.action_starts(build, seq)
        refused = build.actions[seq].spec.get(REFUSED)
        if isinstance(refused, str):  # an untrusted change's: it never reaches a worker
            log.warning("build %d: action %d refused: %s", build.id, seq, refused)
            outcome = Outcome(None, 0.0, refused)
            self._log.say(build.id, job, refused)
            self._log.action_ended(build.id, job, outcome)
            return outcome
        item = WorkItem(
            build_id=build.id, project=build.project, number=build.number, seq=seq,
            total=len(build.actions), action=build.actions[seq].spec,
            parameters=build.job_parameters(job), job=job, kind=build.actions[seq].kind,
            event=build.event, git=build.git,
        )
        self._registry.hand_out(decision.worker, item)
        return None

    def _failed(self, save: Save) -> None:
        """Tell the listeners of an action failed in a build that goes on; one failed in a
        build that ends with it, they learn of with its end."""
        build = save.build
        if build.state.finished or all(build.actions[seq].state is not ActionState.FAILED
                                       for seq in save.seqs):
            return
        for listener in self._listeners:
            listener.action_failed(build)

    def _finished(self, build: Build) -> None:
        log.info("build %d: %s", build.id, build.state.value)
        self._log.finished(build)
        self._finished_count += 1
        for listener in self._listeners:
            listener.build_finished(build)
