"""The composition root: builds every object of the daemon (stores, keepers, controller, upkeep,
workers, the HTTP client session) in a fixed order and yields them as one frozen set of typed
services (`Daemon`); `ick.daemon.serve` runs them, `python -I -m ick.daemon` is the process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from secrets import token_bytes

from ick.config import Settings, local_zone, retry_scale
from ick.daemon.host import prepare_binfmt, prepare_nspawn
from ick.daemon.repository import RepositoryReader
from ick.daemon.traits import decide_traits
from ick.delivery.coordinator import Deliveries
from ick.gate.keeper import GateInbox, Gatekeeper
from ick.gate.move import Mover
from ick.httpclient import HttpClient, open_http
from ick.keepers.secrets import SecretKeeper
from ick.keepers.sessions import SessionKeeper
from ick.keepers.tokens import TokenKeeper
from ick.notify.outbox import Outbox
from ick.runners.base import HostSettings
from ick.runners.registry import Runners
from ick.runners.untrusted import refusal
from ick.scheduler.driver import Controller
from ick.storage.artifacts import ArtifactStore
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.deliveries import DeliveryStore
from ick.storage.deployments import DeploymentStore
from ick.storage.logs import LogStore
from ick.storage.notifications import NotificationStore
from ick.storage.outputs import OutputStore
from ick.storage.overview import BuildOverview
from ick.storage.resources import ResourceStore
from ick.storage.retention import Keep, RetentionStore
from ick.storage.secrets import SecretStore
from ick.storage.sessions import SessionStore
from ick.storage.sqlite import SqliteDatabase
from ick.storage.timers import TimerStore
from ick.storage.tokens import TokenStore
from ick.upkeep.downstream import Downstream
from ick.upkeep.prune import Pruner
from ick.upkeep.tasks import Upkeep
from ick.upkeep.timers import Polls, Schedules, SystemClock
from ick.worker.labels import own_labels
from ick.worker.rundir import run_root
from ick.worker.services import LocalServices, StoreBlobs
from ick.worker.systrees import SystreeCache
from ick.worker.worker import Worker
from ick.worker.workspaces import Workspaces

log = logging.getLogger(__name__)

STATE_FOLDERS = ("logs", "artifacts", "workspaces", "systrees", "apt", "apt/www", "run", "git")


@dataclass(frozen=True)
class Daemon:
    """Every service of one running daemon; if it is in this type, it exists at run time."""

    settings: Settings
    url: str  # where the daemon listens, for links when public_url is unset
    db: Database
    tokens: TokenKeeper
    sessions: SessionKeeper  # web UI sessions and login links
    resources: ResourceStore
    builds: BuildStore
    logs: LogStore
    notifications: NotificationStore
    deliveries: DeliveryStore  # the forges' webhook deliveries seen
    artifacts: ArtifactStore
    outputs: OutputStore  # builds' outputs, their blobs the artifact store's
    overview: BuildOverview  # the queries the web pages make
    systrees: SystreeCache
    secrets: SecretKeeper
    outbox: Outbox
    controller: Controller
    gate: Gatekeeper  # decides gate candidates' builds and moves their targets
    workspaces: Workspaces
    host: HostSettings
    worker_services: LocalServices
    upkeep: Upkeep
    deployments: Deliveries  # environments' deployments (DESIGN.md, "Continuous delivery")
    http: HttpClient  # the one HTTP client session, with ick's TLS context
    workers: tuple[Worker, ...]  # the local workers (`serve` runs them); they share runners

    @property
    def base_url(self) -> str:
        return self.settings.public_url or self.url


def prepare_state_dir(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sub in STATE_FOLDERS:
        (state_dir / sub).mkdir(exist_ok=True)


def reuse_key(state_dir: Path) -> bytes:
    """STATE/token.key (0600), made on first start: reusable tokens are derived from it."""
    path = state_dir / "token.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(token_bytes(32))
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    return path.read_bytes()


async def write_admin_token(state_dir: Path, tokens: TokenKeeper) -> None:
    """On first start, mint an admin token and write it to STATE/admin.token (0600)."""
    path = state_dir / "admin.token"
    if path.exists():
        return
    token, _ = await tokens.create("admin", ["admin"])
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
    log.info("wrote a new admin token to %s", path)


@contextlib.asynccontextmanager
async def open_database(path: Path) -> AsyncIterator[Database]:
    db = await SqliteDatabase.open(path)
    try:
        yield db
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def open_artifacts(db: Database, state: Path) -> AsyncIterator[ArtifactStore]:
    store = ArtifactStore(db, state / "artifacts")
    await store.open()
    yield store


@contextlib.asynccontextmanager
async def open_systrees(state: Path, store: ArtifactStore,
                        tmpfs: bool = False) -> AsyncIterator[SystreeCache]:
    """The cache of unpacked systrees (on disk, or on a tmpfs with `systree_cache: tmpfs`
    when root); its mounts go at the end."""
    root = os.geteuid() == 0
    if root:
        prepare_nspawn()
        prepare_binfmt()
    systrees = SystreeCache(state / "systrees", StoreBlobs(store))
    await systrees.open(tmpfs=tmpfs and root)
    store.watch_drops(systrees.drop)
    try:
        yield systrees
    finally:
        await systrees.close()


@contextlib.asynccontextmanager
async def open_logs(directory: Path, max_bytes: int) -> AsyncIterator[LogStore]:
    logs = LogStore(directory, max_bytes)
    try:
        yield logs
    finally:
        logs.close_all()


@contextlib.asynccontextmanager
async def open_daemon(
    settings: Settings, listener: socket.socket | None = None
) -> AsyncIterator[Daemon]:
    """Open the state in `settings.state_dir`, in this order, and close it in reverse.

    `listener` is the daemon's bound socket, if it has one yet (its port goes into `url`).
    """
    state = settings.state_dir
    prepare_state_dir(state)
    host, port = settings.host_port
    if listener is not None:
        port = listener.getsockname()[1]
    async with (
        open_database(state / "ick.db") as db,
        open_logs(state / "logs", settings.max_log_mb * 2**20) as logs,
        open_artifacts(db, state) as artifacts,
        open_systrees(state, artifacts, settings.systree_cache == "tmpfs") as systrees,
        open_http() as http,
    ):
        tokens = TokenKeeper(TokenStore(db), reuse_key=reuse_key(state))
        await tokens.load()
        await write_admin_token(state, tokens)
        resources = ResourceStore(db)
        builds = BuildStore(db)
        await decide_traits(resources, builds)  # before anything plans or routes
        notifications = NotificationStore(db)
        secrets = SecretKeeper(SecretStore(state / "secrets"), logs)
        url = f"http://{host}:{port}"
        outbox = Outbox(notifications, builds, resources, logs, settings.smtp, http,
                        lambda: settings.public_url or url, secrets.value,
                        retry_scale=retry_scale(), matrix=settings.matrix, irc=settings.irc,
                        secret_values=secrets.store.values,
                        deployments=DeploymentStore(db))
        deployments = Deliveries(DeploymentStore(db), builds, resources, listeners=(outbox,),
                                 keep_deployments=settings.keep_deployments)
        pruner = Pruner(
            retention=RetentionStore(db), resources=resources, logs=logs, state_dir=state,
            default=Keep(settings.keep_builds, settings.keep_days), artifacts=artifacts,
            systrees=systrees, needed=deployments.needed)
        downstream = Downstream(resources, builds)
        gate_inbox = GateInbox()
        controller = Controller(builds, resources, logs,
                                listeners=(secrets, outbox, downstream, gate_inbox, deployments),
                                lease=settings.worker_lease,
                                on_queued=(outbox.build_queued,), untrusted=refusal,
                                on_end=(outbox.end_write,),
                                repository=RepositoryReader(state / "git").read)
        gate = Gatekeeper(gate_inbox, controller, builds, resources,
                          Mover(state / "git", run_root(state), secrets.value),
                          told=(outbox.gate_decided, deployments.gate_decided))
        deployments.bind(controller.trigger)
        timers = TimerStore(db)
        clock = SystemClock(local_zone())
        upkeep = Upkeep(
            pruner=pruner, downstream=downstream, trigger=controller.trigger,
            schedules=Schedules(resources, timers, controller.trigger, clock),
            polls=Polls(resources, timers, controller.trigger, clock, state / "git"))
        workspaces = Workspaces(state / "workspaces")
        host_settings = HostSettings(state_dir=state, debian_mirror=settings.debian_mirror,
                                     run_root=run_root(state))
        outputs = OutputStore(db, artifacts, settings.max_outputs_mb * 2**20)
        worker_services = LocalServices(artifacts, systrees, secrets.value_for, outputs)
        runners = Runners()  # one for all local workers: they share the git mirrors
        labels = own_labels(settings.worker_labels) if settings.workers else {}
        workers = tuple(
            Worker(controller, f"local{i}", host_settings, worker_services, workspaces,
                   runners, labels=labels)
            for i in range(settings.workers))
        yield Daemon(
            settings=settings, url=url, db=db, tokens=tokens,
            sessions=SessionKeeper(SessionStore(db), tokens), resources=resources,
            builds=builds, logs=logs, notifications=notifications,
            deliveries=DeliveryStore(db), artifacts=artifacts, outputs=outputs,
            overview=BuildOverview(db), systrees=systrees, secrets=secrets, outbox=outbox,
            controller=controller, gate=gate, workspaces=workspaces, host=host_settings,
            worker_services=worker_services, upkeep=upkeep, http=http, workers=workers,
            deployments=deployments,
        )
