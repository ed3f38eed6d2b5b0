"""One worker process's runners: each made from its action type's record at its first action.

The records (and so every runner module) load at the first action, not at start: a daemon
that never runs git or reprepro does not keep their modules in memory.
"""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.base import Runner, Shared


class Runners:
    """The runners of one worker process, and what they share (the git mirrors' locks)."""

    def __init__(self) -> None:
        self.shared = Shared()
        self._made: dict[str, Runner] = {}

    def runner_for(self, kind: str) -> Runner:
        runner = self._made.get(kind)
        if runner is None:
            from ick.runners.catalog import BY_KIND

            action_type = BY_KIND.get(kind)
            if action_type is None:
                raise ActionError(f"action type {kind!r} is not supported by this worker")
            runner = self._made[kind] = action_type.runner()
        return runner
