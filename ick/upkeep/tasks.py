"""The daemon's upkeep: runs the pruner, schedules, polls and downstream builds it is given."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ick.storage.resources import ResourceStore
from ick.storage.timers import TimerStore
from ick.upkeep.downstream import Downstream, Trigger
from ick.upkeep.prune import Pruner
from ick.upkeep.timers import Clock, Polls, Schedules


@dataclass(frozen=True)
class Upkeep:
    """Made (by open_daemon) before the controller, which `downstream` listens to; `run` gets
    the controller's trigger."""

    resources: ResourceStore
    timers: TimerStore
    pruner: Pruner
    downstream: Downstream
    clock: Clock
    git_dir: Path  # the mirrors polls fetch through

    async def run(self, trigger: Trigger) -> None:
        """Until cancelled."""
        schedules = Schedules(self.resources, self.timers, trigger, self.clock)
        polls = Polls(self.resources, self.timers, trigger, self.clock, self.git_dir)
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pruner.run_hourly())
            group.create_task(schedules.run())
            group.create_task(polls.run())
            group.create_task(self.downstream.run(trigger))
