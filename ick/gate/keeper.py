"""The gatekeeper: decides each gate candidate's build once it has ended (merged, tested
again, or rejected), moves the target through the Mover, and lets the target's next
candidate start; after a restart, it decides what was left undecided."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace

from ick.errors import IckError
from ick.gate.move import Move, Moved, Mover, Moving
from ick.model import Build, BuildState, GateFacts, GitFacts
from ick.scheduler.driver import Controller
from ick.storage.builds import BuildStore
from ick.storage.resources import ResourceStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # a candidate is merged and tested at most this many times
RETRIED = "retried"  # an attempt's result when its candidate is tested again


class GateInbox:
    """A build listener: the ids of gate builds that ended, for the gatekeeper to decide."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[int] = asyncio.Queue()

    def build_started(self, build: Build) -> None:
        pass

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        if build.gate is not None:
            self.queue.put_nowait(build.id)


GateTold = Callable[[Build], None]  # told of a gate build once it is decided (the outbox)


class Gatekeeper:
    """Decides ended gate builds one at a time, in the order they ended."""

    def __init__(self, inbox: GateInbox, controller: Controller, builds: BuildStore,
                 resources: ResourceStore, mover: Mover, told: tuple[GateTold, ...] = ()) -> None:
        self._inbox = inbox
        self._controller = controller
        self._builds = builds
        self._resources = resources
        self._mover = mover
        self._told = told

    def moving(self, project: str) -> tuple[Moving, ...]:
        """The moves of the project's targets ick is pushing now."""
        return self._mover.moving(project)

    async def recover(self) -> None:
        """After a restart, before workers take work: hold each gate with an ended build
        left undecided (the restart's interrupted ones are in the inbox already), and decide
        it first."""
        waiting = set()
        while not self._inbox.queue.empty():
            waiting.add(self._inbox.queue.get_nowait())
        for build in sorted(await self._builds.gate_builds(undecided=True, limit=1000),
                            key=lambda b: b.id):
            if build.state.finished and build.gate is not None:
                self._controller.gate_hold(build.project, build.gate.target)
                waiting.add(build.id)
        for build_id in sorted(waiting):
            self._inbox.queue.put_nowait(build_id)

    async def run_forever(self) -> None:
        while True:
            build_id = await self._inbox.queue.get()
            try:
                await self.decide(build_id)
            except Exception:  # one candidate's trouble must not stop the gate
                log.exception("build %d: the gate could not decide it", build_id)

    def _say(self, build_id: int, text: str) -> None:
        self._controller.buildlog.say_to_build(build_id, f"gate: {text}")

    async def decide(self, build_id: int) -> None:
        build = await self._builds.get(build_id)
        if build is None or build.gate is None:
            return
        gate = build.gate_facts
        try:
            if gate.result is None:
                await self._decide(build, gate)
        finally:
            await self._controller.gate_released(build.project, gate.target)

    async def _decide(self, build: Build, gate: GateFacts) -> None:
        project = await self._resources.project(build.project)
        url = build.parameters.get("git_url")
        move = None
        if project is not None and project.gate is not None and isinstance(url, str):
            move = Move(build.project, url, gate.target, gate.name, gate.base or "",
                        gate.candidate, build.git.commit or "",
                        project.gate.get("push_key_secret"),
                        project.gate.get("known_hosts_secret"))
        if build.state is BuildState.SUCCEEDED and move is not None and gate.base \
                and build.git.commit:
            await self._merge(build, gate, move)
        elif build.state is BuildState.INTERRUPTED and gate.attempt < MAX_ATTEMPTS:
            await self._again(build, gate, "the build was interrupted")
        else:
            why = (f"the build {build.state.value}" if build.state is not BuildState.SUCCEEDED
                   else "nothing to merge (no git action merged it, or the gate is gone)")
            await self._reject(build, gate, move, why)

    async def _merge(self, build: Build, gate: GateFacts, move: Move) -> None:
        # The target's build of the merge from now on: a push of it is a duplicate of this.
        target_git = GitFacts.of_ref(f"refs/heads/{gate.target}", move.merge,
                                     build.git.subject, build.git.author)
        await self._builds.set_gate(build.id, gate, git=target_git)
        try:
            moved, why = await self._mover.move(move, self._log_line(build.id))
        except IckError as e:
            moved, why = Moved.FAILED, str(e)
        if moved is Moved.MERGED:
            self._say(build.id, f"merged: {why}")
            log.info("build %d: gate merged %s into %s", build.id, gate.candidate[:12],
                     gate.target)
            await self._decided(build, replace(gate, result="merged"), target_git)
            return
        await self._builds.set_gate(build.id, gate, git=build.git)
        if moved is Moved.MOVED_ON and gate.attempt < MAX_ATTEMPTS:
            await self._again(build, gate, why)
        else:
            await self._reject(build, gate, move, why if moved is Moved.FAILED else
                               f"{why}, and it was tested {gate.attempt} times")

    async def _again(self, build: Build, gate: GateFacts, why: str) -> None:
        again = await self._controller.retry_candidate(build)
        self._say(build.id, f"{why}: merged and tested again in build {again.id}")
        log.info("build %d: gate candidate %s tested again in build %d (%s)", build.id,
                 gate.candidate[:12], again.id, why)
        await self._decided(build, replace(gate, result=RETRIED), None)

    async def _reject(self, build: Build, gate: GateFacts, move: Move | None, why: str) -> None:
        if move is not None:
            try:
                await self._mover.delete(move, self._log_line(build.id))
            except IckError as e:
                log.warning("build %d: cannot delete the candidate branch: %s", build.id, e)
        self._say(build.id, f"rejected: {why}")
        log.info("build %d: gate rejected %s (%s)", build.id, gate.candidate[:12], why)
        await self._decided(build, replace(gate, result="rejected"), None)

    async def _decided(self, build: Build, gate: GateFacts, git: GitFacts | None) -> None:
        await self._builds.set_gate(build.id, gate, git=git)
        if gate.result == RETRIED:
            return
        decided = replace(build, gate=gate, git=git or build.git)
        for told in self._told:
            told(decided)

    def _log_line(self, build_id: int) -> Callable[[bytes], None]:
        def write(data: bytes) -> None:
            self._controller.buildlog.say_to_build(
                build_id, "gate: " + data.decode(errors="replace").rstrip("\n"))
        return write
