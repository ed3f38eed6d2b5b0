"""The daemon's upkeep: runs the pruner, schedules, polls and downstream builds it is given."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ick.upkeep.downstream import Downstream, Trigger
from ick.upkeep.prune import Pruner
from ick.upkeep.timers import Polls, Schedules


@dataclass(frozen=True)
class Upkeep:
    """The background work open_daemon built: `run` runs it until cancelled."""

    pruner: Pruner
    schedules: Schedules
    polls: Polls
    downstream: Downstream  # a listener of the controller: builds that `triggers:` names
    trigger: Trigger  # the controller's, for downstream builds

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.pruner.run_hourly())
            group.create_task(self.schedules.run())
            group.create_task(self.polls.run())
            group.create_task(self.downstream.run(self.trigger))
