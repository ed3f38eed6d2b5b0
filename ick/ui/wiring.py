"""The one place the pages find the daemon's services: each accessor reads an app key.

When the composition root changes shape, only this module changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ick import keys
from ick.config import Settings
from ick.delivery.coordinator import Deliveries
from ick.keepers.sessions import SessionKeeper
from ick.keepers.streams import StreamSlots
from ick.scheduler.driver import Controller
from ick.storage.artifacts import ArtifactStore
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.notifications import NotificationStore
from ick.storage.outputs import OutputStore
from ick.storage.overview import BuildOverview
from ick.storage.resources import ResourceStore


def settings(request: web.Request) -> Settings:
    return request.app[keys.SETTINGS]


def stream_slots(request: web.Request) -> StreamSlots:
    return request.app[keys.STREAM_SLOTS]


def builds(request: web.Request) -> BuildStore:
    return request.app[keys.BUILDS]


def overview(request: web.Request) -> BuildOverview:
    return request.app[keys.OVERVIEW]


def resources(request: web.Request) -> ResourceStore:
    return request.app[keys.RESOURCES]


def logs(request: web.Request) -> LogStore:
    return request.app[keys.LOGS]


def controller(request: web.Request) -> Controller:
    return request.app[keys.CONTROLLER]


def deployments(request: web.Request) -> Deliveries:
    return request.app[keys.DEPLOYMENTS]


def sessions(request: web.Request) -> SessionKeeper:
    return request.app[keys.SESSIONS]


def artifacts(request: web.Request) -> ArtifactStore:
    return request.app[keys.ARTIFACTS]


def outputs(request: web.Request) -> OutputStore:
    return request.app[keys.OUTPUTS]


def notifications(request: web.Request) -> NotificationStore:
    return request.app[keys.NOTIFICATIONS]


def base_url(request: web.Request) -> str:
    return request.app[keys.BASE_URL].rstrip("/")


@dataclass(frozen=True)
class WorkerRow:
    name: str  # its id, as the logs and builds name it
    local: bool
    labels: list[str]  # "key=value", sorted
    slots: int
    running: list[int]  # build ids
    last_seen: str  # ISO 8601


def workers(request: web.Request) -> list[WorkerRow]:
    """Every registered worker, its labels, the builds it runs, when it was last heard from."""
    return [
        WorkerRow(name=view.worker, local=view.local,
                  labels=[f"{key}={value}" for key, values in view.labels for value in values],
                  slots=view.slots, running=sorted({build for build, _ in view.running}),
                  last_seen=view.last_seen)
        for view in controller(request).workers()
    ]
