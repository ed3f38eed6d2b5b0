"""Builds that time asks for: `schedule:` (cron, in the daemon's time zone) and `poll:`
(fetch git_url through the mirror cache, build when its commit changes). Both take a clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Protocol

from ick.config import passed_env
from ick.errors import IckError
from ick.model import Build, GitFacts, Project
from ick.runners.gitcache import Git, Mirror, MirrorLocks
from ick.runners.gitcred import redactor
from ick.scheduler.timetable import due, next_slot
from ick.storage.resources import ResourceStore
from ick.storage.timers import TimerState, TimerStore

log = logging.getLogger(__name__)

RECHECK = 30.0  # seconds: the longest a new or changed schedule or poll goes unnoticed

Trigger = Callable[..., Awaitable[Build]]


class Clock(Protocol):
    def now(self) -> datetime:
        """The time, aware, in the daemon's zone."""
        ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Schedules:
    """Queues a build for each schedule slot that has passed (one for all the missed ones)."""

    def __init__(self, resources: ResourceStore, store: TimerStore, trigger: Trigger,
                 clock: Clock) -> None:
        self.resources = resources
        self.store = store
        self.trigger = trigger
        self.clock = clock
        self._since: datetime | None = None  # the previous check

    async def check(self) -> list[Build]:
        """One pass over every project; the builds it queued."""
        now = self.clock.now()
        since, self._since = self._since or now, now
        queued = []
        for project in await self.resources.projects():
            if project.schedule is None:
                continue
            state = await self.store.get(project.name, "schedule")
            seen = (datetime.fromisoformat(state.value)
                    if state is not None and state.key == project.schedule else None)
            # A schedule first seen now starts from the previous check, so a slot between
            # the two is not lost.
            decision = due(project.schedule, seen, now, new_since=since)
            if decision.run:
                build = await self._trigger(project)
                if build is not None:
                    queued.append(build)
            if decision.seen != seen:
                await self.store.put(project.name, "schedule",
                                     TimerState(project.schedule, decision.seen.isoformat()))
        return queued

    async def _trigger(self, project: Project) -> Build | None:
        try:
            build = await self.trigger(project.name, {}, ick_trigger="schedule", check=False,
                                       event="schedule", triggered_by="ick")
        except IckError as e:
            log.warning("schedule of project %s: cannot queue a build: %s", project.name,
                        e.message)
            return None
        log.info("build %d: queued by the schedule of %s", build.id, project.name)
        return build

    async def wait(self) -> None:
        """Sleep until the next slot of any schedule, or RECHECK at the most."""
        now = self.clock.now()
        delay = RECHECK
        for project in await self.resources.projects():
            if project.schedule is not None:
                slot = next_slot(project.schedule, now)
                if slot is not None:
                    # in UTC: within one zone, Python subtracts wall clocks, DST or not
                    delay = min(delay, (slot.astimezone(UTC) - now.astimezone(UTC))
                                .total_seconds())
        await self.clock.sleep(max(delay, 0.0) + 0.01)

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("checking schedules failed")
            await self.wait()


def git_env() -> dict[str, str]:
    env = passed_env()
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["GIT_TERMINAL_PROMPT"] = "0"  # nobody is there to type a password
    return env


class Polls:
    """Fetches each polled project's git_url through the mirror cache (STATE/git) and
    queues a build, with git_commit set, whenever the commit at git_ref changes."""

    def __init__(self, resources: ResourceStore, store: TimerStore, trigger: Trigger,
                 clock: Clock, git_root: Path, locks: MirrorLocks | None = None) -> None:
        self.resources = resources
        self.store = store
        self.trigger = trigger
        self.clock = clock
        self.git_root = git_root
        self.locks = locks or MirrorLocks()
        self._last: dict[str, float] = {}  # project -> monotonic time of its last poll

    async def commit(self, url: str, ref: str | None) -> tuple[str, str]:
        """The full name of `ref` (default: the branch the remote's HEAD names) and its
        commit, after updating the mirror."""
        hide = redactor([url])
        git = Git(git_env(), None, hide)
        mirror = Mirror(self.git_root, url, hide(url))
        async with self.locks.hold(mirror.lock_file, lambda: None):
            head = await mirror.remote_head(git) if ref is None else None
            await mirror.update(git)
            if head is not None:
                return head
            assert ref is not None
            found = await mirror.resolve(git, ref)
            if found is None:
                raise IckError(f"{hide(url)} has no branch or tag {ref!r}")
            return found

    async def check(self, project: Project) -> Build | None:
        """Poll one project now; the build queued, if its commit changed."""
        url, ref = project.parameters.get("git_url"), project.parameters.get("git_ref")
        if not isinstance(url, str) or not url or url.startswith("-"):
            log.warning("poll of project %s: it has no git_url parameter", project.name)
            return None
        ref = ref if isinstance(ref, str) and ref else None
        key = f"{url} {ref or 'HEAD'}"
        try:
            full_ref, sha = await self.commit(url, ref)
        except IckError as e:
            log.warning("poll of project %s: %s", project.name, e.message)
            return None
        state = await self.store.get(project.name, "poll")
        if state is not None and state.key == key and state.value == sha:
            return None
        try:
            # The ref polled is the build's (as the hook would say it), so a hook's build of
            # the same push is its duplicate, and `branches:`/`tags:` apply to it.
            facts = GitFacts.of_ref(full_ref if full_ref.startswith("refs/") else None, sha)
            build = await self.trigger(project.name, {"git_commit": sha}, ick_trigger="poll",
                                       check=False, git=facts, triggered_by="ick")
        except IckError as e:
            log.warning("poll of project %s: cannot queue a build: %s", project.name, e.message)
            return None
        await self.store.put(project.name, "poll", TimerState(key, sha))
        log.info("build %d: queued by the poll of %s at %s", build.id, project.name, sha[:12])
        return build

    async def check_due(self) -> list[Build]:
        """Poll every project whose interval has passed (all of them the first time)."""
        now = self.clock.monotonic()
        queued = []
        for project in await self.resources.projects():
            if project.poll is None:
                self._last.pop(project.name, None)
                continue
            last = self._last.get(project.name)
            if last is not None and now - last < project.poll:
                continue
            self._last[project.name] = now
            build = await self.check(project)
            if build is not None:
                queued.append(build)
        return queued

    async def wait(self) -> None:
        now = self.clock.monotonic()
        delay = RECHECK
        for project in await self.resources.projects():
            if project.poll is not None and project.name in self._last:
                delay = min(delay, self._last[project.name] + project.poll - now)
        await self.clock.sleep(max(delay, 0.0) + 0.01)

    async def run(self) -> None:
        while True:
            try:
                await self.check_due()
            except Exception:
                log.exception("polling failed")
            await self.wait()
