"""The typed keys under which `make_app` puts each service of the daemon into the aiohttp app;
the API and the web UI read them and import nothing of each other or of the daemon."""

from __future__ import annotations

from aiohttp import web

from ick.config import Settings
from ick.delivery.coordinator import Deliveries
from ick.gate.keeper import Gatekeeper
from ick.keepers.secrets import SecretKeeper
from ick.keepers.sessions import SessionKeeper
from ick.keepers.streams import StreamSlots
from ick.keepers.tokens import TokenKeeper
from ick.scheduler.driver import Controller
from ick.storage.artifacts import ArtifactStore
from ick.storage.builds import BuildStore
from ick.storage.deliveries import DeliveryStore
from ick.storage.logs import LogStore
from ick.storage.notifications import NotificationStore
from ick.storage.outputs import OutputStore
from ick.storage.overview import BuildOverview
from ick.storage.resources import ResourceStore
from ick.upkeep.prune import Pruner

SETTINGS = web.AppKey("settings", Settings)
TOKENS = web.AppKey("tokens", TokenKeeper)
RESOURCES = web.AppKey("resources", ResourceStore)
BUILDS = web.AppKey("builds", BuildStore)
LOGS = web.AppKey("logs", LogStore)
NOTIFICATIONS = web.AppKey("notifications", NotificationStore)
DELIVERIES = web.AppKey("deliveries", DeliveryStore)  # forges' webhook deliveries seen
ARTIFACTS = web.AppKey("artifacts", ArtifactStore)
OUTPUTS = web.AppKey("outputs", OutputStore)  # builds' outputs
SECRETS = web.AppKey("secrets", SecretKeeper)
CONTROLLER = web.AppKey("controller", Controller)
GATE = web.AppKey("gate", Gatekeeper)  # gate candidates decided, targets moved
SESSIONS = web.AppKey("sessions", SessionKeeper)  # web UI sessions and login links
OVERVIEW = web.AppKey("overview", BuildOverview)  # the queries the web pages make
BASE_URL = web.AppKey("base_url", str)  # public_url, else where the daemon listens
PRUNER = web.AppKey("pruner", Pruner)
DEPLOYMENTS = web.AppKey("deployments", Deliveries)  # environments' deployments
STREAM_SLOTS = web.AppKey("stream_slots", StreamSlots)  # live log streams open, capped
