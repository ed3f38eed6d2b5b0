"""`triggers:`: a succeeded build queues builds of the projects its project names."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ick.errors import IckError
from ick.model import Build, BuildState
from ick.storage.builds import BuildStore
from ick.storage.resources import ResourceStore

log = logging.getLogger(__name__)

Trigger = Callable[..., Awaitable[Build]]


def upstream_of(build: Build) -> tuple[str, int] | None:
    """The (project, number) whose success queued this build, from `ick_trigger: P#N`."""
    return _project_number(build.parameters.get("ick_trigger"))


def _project_number(value: object) -> tuple[str, int] | None:
    if not isinstance(value, str):
        return None
    project, sep, number = value.rpartition("#")
    if not sep or not project or not (number.isascii() and number.isdigit()):
        return None
    return project, int(number)


def chain_of(build: Build) -> str:
    """The build that started this build's `triggers:` chain, as `PROJECT#N`: its
    `ick_chain` parameter, or the build itself when no `triggers:` queued it."""
    root = build.parameters.get("ick_chain")
    if upstream_of(build) is not None and _project_number(root) is not None:
        return str(root)
    return f"{build.project}#{build.number}"


class Downstream:
    """A controller listener that notes succeeded builds; `run` queues their downstream
    builds, one at a time."""

    def __init__(self, resources: ResourceStore, builds: BuildStore) -> None:
        self.resources = resources
        self.builds = builds
        # Snapshots (frozen): what waits here is the build as it ended, whatever comes after.
        self._succeeded: asyncio.Queue[Build] = asyncio.Queue()

    def build_started(self, build: Build) -> None:
        pass

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        # A deployment's run ships a build; it is no new success for `triggers:`.
        if build.state == BuildState.SUCCEEDED and build.event != "deploy":
            self._succeeded.put_nowait(build)

    def pending(self) -> int:
        """Succeeded builds whose downstream builds are still to be queued."""
        return self._succeeded.qsize()

    async def built_in_chain(self, root: str, project: str) -> bool:
        """Whether the chain started by `root` (`PROJECT#N`) already holds a build of
        `project`: the root itself, or a build whose `ick_chain` is the root."""
        found = _project_number(root)
        if found is None or found[0] == project:
            return True
        first = await self.builds.by_number(*found)
        # The chain's builds all came after its root (if the root was pruned, look at all).
        return await self.builds.in_chain(project, root, after_id=first.id if first else 0)

    async def handle(self, build: Build, trigger: Trigger) -> list[Build]:
        project = await self.resources.project(build.project)
        if project is None or not project.triggers:
            return []
        root = chain_of(build)
        queued = []
        for name in project.triggers:
            # One build of each project per chain, however `triggers:` loops or joins.
            if await self.built_in_chain(root, name):
                log.warning("build %d: not triggering %s: chain %s already built it",
                            build.id, name, root)
                continue
            try:
                queued.append(await trigger(
                    name, {"ick_chain": root}, ick_trigger=f"{build.project}#{build.number}",
                    check=False, event="downstream", triggered_by="ick"))
            except IckError as e:
                log.warning("build %d: cannot trigger %s: %s", build.id, name, e.message)
        for new in queued:
            log.info("build %d: queued by build %d of %s", new.id, build.id, build.project)
        return queued

    async def run(self, trigger: Trigger) -> None:
        while True:
            build = await self._succeeded.get()
            try:
                await self.handle(build, trigger)
            except Exception:
                log.exception("build %d: queueing its downstream builds failed", build.id)
