"""A worker: asks a `WorkSource` for the next action, runs it, reports how it ended."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any

from ick.errors import ClientError, IckError
from ick.model import action_kind
from ick.runners.base import ActionContext, BuildScratch, HostSettings
from ick.runners.registry import Runners
from ick.scheduler.machine import Outcome
from ick.scheduler.work import WorkItem, WorkSource
from ick.worker.secretfiles import secret_files
from ick.worker.workspaces import Workspaces

log = logging.getLogger(__name__)

POLL = 30.0  # seconds one long-poll for work may take
RETRY = 2.0  # seconds between attempts to reach a controller that does not answer


class Worker:
    def __init__(
        self, source: WorkSource, name: str, host: HostSettings, services: Any = None,
        workspaces: Workspaces | None = None, runners: Runners | None = None,
    ) -> None:
        self.source = source
        self.name = name
        self.host = host
        self.services = services
        self.workspaces = workspaces or Workspaces(host.state_dir / "workspaces")
        self.runners = runners or Runners()
        self.worker_id: str | None = None
        self._build: int | None = None
        self._scratch = BuildScratch()

    def workspace(self, build_id: int) -> Path:
        return self.workspaces.path(build_id)

    def run_dir(self, build_id: int) -> Path:
        return (self.host.run_root or self.host.state_dir / "run") / str(build_id)

    async def run(self) -> None:
        """Work until cancelled; a build in hand is cleaned up on the way out.

        A controller that cannot be reached, or no longer knows this worker (it restarted, or
        dropped us as silent), is registered with again: the build in hand is given up, and
        the controller interrupts it.
        """
        try:
            while True:
                try:
                    if self.worker_id is None:
                        self.worker_id = await self.source.register(self.name)
                    item = await self.source.next_work(self.worker_id, POLL)
                    if item is not None:
                        await self.handle(item)
                except ClientError as e:
                    log.warning("worker %s: %s; registering again", self.name, e.message)
                    await self._end_build()
                    self.worker_id = None
                    await asyncio.sleep(RETRY)
        finally:
            await self._end_build()

    async def handle(self, item: WorkItem) -> None:
        assert self.worker_id is not None
        if self._build != item.build_id:
            await self._end_build()
            self._begin_build(item.build_id)
        outcome = await self._run_until_cancelled(item)
        more = await self.source.done(self.worker_id, item.build_id, item.seq, outcome)
        if not more:
            await self._end_build()

    def _begin_build(self, build_id: int) -> None:
        self._build = build_id
        self._scratch = BuildScratch()
        self.workspaces.create(build_id)
        run_dir = self.run_dir(build_id)
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, mode=0o700)

    async def _end_build(self) -> None:
        if self._build is None:
            return
        build_id, self._build = self._build, None
        for cleanup in reversed(self._scratch.cleanups):
            try:
                result = cleanup()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("build %d: cleanup failed", build_id)
        self._scratch = BuildScratch()
        shutil.rmtree(self.run_dir(build_id), ignore_errors=True)
        self.workspaces.release(build_id)

    async def _run_until_cancelled(self, item: WorkItem) -> Outcome:
        assert self.worker_id is not None
        action = asyncio.ensure_future(self._run_action(item))
        cancel = asyncio.ensure_future(self.source.wait_cancel(self.worker_id, item.build_id))
        try:
            await asyncio.wait({action, cancel}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            cancel.cancel()
            if not action.done():
                action.cancel()
            # Let the action reap its processes. asyncio.wait never raises the tasks'
            # CancelledError, so a cancellation of this worker itself still goes through.
            await asyncio.wait({action, cancel})
        if action.cancelled():
            return Outcome(None, 0.0, "cancelled")
        return action.result()

    async def _run_action(self, item: WorkItem) -> Outcome:
        ctx = ActionContext(
            build_id=item.build_id, project=item.project, number=item.number, seq=item.seq,
            action=item.action, parameters=item.parameters,
            workspace=self.workspace(item.build_id), run_dir=self.run_dir(item.build_id),
            output=lambda data: self.source.output(self.worker_id or "", item.build_id,
                                                   item.seq, data),
            host=self.host, scratch=self._scratch, services=self.services,
            shared=self.runners.shared,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with secret_files(ctx):
                return await self.runners.runner_for(action_kind(item.action)).run(ctx)
        except IckError as e:
            return Outcome(None, loop.time() - started, e.message)
        except Exception as e:  # a bug in one runner fails its action, not the daemon
            log.exception("build %d: action %d failed inside ick", item.build_id, item.seq)
            return Outcome(None, loop.time() - started, f"internal error: {e}")

