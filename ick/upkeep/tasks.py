"""The daemon's upkeep, opened once: the pruner, schedules, polls and downstream builds."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ick.config import Settings
from ick.scheduler.driver import Controller
from ick.storage.artifacts import ArtifactStore
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.retention import Keep, RetentionStore
from ick.storage.timers import TimerStore
from ick.upkeep.downstream import Downstream
from ick.upkeep.prune import Pruner
from ick.upkeep.timers import Clock, Polls, Schedules, SystemClock, local_zone
from ick.worker.systrees import SystreeCache


class Upkeep:
    def __init__(
        self, *, settings: Settings, db: Database, resources: ResourceStore,
        builds: BuildStore, logs: LogStore, controller: Controller,
        artifacts: ArtifactStore | None = None, systrees: SystreeCache | None = None,
        clock: Clock | None = None,
    ) -> None:
        state: Path = settings.state_dir
        clock = clock or SystemClock(local_zone(os.environ))
        timers = TimerStore(db)
        self.pruner = Pruner(
            retention=RetentionStore(db), resources=resources, logs=logs, state_dir=state,
            default=Keep(settings.keep_builds, settings.keep_days), artifacts=artifacts,
            systrees=systrees)
        self.schedules = Schedules(resources, timers, controller.trigger, clock)
        self.polls = Polls(resources, timers, controller.trigger, clock, state / "git")
        self.downstream = Downstream(resources, builds, controller.trigger)
        self.controller = controller

    async def run(self) -> None:
        """Until cancelled."""
        self.controller.finished_listeners.append(self.downstream.finished)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.pruner.run_hourly())
                group.create_task(self.schedules.run())
                group.create_task(self.polls.run())
                group.create_task(self.downstream.run())
        finally:
            self.controller.finished_listeners.remove(self.downstream.finished)
