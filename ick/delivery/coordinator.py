"""The deployments' coordinator: asks for deployments (by hand, `auto:`, roll-back), checks
`after:`, holds them for approval, runs one per environment at a time in the order asked for
(each as a build of event deploy, through the controller), and records how each ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from ick.errors import ConflictError, IckError, NotFoundError
from ick.model import NO_GIT, Build, BuildState, Environment, Project
from ick.scheduler.conditions import plan_miss
from ick.scheduler.plan import untrusted
from ick.storage.builds import BuildStore
from ick.storage.deployments import Deployment, DeploymentState, DeploymentStore
from ick.storage.resources import ResourceStore
from ick.timefmt import now_iso
from ick.worker.deployed import DEPLOY_BUILD

log = logging.getLogger(__name__)

# What the controller's trigger is to the coordinator: it makes a deployment's run.
RunTrigger = Callable[..., Awaitable[Build]]

DEPLOY_EVENT = "deploy"
# Parameters of the deployed build a run does not take over: they say what made that build.
NOT_CARRIED = ("ick_trigger", "ick_event")


class DeploymentListener(Protocol):
    """Told when a deployment ends (succeeded, failed, cancelled, rejected) and when one
    waits for approval. Only takes note and returns."""

    def deployment_ended(self, deployment: Deployment) -> None: ...

    def approval_waiting(self, deployment: Deployment) -> None: ...


def run_state(run: Build) -> DeploymentState:
    """How a deployment ended, from how its run did (an interrupted run failed it)."""
    if run.state == BuildState.SUCCEEDED:
        return DeploymentState.SUCCEEDED
    if run.state == BuildState.CANCELLED:
        return DeploymentState.CANCELLED
    return DeploymentState.FAILED


class Deliveries:
    """One per daemon; a controller listener (a run's end, a build's success for `auto:`).
    Every change of a deployment's state goes through here, under one lock."""

    def __init__(self, deployments: DeploymentStore, builds: BuildStore,
                 resources: ResourceStore,
                 listeners: Sequence[DeploymentListener] = (),
                 keep_deployments: int = 10) -> None:
        self.keep_deployments = keep_deployments  # the daemon's setting
        self.store = deployments
        self.builds = builds
        self.resources = resources
        self.listeners = tuple(listeners)
        self._trigger: RunTrigger | None = None
        self._lock = asyncio.Lock()
        # Snapshots of builds that ended: runs, and succeeded builds `auto:` may deploy.
        self._ended: asyncio.Queue[Build] = asyncio.Queue()
        self._busy = 0  # builds taken from the queue and not handled yet

    def bind(self, trigger: RunTrigger) -> None:
        """The controller's trigger, which makes runs (the controller is made after its
        listeners, of which this is one)."""
        self._trigger = trigger

    # the controller's listener ---------------------------------------------

    def build_started(self, build: Build) -> None:
        pass

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        # A gate candidate's build is deployed only once the gate merged it (gate_decided).
        if build.event == DEPLOY_EVENT or (build.state == BuildState.SUCCEEDED
                                           and build.gate is None):
            self._ended.put_nowait(build)

    def gate_decided(self, build: Build) -> None:
        """The gate decided a candidate: one merged is its target branch's build of the
        merge, which `auto:` deploys as it would a push of that branch."""
        if build.state == BuildState.SUCCEEDED and build.gate is not None \
                and build.gate.result == "merged":
            self._ended.put_nowait(build)

    def pending(self) -> int:
        """Ended builds not handled yet (tests wait for none)."""
        return self._ended.qsize() + self._busy

    async def run(self) -> None:
        """Forever: handle each ended build, one at a time."""
        while True:
            build = await self._ended.get()
            self._busy += 1
            try:
                await self.handle(build)
            except Exception:
                log.exception("build %d: handling its end for deployments failed", build.id)
            finally:
                self._busy -= 1

    async def handle(self, build: Build) -> None:
        if build.event == DEPLOY_EVENT:
            await self._run_ended(build)
        elif build.state == BuildState.SUCCEEDED:
            await self._auto(build, None)

    # views --------------------------------------------------------------------

    async def environments(self, project_name: str) -> list[dict[str, Any]]:
        """Each environment of the project, its live deployment and its waiting ones."""
        project = await self._project(project_name)
        found = []
        for environment in project.environment_list():
            live = await self.store.succeeded(project.name, environment.name, limit=1)
            waiting = await self.store.find(project.name, environment.name, limit=-1,
                                            states=(DeploymentState.WAITING,), ascending=True)
            found.append({**environment.to_json(),
                          "live": live[0].to_json() if live else None,
                          "waiting": [d.to_json() for d in waiting]})
        return found

    async def needed(self) -> set[int]:
        """The builds retention must keep, with their outputs: those live somewhere, those
        of each environment's last `keep_deployments` succeeded deployments, and those
        a deployment waits to ship."""
        keep: dict[tuple[str, str], int] = {}
        for project in await self.resources.projects():
            for environment in project.environment_list():
                count = environment.keep_deployments or project.keep_deployments
                if count is not None:
                    keep[(project.name, environment.name)] = count
        builds = await self.store.kept_builds(keep, self.keep_deployments)
        builds.update(d.build for d in await self.store.unfinished())
        return builds

    async def live(self, project: str, environment: str) -> Deployment | None:
        """The environment's newest succeeded deployment: its build is what is live there."""
        found = await self.store.succeeded(project, environment, limit=1)
        return found[0] if found else None

    async def get(self, deployment_id: int) -> Deployment:
        found = await self.store.get(deployment_id)
        if found is None:
            raise NotFoundError(f"no deployment {deployment_id}")
        return found

    # users' requests ------------------------------------------------------------

    async def deploy(self, project_name: str, environment_name: str, build_id: int | None,
                     requested_by: str, reason: str = "manual") -> Deployment:
        """Ask for a deployment of the build (None: the build live in `after:`, else the
        project's newest succeeded build) to the environment; 409 saying why it cannot be."""
        project, environment = await self._environment(project_name, environment_name)
        if build_id is None:
            build = await self._default_build(project, environment)
        else:
            build = await self._shippable(project, build_id)
        if environment.after is not None and not await self._was_live(
                project.name, environment.after, build.id):
            raise ConflictError(
                f"build {build.id} has no succeeded deployment to {environment.after!r}, and "
                f"environment {environment.name!r} takes only builds deployed there "
                f"(after: {environment.after})")
        state = DeploymentState.WAITING if environment.approval else DeploymentState.QUEUED
        return await self._ask(project.name, environment.name, build.id, state, reason,
                               requested_by)

    async def rollback(self, project_name: str, environment_name: str, build_id: int | None,
                       requested_by: str) -> Deployment:
        """Deploy the build that was live before the current one (or `build_id`, any build
        that was live there before). Asked for by a token that may approve, it does not
        wait for approval."""
        project, environment = await self._environment(project_name, environment_name)
        succeeded = await self.store.succeeded(project.name, environment.name)
        if not succeeded:
            raise ConflictError(f"nothing was deployed to {environment.name!r} yet: there is "
                                "nothing to roll back to")
        live = succeeded[0].build
        earlier = [d.build for d in succeeded if d.build != live]
        if build_id is None:
            if not earlier:
                raise ConflictError(f"no build was live in {environment.name!r} before build "
                                    f"{live}: there is nothing to roll back to")
            build_id = earlier[0]
        elif build_id == live:
            raise ConflictError(f"build {build_id} is live in {environment.name!r} already")
        elif build_id not in earlier:
            were = ", ".join(map(str, dict.fromkeys(earlier))) or "none"
            raise ConflictError(f"build {build_id} was never live in {environment.name!r}; "
                                f"a roll-back deploys one that was ({were})")
        await self._shippable(project, build_id)
        return await self._ask(project.name, environment.name, build_id,
                               DeploymentState.QUEUED, "rollback", requested_by)

    async def approve(self, deployment_id: int, approved_by: str) -> Deployment:
        async with self._lock:
            deployment = await self._waiting(deployment_id, "approved")
            deployment = await self.store.update(deployment, state=DeploymentState.QUEUED,
                                                 approved_by=approved_by)
        log.info("deployment %d: approved by %s", deployment.id, approved_by)
        await self._advance(deployment.project, deployment.environment)
        return await self.get(deployment.id)

    async def reject(self, deployment_id: int, rejected_by: str) -> Deployment:
        async with self._lock:
            deployment = await self._waiting(deployment_id, "rejected")
            deployment = await self.store.update(deployment, state=DeploymentState.REJECTED,
                                                 finished_at=now_iso())
        log.info("deployment %d: rejected by %s", deployment.id, rejected_by)
        self._tell_ended(deployment)
        return deployment

    # start and stop ---------------------------------------------------------

    async def recover(self) -> None:
        """After a restart (the controller recovered first): a deployment whose run ended
        (an interrupted one failed) ends so; waiting ones keep waiting; queued ones start."""
        places = set()
        for deployment in await self.store.unfinished():
            places.add((deployment.project, deployment.environment))
            if deployment.state != DeploymentState.RUNNING:
                continue
            run = await self.builds.get(deployment.run) if deployment.run is not None else None
            if run is None:  # stopped between asking for its run and noting it
                await self.store.update(deployment, state=DeploymentState.QUEUED,
                                        started_at=None)
            elif run.state.finished:
                await self._run_ended(run)
        for project, environment in sorted(places):
            await self._advance(project, environment)

    # inside -------------------------------------------------------------------

    async def _project(self, name: str) -> Project:
        project = await self.resources.project(name)
        if project is None:
            raise NotFoundError(f"no project {name!r}")
        return project

    async def _environment(self, project_name: str,
                           environment_name: str) -> tuple[Project, Environment]:
        project = await self._project(project_name)
        environment = project.environment(environment_name)
        if environment is None:
            known = ", ".join(e.name for e in project.environment_list()) or "none"
            raise NotFoundError(f"project {project.name!r} has no environment "
                                f"{environment_name!r} (it has: {known})")
        return project, environment

    async def _shippable(self, project: Project, build_id: int) -> Build:
        """The build, if a deployment of the project may ship it."""
        build = await self.builds.get(build_id)
        if build is None or build.project != project.name:
            raise NotFoundError(f"project {project.name!r} has no build {build_id}")
        if build.event == DEPLOY_EVENT:
            raise ConflictError(f"build {build_id} is a deployment's run: a deployment ships "
                                "the build it deployed, never its run")
        if build.state != BuildState.SUCCEEDED:
            raise ConflictError(f"build {build_id} has not succeeded ({build.state.value}): "
                                "only a succeeded build is deployed")
        trigger = build.parameters.get("ick_trigger")
        if untrusted(project, build.event, trigger if isinstance(trigger, str) else ""):
            raise ConflictError(f"build {build_id} is an untrusted change: rule 'no deployment' "
                                "(a project with trust_changes: true deploys its changes)")
        return build

    async def _default_build(self, project: Project, environment: Environment) -> Build:
        if environment.after is not None:
            live = await self.live(project.name, environment.after)
            if live is None:
                raise ConflictError(f"nothing is live in {environment.after!r}, and "
                                    f"environment {environment.name!r} takes only builds "
                                    f"deployed there (after: {environment.after})")
            return await self._shippable(project, live.build)
        build = await self.builds.newest_succeeded(project.name, DEPLOY_EVENT)
        if build is None:
            raise ConflictError(f"project {project.name!r} has no succeeded build to deploy")
        return build

    async def _was_live(self, project: str, environment: str, build_id: int) -> bool:
        return any(d.build == build_id for d in await self.store.succeeded(project, environment))

    async def _waiting(self, deployment_id: int, what: str) -> Deployment:
        deployment = await self.get(deployment_id)
        if deployment.state != DeploymentState.WAITING:
            raise ConflictError(f"deployment {deployment_id} is {deployment.state.value}, not "
                                f"waiting for approval: it cannot be {what}")
        return deployment

    async def _ask(self, project: str, environment: str, build_id: int,
                   state: DeploymentState, reason: str, requested_by: str) -> Deployment:
        deployment = await self.store.create(project, environment, build_id, state, reason,
                                             requested_by, now_iso())
        log.info("deployment %d: build %d to %s of %s (%s, by %s), %s", deployment.id,
                 build_id, environment, project, reason, requested_by, state.value)
        if state == DeploymentState.WAITING:
            for listener in self.listeners:
                listener.approval_waiting(deployment)
        await self._advance(project, environment)
        return await self.get(deployment.id)

    async def _advance(self, project: str, environment: str) -> None:
        """Start the environment's oldest queued deployment, unless one runs there."""
        while True:
            async with self._lock:
                running = await self.store.find(project, environment, limit=1,
                                                states=(DeploymentState.RUNNING,))
                if running:
                    return
                queued = await self.store.find(project, environment, limit=1, ascending=True,
                                               states=(DeploymentState.QUEUED,))
                if not queued:
                    return
                deployment = queued[0]
                now = now_iso()
                try:
                    run = await self._start(deployment)
                except IckError as e:
                    log.warning("deployment %d: cannot start: %s", deployment.id, e.message)
                    failed = await self.store.update(
                        deployment, state=DeploymentState.FAILED, started_at=now,
                        finished_at=now_iso())
                else:
                    await self.store.update(deployment, state=DeploymentState.RUNNING,
                                            run=run.id, started_at=now)
                    log.info("deployment %d: runs as build %d", deployment.id, run.id)
                    return
            self._tell_ended(failed)  # and the next one may start

    async def _start(self, deployment: Deployment) -> Build:
        """Queue the deployment's run: a build of its project, event deploy."""
        if self._trigger is None:
            raise IckError("deployments cannot run: no controller")
        project, environment = await self._environment(deployment.project,
                                                       deployment.environment)
        build = await self.builds.get(deployment.build)
        if build is None:
            raise ConflictError(f"build {deployment.build} is gone")
        overrides = {k: v for k, v in build.parameters.items() if k not in NOT_CARRIED}
        overrides.update(environment.parameters)
        overrides.update({"ick_environment": environment.name, DEPLOY_BUILD: build.id})
        return await self._trigger(
            project.name, overrides, ick_trigger="deploy", check=False,
            git=None if build.git == NO_GIT else build.git,
            triggered_by=deployment.approved_by or deployment.requested_by,
            environment=environment)

    async def _run_ended(self, run: Build) -> None:
        async with self._lock:
            deployment = await self.store.of_run(run.id)
            if deployment is None or deployment.state.finished:
                return
            deployment = await self.store.update(deployment, state=run_state(run),
                                                 finished_at=run.finished_at or now_iso())
        log.info("deployment %d: %s", deployment.id, deployment.state.value)
        self._tell_ended(deployment)
        await self._advance(deployment.project, deployment.environment)
        if deployment.state == DeploymentState.SUCCEEDED:
            shipped = await self.builds.get(deployment.build)
            if shipped is not None:  # promotion: `auto:` of the environments after this one
                await self._auto(shipped, deployment.environment)

    async def _auto(self, build: Build, after: str | None) -> None:
        """Deploy a succeeded build to each environment whose `auto:` it matches: those
        with no `after:` when it ends, those after ENV once it is live in ENV."""
        project = await self.resources.project(build.project)
        if project is None:
            return
        for environment in project.environment_list():
            if environment.auto is None or environment.after != after:
                continue
            # A merged gate build is its target branch's push (DESIGN.md, "the gate").
            event = "push" if build.gate is not None and build.gate.result == "merged" \
                else build.event
            if plan_miss(environment.auto, event, build.git, build.parameters):
                continue
            try:
                await self.deploy(project.name, environment.name, build.id, "ick", "auto")
            except IckError as e:
                log.warning("build %d: no automatic deployment to %s: %s", build.id,
                            environment.name, e.message)

    def _tell_ended(self, deployment: Deployment) -> None:
        for listener in self.listeners:
            listener.deployment_ended(deployment)
