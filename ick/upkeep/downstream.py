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

MAX_CHAIN = 50  # upstream builds followed back when looking for a loop

Trigger = Callable[..., Awaitable[Build]]


def upstream_of(build: Build) -> tuple[str, int] | None:
    """The (project, number) whose success queued this build, from `ick_trigger: P#N`."""
    value = build.parameters.get("ick_trigger")
    if not isinstance(value, str):
        return None
    project, sep, number = value.rpartition("#")
    if not sep or not project or not (number.isascii() and number.isdigit()):
        return None
    return project, int(number)


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

    def build_finished(self, build: Build) -> None:
        if build.state == BuildState.SUCCEEDED:
            self._succeeded.put_nowait(build)

    def pending(self) -> int:
        """Succeeded builds whose downstream builds are still to be queued."""
        return self._succeeded.qsize()

    async def chain(self, build: Build) -> set[str]:
        """The projects of this build and of the builds upstream of it."""
        names = {build.project}
        current: Build | None = build
        for _ in range(MAX_CHAIN):
            upstream = upstream_of(current) if current is not None else None
            if upstream is None:
                break
            names.add(upstream[0])
            current = await self.builds.by_number(*upstream)
        return names

    async def handle(self, build: Build, trigger: Trigger) -> list[Build]:
        project = await self.resources.project(build.project)
        if project is None or not project.triggers:
            return []
        chain = await self.chain(build)
        queued = []
        for name in project.triggers:
            if name in chain:
                log.warning("build %d: not triggering %s: it is upstream of this build "
                            "(a loop in triggers:)", build.id, name)
                continue
            try:
                queued.append(await trigger(
                    name, {}, ick_trigger=f"{build.project}#{build.number}", check=False))
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
