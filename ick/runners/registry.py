"""One worker process's runners: each made from its action type's record at its first action.

The records (and so every runner module) load at the first action, not at start: a daemon
that never runs git or reprepro does not keep their modules in memory. `action_type` is the
one typed door to them for code that must not load them early (the worker, the work API): it
takes the kind decided when the action's file was checked, never reads the document.
"""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.base import ActionType, Runner, Shared


def action_type(kind: str) -> ActionType | None:
    """The record of the action type `kind` (an ActionRecord's, a WorkItem's); None if the
    catalog has none."""
    from ick.runners import catalog  # the records load here, at their first use

    return catalog.BY_KIND.get(kind)


class Runners:
    """The runners of one worker process, and what they share (the git mirrors' locks)."""

    def __init__(self) -> None:
        self.shared = Shared()
        self._made: dict[str, Runner] = {}

    def runner_for(self, kind: str) -> Runner:
        runner = self._made.get(kind)
        if runner is None:
            found = action_type(kind)
            if found is None:
                raise ActionError(f"action type {kind!r} is not supported by this worker")
            runner = self._made[kind] = found.runner()
        return runner
