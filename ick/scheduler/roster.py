"""Who is registered as a worker: name, labels, slots, the token it registered with, and
when it was last heard from (its lease).

A worker registered over HTTP belongs to its token: every later call for its id must come
with that token. A local worker (token None) belongs to the daemon and is never reachable
over HTTP. Time arrives as an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ick.errors import ForbiddenError, NotFoundError
from ick.scheduler.routing import Labels, WorkerInfo

LEASE = 60.0  # seconds a remote worker may stay silent before it is dropped


@dataclass(frozen=True)
class WorkerView:
    """A registered worker as /workers and the workers page show it."""

    worker: str  # its id, as the logs and builds name it
    name: str
    local: bool
    labels: tuple[tuple[str, tuple[str, ...]], ...]  # sorted by key
    slots: int
    running: tuple[tuple[int, int], ...]  # (build, seq), sorted
    last_seen: str  # ISO 8601

    def to_json(self) -> dict[str, Any]:
        return {
            "worker": self.worker, "name": self.name, "local": self.local,
            "labels": {k: list(v) for k, v in self.labels},
            "slots": self.slots,
            "running": [{"build": b, "seq": s} for b, s in self.running],
            "last_seen": self.last_seen,
        }


@dataclass
class Entry:
    info: WorkerInfo
    name: str
    token: str | None  # the id of the token that registered it; None: a local worker
    seen: float  # monotonic seconds
    seen_at: str  # the same moment as ISO 8601, for people
    instance: str | None = None  # the remote worker's own key (kept in its state directory)

    def view(self, running: Iterable[tuple[int, int]]) -> WorkerView:
        return WorkerView(self.info.id, self.name, self.info.local,
                          tuple(sorted(self.info.labels.items())), self.info.slots,
                          tuple(sorted(running)), self.seen_at)


class Roster:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def add(self, worker: str, name: str, labels: Labels, slots: int, token: str | None,
            now: float, now_iso: str, instance: str | None = None) -> WorkerInfo:
        info = WorkerInfo(worker, dict(labels), token is None, slots)
        self._entries[worker] = Entry(info, name, token, now, now_iso, instance)
        return info

    def named(self, name: str, token: str, instance: str) -> list[str]:
        """The workers registered under `name` with the token of id `token` by the worker
        whose own key is `instance` (the same worker, started again)."""
        return [w for w, e in self._entries.items()
                if e.name == name and e.token == token and e.instance == instance]

    def remove(self, worker: str) -> bool:
        return self._entries.pop(worker, None) is not None

    def check(self, worker: str, token: str, now: float, now_iso: str) -> None:
        """A request for `worker` with `token`: 404 if no such worker (register again), 403 if
        it is not this token's; else its lease is renewed."""
        entry = self._entries.get(worker)
        if entry is None:
            raise NotFoundError(f"no worker {worker!r}: register again")
        if entry.token != token:
            raise ForbiddenError(f"worker {worker!r} is not registered with this token")
        self.seen(worker, now, now_iso)

    def seen(self, worker: str, now: float, now_iso: str) -> None:
        entry = self._entries.get(worker)
        if entry is not None:
            entry.seen, entry.seen_at = now, now_iso

    def silent(self, now: float, limit: float) -> list[tuple[str, float]]:
        """Remote workers not heard from for more than `limit` seconds, and for how long."""
        return [(w, now - e.seen) for w, e in self._entries.items()
                if e.token is not None and now - e.seen > limit]

    def __contains__(self, worker: object) -> bool:
        return worker in self._entries

    def views(self, running: Mapping[str, Iterable[tuple[int, int]]]) -> tuple[WorkerView, ...]:
        """Every worker, with what `running` says it runs (worker -> [(build, seq)])."""
        return tuple(e.view(running.get(w, ())) for w, e in sorted(self._entries.items()))
