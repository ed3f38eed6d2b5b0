"""What a runner gives back (`ActionResult`): how its action ended, in the runners' own terms.

The worker times the action and turns this into the scheduler's `Outcome`, so no runner
depends on the scheduler's types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ick.model import SOURCES_KEY, SourceRevision
from ick.runners.process import ProcessResult


@dataclass(frozen=True)
class ActionResult:
    """How one action ended: its exit code (None: it never ran to an exit), what to say about
    it, what its runner reports (`details`, shown under the action in the API) and the source
    revisions it checked out (the commit a build built comes from those)."""

    exit_code: int | None
    message: str | None = None
    timed_out: bool = False
    details: Mapping[str, object] = field(default_factory=dict)
    sources: tuple[SourceRevision, ...] = ()

    def reported(self) -> dict[str, object]:
        """Everything the worker reports beside the exit code and message: the details, and
        the sources under the key every reader of an action's sources knows."""
        out = dict(self.details)
        if self.sources:
            out[SOURCES_KEY] = [s.to_json() for s in self.sources]
        return out

    @classmethod
    def ok(cls, **details: object) -> ActionResult:
        """A success with these details."""
        return cls(0, details=details)

    @classmethod
    def of_process(cls, result: ProcessResult, timeout: float | None) -> ActionResult:
        """A child process's end as a user reads it: a timeout, a signal, an exit status."""
        code = result.exit_code
        if result.timed_out:
            return cls(code, f"timed out after {timeout or 0:g} s", timed_out=True)
        if code < 0:
            return cls(code, f"killed by signal {-code}")
        return cls(code, None if code == 0 else f"exit status {code}")
