"""The outbox: turns build events into pending notifications and sends them, retrying.

Listeners only enqueue; one task owned by the notify plug-in decides, sends and records, so a
slow or dead receiver never touches a build. Every attempt is stored before the next is planned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ick.config import IrcSettings, MatrixSettings, SmtpSettings
from ick.errors import SendError
from ick.httpclient import HttpClient
from ick.model import ActionState, Build, BuildState, Project
from ick.notify import forgestatus
from ick.notify.channel import Senders, Target
from ick.notify.channels import BY_KEY, target_of
from ick.notify.irc import IrcLink
from ick.notify.message import (
    TAIL_BYTES,
    deployment_event,
    deployment_facts,
    deployment_of_event,
    facts,
    log_tail,
    masked,
)
from ick.notify.rules import fires, fires_deployment, retry_delay
from ick.storage.builds import BuildStore
from ick.storage.db import Tx
from ick.storage.deployments import Deployment, DeploymentState, DeploymentStore
from ick.storage.logs import LogStore
from ick.storage.notifications import (
    Decision,
    Notification,
    NotificationStore,
    NotifyState,
)
from ick.storage.resources import ResourceStore
from ick.timefmt import parse_iso

log = logging.getLogger(__name__)

# Given a project and a secret's name, the secret's value (or None when it is not set).
SecretLookup = Callable[[str, str], "bytes | None"]
# Given a project, the values of all its secrets: what no message may show.
SecretValues = Callable[[str], "list[bytes]"]

IN_FLIGHT = 8  # sends at once; more wait their turn
MAX_SLEEP = 3600.0
ERROR_CHARS = 300
RESTART_PAUSE = 5.0


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Event:
    """A build started or ended (or, when it ended, had a failed action), as the
    controller's listener saw it."""

    build_id: int
    project: str
    state: BuildState
    event: str
    commit: str | None = None  # the build's commit as far as known (for a forge's status)
    succeeded: bool = False  # a deployment's point: whether it succeeded


def _status_commit(build: Build) -> str | None:
    """The commit whose forge status the build reports: none for a deployment's run, which
    ships that commit's build and must not overwrite the status its build reported."""
    return None if build.event == "deploy" else build.commit


def _ended(build: Build) -> list[_Event]:
    """A build's end, and its failed actions' point (one event, however many failed)."""
    events = [_Event(build.id, build.project, build.state, "end", _status_commit(build))]
    if any(a.state is ActionState.FAILED for a in build.actions):
        events.append(_Event(build.id, build.project, build.state, "action_failed"))
    return events


def describe(target: Target | None) -> str:
    """A target as the daemon's log may show it (a webhook URL may hold credentials)."""
    return "a target of no known channel" if target is None else BY_KEY[target.channel].shown(
        target)


def described(entry: dict[str, Any]) -> str:
    """A stored target (a notify entry or a commit status) as the daemon's log may show it."""
    return forgestatus.shown(entry) if forgestatus.KEY in entry else describe(target_of(entry))


