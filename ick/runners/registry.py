"""One worker process's runners: each made from its action type's record at its first action.

The records (and so every runner module) load at the first action, not at start: a daemon
that never runs git or reprepro does not keep their modules in memory. `action_type` is the
one typed door to them for code that must not load them early (the worker, the work API).
"""

from __future__ import annotations

from collections.abc import Mapping

from ick.errors import ActionError
from ick.runners.base import ActionType, Runner, Shared


def action_type(action: Mapping[str, object], kind: str | None = None) -> ActionType | None:
    """The record of an action's type: of `kind` where the action's kind was decided when its
    file was checked, else the one its document spells; None if the catalog has none."""
    from ick.runners import catalog  # the records load here, at their first use

    return catalog.BY_KIND.get(kind) if kind else catalog.type_of(action)


class Runners:
    """The runners of one worker process, and what they share (the git mirrors' locks)."""

    def __init__(self) -> None:
        self.shared = Shared()
        self._made: dict[str, Runner] = {}

    def runner_for(self, kind: str) -> Runner:
        runner = self._made.get(kind)
        if runner is None:
            found = action_type({}, kind)
            if found is None:
                raise ActionError(f"action type {kind!r} is not supported by this worker")
            runner = self._made[kind] = found.runner()
        return runner
