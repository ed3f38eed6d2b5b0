"""The work protocol between controller and workers, in-process or over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ick.errors import ClientError
from ick.model import NO_GIT, GitFacts
from ick.scheduler.machine import Outcome
from ick.scheduler.routing import Labels


@dataclass(frozen=True)
class WorkItem:
    """One action of one build, as a worker receives it."""

    build_id: int
    project: str
    number: int
    seq: int
    total: int
    action: dict[str, Any]
    parameters: dict[str, Any]  # the job's: the build's, then the job's own
    job: int = 0  # seq is the action's place in the whole build, jobs one after another
    # The action's type, as decided when its file was checked (ActionRecord.kind): the worker
    # runs the runner of this type, and never works it out from `action`.
    kind: str = ""
    # What caused the build and what it builds: actions see them as ICK_EVENT and ICK_GIT_*.
    event: str = "manual"
    git: GitFacts = NO_GIT

    def to_json(self) -> dict[str, Any]:
        doc = {
            "build_id": self.build_id, "project": self.project, "number": self.number,
            "seq": self.seq, "total": self.total, "action": self.action,
            "parameters": self.parameters, "job": self.job, "event": self.event,
            "git": self.git.to_json(),
        }
        if self.kind:
            doc["kind"] = self.kind
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> WorkItem:
        return cls(
            build_id=int(doc["build_id"]), project=str(doc["project"]),
            number=int(doc["number"]), seq=int(doc["seq"]), total=int(doc["total"]),
            action=dict(doc["action"]), parameters=dict(doc["parameters"]),
            job=int(doc.get("job", 0)), kind=str(doc.get("kind") or ""),
            event=str(doc.get("event") or "manual"), git=git_of(doc.get("git")),
        )


def git_of(doc: object) -> GitFacts:
    """A work item's git facts from its JSON: the string fields only (a controller from
    before work items carried them sends none)."""
    if not isinstance(doc, dict):
        return NO_GIT
    return GitFacts(**{k: v for k, v in doc.items()
                       if k in GitFacts.__dataclass_fields__ and isinstance(v, str)})


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    return {"exit_code": outcome.exit_code, "duration": outcome.duration,
            "message": outcome.message, "timed_out": outcome.timed_out,
            "details": outcome.details}


def one_line(text: str) -> str:
    """`text` with each line break (and NUL) a space."""
    return " ".join(text.replace("\0", " ").splitlines())


def outcome_from_json(doc: dict[str, Any]) -> Outcome:
    code = doc.get("exit_code")
    details = doc.get("details") or {}
    return Outcome(
        exit_code=None if code is None else int(code),
        duration=float(doc.get("duration") or 0.0),
        # The message becomes a line of the build's log: a line break in it could forge others.
        message=None if doc.get("message") is None else one_line(str(doc["message"])),
        timed_out=bool(doc.get("timed_out", False)),
        details=dict(details) if isinstance(details, dict) else {},
    )


class Unreachable(ClientError):
    """The controller did not answer at all (as opposed to answering with an error)."""


class Refused(ClientError):
    """The controller refuses the worker's token (401 or 403): trying again will not help."""


class Forgotten(ClientError):
    """The controller does not know the worker (it restarted, or dropped it): register again."""


class WorkSource(Protocol):
    """What a worker needs from the controller: `Controller` in-process for local workers,
    ick.worker.remote.RemoteSource over HTTP for `ick worker`."""

    async def register(self, name: str, labels: Labels, slots: int) -> str: ...

    async def deregister(self, worker_id: str) -> None: ...

    async def hand_back(self, worker_id: str, build_id: int, seq: int) -> None: ...

    async def next_work(self, worker_id: str, timeout: float) -> WorkItem | None: ...

    def output(self, worker_id: str, build_id: int, seq: int, data: bytes) -> None: ...

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome,
                   ready: bool = False) -> bool:
        """The action ended: whether its job goes on. `ready`: the worker asks for its next
        work right after, so the controller may give it in the same transition."""

    def watch_cancel(self, worker_id: str, build_id: int, seq: int,
                     stop: Callable[[], None]) -> Callable[[], None]:
        """Call `stop` from the event loop once the job running action `seq` of the build is
        to be stopped (and never after the watch ended); returns what ends the watch."""
