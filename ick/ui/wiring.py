"""The one place the pages find the daemon's services: each accessor reads the application.

When the composition root changes shape, only this module changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ick.api.app import SERVICES, services
from ick.api.logins import public_base
from ick.api.sessions import SESSIONS, SessionKeeper
from ick.config import Settings
from ick.scheduler.driver import Controller
from ick.storage.artifacts import ArtifactStore
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.logs import LogStore
from ick.storage.notifications import NotificationStore
from ick.storage.overview import BuildOverview
from ick.storage.resources import ResourceStore

OVERVIEW = web.AppKey("ui_overview", BuildOverview)


def settings(request: web.Request) -> Settings:
    return services(request).settings


def builds(request: web.Request) -> BuildStore:
    return services(request).builds


def overview(request: web.Request) -> BuildOverview:
    return request.app[OVERVIEW]


def resources(request: web.Request) -> ResourceStore:
    return services(request).resources


def logs(request: web.Request) -> LogStore:
    return services(request).logs


def controller(request: web.Request) -> Controller:
    return services(request).controller


def sessions(request: web.Request) -> SessionKeeper:
    return request.app[SESSIONS]


def artifacts(request: web.Request) -> ArtifactStore | None:
    store: Any = services(request).extra.get("artifacts")
    return store if isinstance(store, ArtifactStore) else None


def notifications(request: web.Request) -> NotificationStore | None:
    store: Any = services(request).extra.get("notifications")
    return store if isinstance(store, NotificationStore) else None


def base_url(request: web.Request) -> str:
    return public_base(request)


def database(app: web.Application) -> Database:
    """The database, for the stores the pages add (at start, before the app is frozen)."""
    db: Database = app[SERVICES].extra["db"]
    return db


@dataclass(frozen=True)
class WorkerRow:
    name: str
    remote: bool
    running: list[tuple[int, str, int]]  # (build id, project, build number)


def workers(request: web.Request) -> list[WorkerRow]:
    """Every registered worker and the builds it runs, from the controller's view."""
    machine = controller(request).machine
    rows = []
    for name in sorted(machine.workers):
        running = [(r.build.id, r.build.project, r.build.number)
                   for r in machine.running.values() if r.worker == name]
        rows.append(WorkerRow(name, not name.startswith("local"), running))
    return rows
