"""The controller: its three parts (the dispatcher, the worker registry, the build log writer)
put together, as the one `WorkSource` workers speak to and the one service the API uses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ick.model import Build, Environment, GitFacts
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.dispatcher import BuildListener, Dispatcher, EndWrite
from ick.scheduler.machine import Outcome, RunningAction
from ick.scheduler.plan import Refusal, RepositoryRead
from ick.scheduler.registry import Connected, WorkerRegistry
from ick.scheduler.roster import LEASE, WorkerView
from ick.scheduler.routing import Labels
from ick.scheduler.work import WorkItem
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore

log = logging.getLogger(__name__)

TIMEOUT_GRACE = 30.0  # seconds past an action's timeout a worker has to end it itself

class Controller:
    """Owns the queue and the running builds; workers talk to it through `WorkSource`."""

    def __init__(self, builds: BuildStore, resources: ResourceStore, logs: LogStore,
                 listeners: Sequence[BuildListener] = (), lease: float = LEASE,
                 timeout_grace: float = TIMEOUT_GRACE,
                 on_queued: Sequence[Callable[[Build], None]] = (),
                 untrusted: Refusal | None = None,
                 repository: RepositoryRead | None = None,
                 on_end: Sequence[EndWrite] = ()) -> None:
        self.registry = WorkerRegistry(lease)
        # Seconds past an action's `timeout:` before the controller ends it itself.
        self.timeout_grace = timeout_grace
        self.buildlog = BuildLog(logs)
        self.dispatcher = Dispatcher(builds, resources, self.registry, self.buildlog,
                                     listeners, on_queued, untrusted, repository, on_end)

    @property
    def lease(self) -> float:
        """Seconds a remote worker may stay silent."""
        return self.registry.lease

    # start and stop -------------------------------------------------------

    async def recover(self) -> list[int]:
        """After a crash: running builds become interrupted, queued ones are queued again.
        Returns the ids of the builds that were interrupted."""
        return await self.dispatcher.recover()

    async def shutdown(self) -> None:
        """Interrupt every running build (persisted first), then tell its worker to stop."""
        await self.dispatcher.shutdown()

    async def sweep_leases(self) -> None:
        """Forever: drop remote workers whose lease ran out, and fail actions run past their
        timeout (plus `timeout_grace`), so no build hangs on a worker."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.registry.sweep(self.unregister))
            group.create_task(self.dispatcher.sweep_timeouts(self.timeout_grace))

    # views ----------------------------------------------------------------

    def running_action(self, build_id: int, seq: int | None = None) -> RunningAction | None:
        """The running action `seq` of the build (without `seq`: of its first running job)."""
        return self.dispatcher.running_action(build_id, seq)

    def busy(self) -> bool:
        return self.dispatcher.busy()

    def activity(self) -> int:
        """A number that changes whenever a build ends."""
        return self.dispatcher.activity()

    def waiting(self, build_id: int) -> str | None:
        """Why a queued build waits although workers may be idle ("no worker has arch=x")."""
        return self.dispatcher.waiting(build_id)

    def workers(self) -> tuple[WorkerView, ...]:
        """Every registered worker, its labels and slots, what it runs, when it was last seen."""
        return self.registry.views(self.dispatcher.running_by_worker())

    # users' requests ------------------------------------------------------

    async def trigger(self, project_name: str, overrides: dict[str, Any], *,
                      ick_trigger: str = "api", check: bool = True, event: str | None = None,
                      git: GitFacts | None = None, triggered_by: str = "ick",
                      environment: Environment | None = None) -> Build:
        """Queue a build; `ick_trigger` (a build parameter) says what asked for it, `event`
        what caused it (None: what `ick_trigger` and the ref mean), `git` what it builds
        (None: from the overrides' git_ref and git_commit), `triggered_by` who asked (a
        token's name, or ick). With `check`, a parameter the project does not know is
        refused (see plan_build). A trigger of a pushed ref may give a build the project
        has already (see trigger_commit). With `environment`, the build is a deployment's
        run there (its pipelines, event deploy; ick.delivery makes them)."""
        if environment is not None:
            return await self.dispatcher.trigger(
                project_name, overrides, ick_trigger=ick_trigger, check=check, git=git,
                triggered_by=triggered_by, environment=environment)
        return (await self.trigger_commit(project_name, overrides, ick_trigger=ick_trigger,
                                          check=check, event=event, git=git,
                                          triggered_by=triggered_by))[0]

    async def trigger_commit(self, project_name: str, overrides: dict[str, Any], *,
                             ick_trigger: str = "api", check: bool = True,
                             event: str | None = None, git: GitFacts | None = None,
                             triggered_by: str = "ick") -> tuple[Build, bool]:
        """Like trigger, and whether the build is new: a trigger that reports a pushed ref
        (hook, poll, forge) of a ref the project does not build (`branches:`, `tags:`) is a
        conflict, and one of a ref and commit the project already has a queued, running or
        succeeded build of makes no new build. Manual triggers always make one."""
        return await self.dispatcher.trigger_commit(
            project_name, overrides, ick_trigger=ick_trigger, check=check, event=event,
            git=git, triggered_by=triggered_by)

    async def rebuild(self, build_id: int, triggered_by: str = "ick") -> Build:
        """Queue a new build of the same project with the same parameters and git facts:
        event manual, ick_trigger rebuild, asked for by `triggered_by`."""
        return await self.dispatcher.rebuild(build_id, triggered_by)

    # the gate -------------------------------------------------------------

    async def retry_candidate(self, build: Build) -> Build:
        """Queue gate build `build`'s candidate again, as its next attempt, ahead of the
        target's later candidates."""
        return await self.dispatcher.retry_candidate(build)

    async def gate_released(self, project: str, target: str) -> None:
        """The gate has decided its last candidate: the target's next one may start."""
        await self.dispatcher.gate_released(project, target)

    def gate_hold(self, project: str, target: str) -> None:
        """Hold the target's candidates until gate_released (a restart's undecided one)."""
        self.dispatcher.gate_hold(project, target)

    async def cancel(self, build_id: int) -> Build:
        return await self.dispatcher.cancel(build_id)

    # the work protocol ----------------------------------------------------

    async def register(self, name: str, labels: Labels | None = None, slots: int = 1,
                       token: str | None = None, instance: str | None = None) -> str:
        """A new worker; `token` is the id of the token a remote one registered with (None:
        a local, in-process worker, which no HTTP request can speak for). A remote worker
        registering again (the same `instance`, its own key, under its name and token: it
        was started again) replaces its old registration, whose running actions are
        interrupted as a gone worker's are. Two live workers never share an instance."""
        if token is not None and instance is not None:
            for old in self.registry.same(name, token, instance):
                log.warning("worker %s: registered again, dropping its old registration", old)
                await self.unregister(old, f"worker {old} went away: it registered again")
        info = self.registry.add(name, labels or {}, slots, token, instance)
        await self.dispatcher.worker_added(info)
        log.info("worker %s registered (%s, %d slots)", info.id,
                 "local" if token is None else "remote", slots)
        return info.id

    def check_worker(self, worker: str, token: str) -> None:
        """An HTTP request speaks for `worker` with the token of id `token`: 404 if there is
        no such worker, 403 if it is not that token's (local workers are no token's). Renews
        the worker's lease."""
        self.registry.check(worker, token)

    def seen(self, worker: str, now: float) -> None:
        """The worker was heard from at monotonic time `now` (renews its lease)."""
        self.registry.seen(worker, now)

    async def drop_silent(self, now: float, limit: float) -> list[str]:
        """Unregister remote workers not seen for `limit` seconds: their builds are interrupted."""
        return await self.registry.drop_silent(now, limit, self.unregister)

    async def deregister(self, worker: str) -> None:
        """The worker stops (it has handed back or finished what it ran)."""
        log.info("worker %s deregistered", worker)
        await self.unregister(worker, f"worker {worker} stopped")

    async def unregister(self, worker: str, why: str = "the worker went away") -> None:
        self.registry.remove(worker)
        await self.dispatcher.worker_removed(worker, why)
        self.registry.drop_inbox(worker)

    async def hand_back(self, worker: str, build_id: int, seq: int) -> None:
        """A stopping worker gives back the action it runs: the build is queued again and
        starts over on another worker, and its log says so."""
        await self.dispatcher.hand_back(worker, build_id, seq)

    async def next_work(self, worker_id: str, timeout: float,
                        connected: Connected | None = None) -> WorkItem | None:
        """The worker's next action within `timeout` seconds; `connected`: is a remote
        worker's long poll still connected (work is not handed to one that is gone)."""
        return await self.dispatcher.next_work(worker_id, timeout, connected)

    async def undelivered(self, worker_id: str, item: WorkItem) -> None:
        """The action handed out could not be sent to its worker: it is queued again."""
        await self.dispatcher.undelivered(worker_id, item)

    def output(self, worker_id: str, build_id: int, seq: int, data: bytes) -> None:
        self.dispatcher.output(worker_id, build_id, seq, data)

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome,
                   ready: bool = False) -> bool:
        return await self.dispatcher.done(worker_id, build_id, seq, outcome, ready)

    def watch_cancel(self, worker_id: str, build_id: int, seq: int,
                     stop: Callable[[], None]) -> Callable[[], None]:
        return self.dispatcher.watch_cancel(build_id, seq, stop)

    async def wait_cancel_for(self, worker_id: str, build_id: int, timeout: float,
                              seq: int | None = None) -> bool:
        """Like wait_cancel, bounded (for long polls): True if the job is to be stopped."""
        return await self.dispatcher.wait_cancel_for(build_id, timeout, seq)