@dataclass
class Outbox:
    store: NotificationStore
    builds: BuildStore
    resources: ResourceStore
    logs: LogStore
    smtp: SmtpSettings
    http: HttpClient
    base_url: Callable[[], str]
    secrets: SecretLookup | None = None
    clock: Callable[[], datetime] = utc_now
    retry_scale: float = 1.0
    matrix: MatrixSettings | None = None
    irc: IrcSettings | None = None
    secret_values: SecretValues | None = None
    deployments: DeploymentStore | None = None  # what a deployment's notification reads

    def __post_init__(self) -> None:
        self._irc = IrcLink(self.irc)
        self._events: list[_Event] = []
        self._draining: list[_Event] = []  # the events drain is deciding now
        # Builds whose end their Save decided (end_write), until build_finished sees them.
        self._decided: dict[int, list[Decision]] = {}
        self._wake = asyncio.Event()
        self._sending: set[int] = set()
        self._statuses: set[int] = set()  # builds with a commit status being sent
        self._look = True  # the due rows may have changed: ask the database
        self._next_due: datetime | None = None

    # the controller's listeners: enqueue and return at once ---------------

    def build_queued(self, build: Build) -> None:
        self._events.append(_Event(build.id, build.project, build.state, "queued",
                                   _status_commit(build)))
        self.wake()

    def build_started(self, build: Build) -> None:
        self._events.append(_Event(build.id, build.project, build.state, "start"))
        self.wake()

    def action_failed(self, build: Build) -> None:
        """An action failed and the build goes on: point action_failed is told now, not when
        the build ends (its end decides it again, which changes nothing)."""
        self._events.append(_Event(build.id, build.project, build.state, "action_failed"))
        self.wake()

    def build_finished(self, build: Build) -> None:
        decided = self._decided.pop(build.id, None)
        if decided is None:  # its Save did not decide it (see end_write): decide it now
            self._events += _ended(build)
        else:
            self._told(decided)
        self.wake()

    def gate_decided(self, build: Build) -> None:
        """The gate merged or rejected a candidate (point `gate`); its build has ended."""
        self._events.append(_Event(build.id, build.project, build.state, "gate", build.commit))
        self.wake()

    # the deployments' listener (ick.delivery) -----------------------------------

    def deployment_ended(self, deployment: Deployment) -> None:
        self._deployment("deployment", deployment)

    def approval_waiting(self, deployment: Deployment) -> None:
        self._deployment("approval", deployment)

    def _deployment(self, point: str, deployment: Deployment) -> None:
        # Kept with its run (the deployed build while it has none): both outlive it.
        build_id = deployment.run if deployment.run is not None else deployment.build
        self._events.append(_Event(build_id, deployment.project, BuildState.SUCCEEDED,
                                   deployment_event(point, deployment.id),
                                   succeeded=deployment.state == DeploymentState.SUCCEEDED))
        self.wake()

    def end_write(self, build: Build) -> Callable[[Tx], Awaitable[object]]:
        """The write that decides who is told of the build's end, for the transaction that
        saves the end itself: an end costs no commit of its own. Where the decision cannot
        be made there, the build's end is decided as any event, once it is saved."""

        async def write(tx: Tx) -> None:
            # Its queue and start, if not stored yet (drain has not got to them, or is at
            # them), are decided first, here: a forge's status of its queue stored after its
            # end's would be sent after it and undo it. Decided twice, they are stored once.
            earlier = [e for e in (*self._draining, *self._events)
                       if e.build_id == build.id and e.event in ("queued", "start")]
            try:
                decisions = [d for d in [await self._decide(e, tx) for e in earlier]
                             if d.targets]
                decisions += [await self._decide(e, tx) for e in _ended(build)]
            except Exception:  # the Save must not fail for it: build_finished decides it
                log.exception("build %d: cannot decide its notifications with its end",
                              build.id)
                return
            self._decided[build.id] = await self.store.decide_in(tx, decisions,
                                                                  iso(self.clock()))

        return write

    def wake(self) -> None:
        """Look for due work now (the clock may have moved, or something was queued)."""
        self._wake.set()

    # the task --------------------------------------------------------------

    async def run_forever(self) -> None:
        """Run until cancelled; an unexpected error restarts the outbox, never the daemon."""
        while True:
            try:
                await self.run()
            except Exception:
                log.exception("notifications: unexpected error; restarting in %.0f s",
                              RESTART_PAUSE)
                await asyncio.sleep(RESTART_PAUSE)

    async def run(self) -> None:
        """Decide and send until cancelled."""
        await self._catch_up()
        # A restart is when settings get fixed: try everything pending once now.
        await self.store.all_due_now(iso(self.clock()))
        self._look = True
        async with asyncio.TaskGroup() as group:
            while True:
                self._wake.clear()
                await self.drain()
                now = self.clock()
                if self._next_due is not None and self._next_due <= now:
                    self._look = True
                if self._look and len(self._sending) < IN_FLIGHT:
                    self._look = False
                    room = IN_FLIGHT - len(self._sending)
                    held: set[int] = set()
                    # The set as it is now: a send that ends while the query runs is recorded
                    # before it leaves the set, so the query either sees it sent or skips it
                    # (given the live set, a row the query read as pending before its send
                    # was recorded went out twice).
                    for n in await self.store.due(iso(now), set(self._sending), room):
                        if forgestatus.KEY in n.target:
                            # A build's statuses go one at a time, in order: a pending one
                            # arriving after its build's success would undo it.
                            if n.build_id in self._statuses:
                                held.add(n.id)
                                continue
                            self._statuses.add(n.build_id)
                        self._sending.add(n.id)
                        group.create_task(self._attempt(n))
                    # What is held waits for the send before it (which wakes the loop).
                    due = await self.store.next_due(self._sending | held)
                    self._next_due = None if due is None else parse_iso(due)
                await self._sleep(now)

    async def drain(self) -> None:
        """Write the notifications of every build event received so far, in one transaction."""
        while self._events:
            events, self._events = self._events, []
            self._draining = events
            try:
                await self._drain(events)
            finally:
                self._draining = []

    async def _drain(self, events: list[_Event]) -> None:
        # A build's queue and start that tell no one leave no row: nothing is to be sent,
        # and a restart never looks for them (only ends are decided late). Most builds
        # tell no one of them, and each write is a commit with its fsync on the path
        # from trigger to finished.
        decisions = [d for d in [await self._decide(e) for e in events]
                     if d.targets or d.event == "end"]
        if decisions:
            self._told(await self.store.decide(decisions, iso(self.clock())))

    def _told(self, decided: list[Decision]) -> None:
        """New decisions were stored: send what they queued."""
        for d in decided:
            if d.targets:
                self._look = True
                log.info("build %d: %d notifications of its %s", d.build_id, len(d.targets),
                         d.event)

    async def _sleep(self, now: datetime) -> None:
        """Until the next notification is due, an event arrives or a send ends."""
        timeout = None
        if self._next_due is not None and len(self._sending) < IN_FLIGHT:
            timeout = max(0.0, min(MAX_SLEEP, (self._next_due - now).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _catch_up(self) -> None:
        """Decide the ends the daemon saved but died before deciding."""
        for build_id in await self.store.undecided_ends():
            build = await self.builds.get(build_id)
            if build is not None:
                log.warning("build %d: deciding its notifications late (the daemon stopped)",
                            build_id)
                self._events += _ended(build)
        await self.drain()

    async def _decide(self, event: _Event, tx: Tx | None = None) -> Decision:
        """Who is told of the event (`tx`: the transaction that saves a build's end)."""
        project = await self.resources.project(event.project)
        if project is None:  # deleted meanwhile
            return Decision(event.build_id, event.event, [])
        point = deployment_of_event(event.event)
        if point is not None:  # a deployment's: no commit status, its own rule
            targets, told = [], set()
            for entry in project.notify:
                t = target_of(entry)
                if t is not None and (t.channel, t.address) not in told and \
                        fires_deployment(t, point[0], event.succeeded):
                    told.add((t.channel, t.address))
                    targets.append(entry)
            return Decision(event.build_id, event.event, targets)
        status = forgestatus.status_target(project, event.event, event.state, event.commit)
        decision = await self._decide_notify(event, project, tx)
        return decision if status is None else Decision(
            decision.build_id, decision.event, [status, *decision.targets])

    async def _decide_notify(self, event: _Event, project: Project,
                             tx: Tx | None = None) -> Decision:
        if not project.notify:  # tells no one
            return Decision(event.build_id, event.event, [])
        # The stored entries are kept as they are: the notification rows hold them verbatim.
        entries = [(entry, target_of(entry)) for entry in project.notify]
        previous = None
        if event.event == "end" and any(t is not None and t.when == "change" for _, t in entries):
            previous = await self.builds.previous_outcome(event.project, event.build_id, tx)
        targets = []
        told: set[tuple[str, str]] = set()
        for entry, t in entries:
            # Two rules that tell one address of this event send it one message.
            if t is None or (t.channel, t.address) in told:
                continue
            if fires(t, event.event, event.state, previous):
                told.add((t.channel, t.address))
                targets.append(entry)
        return Decision(event.build_id, event.event, targets)

    # one attempt -----------------------------------------------------------

    async def _attempt(self, n: Notification) -> None:
        try:
            result = await self._send(n)
        except SendError as e:
            self._failed(n, e.message[:ERROR_CHARS])
        except Exception as e:  # a bug must not stop the outbox; it is recorded and retried
            log.exception("build %d: notification %d: internal error", n.build_id, n.id)
            self._failed(n, f"internal error: {type(e).__name__}: {e}"[:ERROR_CHARS])
        else:
            n.attempts += 1
            n.state = NotifyState.SENT
            n.next_attempt_at = None
            n.history.append({"at": iso(self.clock()), "ok": True, "result": result})
            log.info("build %d: %s notification sent (%s)", n.build_id, n.event,
                     described(n.target))
        try:
            await self.store.record(n)
        except Exception:  # the row stays as it was: pending, so it is tried again
            log.exception("build %d: notification %d: cannot record the attempt", n.build_id,
                          n.id)
        finally:
            self._sending.discard(n.id)
            if forgestatus.KEY in n.target:
                self._statuses.discard(n.build_id)
            self._look = True
            self.wake()

    def _failed(self, n: Notification, error: str) -> None:
        now = self.clock()
        n.attempts += 1
        n.last_error = error
        n.history.append({"at": iso(now), "ok": False, "error": error})
        delay = retry_delay(n.attempts, self.retry_scale)
        if delay is None:
            n.state = NotifyState.FAILED
            n.next_attempt_at = None
            log.warning("build %d: giving up on %s after %d attempts: %s", n.build_id,
                        described(n.target), n.attempts, error)
        else:
            n.next_attempt_at = iso(now + timedelta(seconds=delay))
            log.info("build %d: %s failed (attempt %d, next in %.0f s): %s", n.build_id,
                     described(n.target), n.attempts, delay, error)

    async def _send(self, n: Notification) -> str:
        point = deployment_of_event(n.event)
        if point is not None:
            return await self._send_deployment(n, *point)
        build = await self.builds.get(n.build_id)
        if build is None:
            raise SendError(f"build {n.build_id} no longer exists")
        if forgestatus.KEY in n.target:
            later = [m.id for m in await self.store.for_build(build.id)
                     if forgestatus.KEY in m.target and m.id > n.id]
            if later:  # the build's next status says more; this one would undo it
                return f"not sent: notification {later[-1]} is a later status of the build"
            token_secret = n.target["forge"].get("token_secret")
            token = self._secret(build.project, str(token_secret)).decode("utf-8", "replace")
            what = "queued" if n.event == "queued" else build.state.value
            return await forgestatus.send_status(
                self.http.session(), n.target,
                f"{self.base_url().rstrip('/')}/ui/builds/{build.id}",
                f"{build.project} #{build.number} {what}", token)
        previous = await self.builds.previous_outcome(build.project, build.id)
        # With several jobs, the tail of the first failed job's log says the most.
        job = next((j.job for j in build.jobs if j.state is BuildState.FAILED), None) \
            if len(build.jobs) > 1 else None
        size = self.logs.size(build.id, job)
        start = max(0, size - TAIL_BYTES)
        tail = log_tail(self.logs.read(build.id, start, TAIL_BYTES, job=job),
                        from_start=start == 0)
        return await self._tell(n, build.project,
                                facts(build, n.event, tail, self.base_url(), previous))

    async def _send_deployment(self, n: Notification, point: str, deployment_id: int) -> str:
        deployment = None if self.deployments is None else \
            await self.deployments.get(deployment_id)
        if deployment is None:
            raise SendError(f"deployment {deployment_id} no longer exists")
        build = await self.builds.get(deployment.build)
        if build is None:
            raise SendError(f"build {deployment.build} no longer exists")
        return await self._tell(n, build.project, deployment_facts(
            point, deployment.to_json(), build, self.base_url()))

    async def _tell(self, n: Notification, project: str, doc: dict[str, Any]) -> str:
        """Send `doc` to the notification's target through its channel, with the project's
        secrets masked in it (the log is masked as it is stored; parameters, messages and git
        facts are not)."""
        if self.secret_values is not None:
            doc = masked(doc, self.secret_values(project))
        target = target_of(n.target)
        if target is None:
            raise SendError("the target names no channel this daemon has")
        senders = Senders(self.smtp, self.http.session(),
                          lambda name: self._secret(project, name), key=str(n.id),
                          matrix=self.matrix, irc=self._irc)
        return await BY_KEY[target.channel].send(senders, target, doc)

    def _secret(self, project: str, name: str) -> bytes:
        value = None if self.secrets is None else self.secrets(project, name)
        if value is None:
            raise SendError(f"secret {name!r} of project {project!r} is not set "
                            f"(ick secret set {project} {name})")
        # `echo VALUE | ick secret set` stores a newline the receiver's key does not have
        return value.rstrip(b"\r\n")
