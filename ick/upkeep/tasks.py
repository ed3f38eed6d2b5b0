"""The daemon's upkeep: the pruner, schedules, polls and downstream builds."""

from __future__ import annotations

import asyncio
import os

from ick.config import Settings
from ick.storage.artifacts import ArtifactStore
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.retention import Keep, RetentionStore
from ick.storage.timers import TimerStore
from ick.upkeep.downstream import Downstream, Trigger
from ick.upkeep.prune import Pruner
from ick.upkeep.timers import Clock, Polls, Schedules, SystemClock, local_zone
from ick.worker.systrees import SystreeCache


class Upkeep:
    """Made before the controller (its `downstream` listens to it); `run` gets the
    controller's trigger."""

    def __init__(
        self, *, settings: Settings, db: Database, resources: ResourceStore,
        builds: BuildStore, logs: LogStore, artifacts: ArtifactStore | None = None,
        systrees: SystreeCache | None = None, clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.resources = resources
        self.clock = clock or SystemClock(local_zone(os.environ))
        self.timers = TimerStore(db)
        self.pruner = Pruner(
            retention=RetentionStore(db), resources=resources, logs=logs,
            state_dir=settings.state_dir,
            default=Keep(settings.keep_builds, settings.keep_days), artifacts=artifacts,
            systrees=systrees)
        self.downstream = Downstream(resources, builds)

    async def run(self, trigger: Trigger) -> None:
        """Until cancelled."""
        schedules = Schedules(self.resources, self.timers, trigger, self.clock)
        polls = Polls(self.resources, self.timers, trigger, self.clock,
                      self.settings.state_dir / "git")
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pruner.run_hourly())
            group.create_task(schedules.run())
            group.create_task(polls.run())
            group.create_task(self.downstream.run(trigger))
