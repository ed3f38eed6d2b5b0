"""The outbox in-process, on a real SQLite file, against real SMTP and webhook servers:
late decisions after a crash, signatures, retries, giving up after a day."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ick.config import SmtpSettings
from ick.httpclient import HttpClient, open_http
from ick.model import ActionRecord, ActionState, Build, BuildState, Project
from ick.notify.outbox import Outbox
from ick.notify.rules import MAX_ATTEMPTS
from ick.notify.tls import tls_context
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.logs import LogStore
from ick.storage.notifications import Notification, NotificationStore, NotifyState
from ick.storage.resources import ResourceStore
from tests.notify_servers import HookSink, MailSink, server_context
from tests.polling import apoll

WAIT = 20.0


@dataclass
class World:
    db: Database
    builds: BuildStore
    resources: ResourceStore
    logs: LogStore
    store: NotificationStore
    http: HttpClient
    smtp: SmtpSettings
    secrets: dict[tuple[str, str], bytes]
    now: list[datetime]

    def outbox(self) -> Outbox:
        return Outbox(self.store, self.builds, self.resources, self.logs, self.smtp,
                      self.http, lambda: "http://ci.test", self.lookup, clock=self.clock)

    def lookup(self, project: str, name: str) -> bytes | None:
        return self.secrets.get((project, name))

    def clock(self) -> datetime:
        return self.now[0]

    async def finished_build(self, project: str, state: BuildState, log: bytes = b"") -> Build:
        action = ActionRecord("p", 0, "shell", "host", {"shell": "true"})
        build = await self.builds.create(project, {"k": "v"}, False, [action],
                                         "2024-01-01T00:00:00.000Z")
        ok = state == BuildState.SUCCEEDED
        build = replace(
            build, state=state, started_at="2024-01-01T00:00:01.000Z",
            finished_at="2024-01-01T00:00:03.000Z",
            actions=[replace(build.actions[0],
                             state=ActionState.SUCCEEDED if ok else ActionState.FAILED,
                             message=None if ok else "exit status 1")])
        await self.builds.save(build, (0,))
        self.logs.append(build.id, log)
        self.logs.close(build.id)
        return build

    async def wait_for(self, build_id: int, check: Callable[[list[Notification]], bool],
                       what: str) -> list[Notification]:
        return await apoll(lambda: self.store.for_build(build_id),
                           lambda found: bool(found) and check(found), WAIT,
                           lambda found: f"{what}: not in {WAIT} s; notifications: {found}")


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    logs = LogStore(tmp_path / "logs")
    async with open_http() as http:
        yield World(db, BuildStore(db), ResourceStore(db), logs, NotificationStore(db), http,
                    SmtpSettings(host="127.0.0.1", port=1, sender="ick@ci.test"), {},
                    [datetime(2024, 1, 1, tzinfo=UTC)])
    logs.close_all()


@contextlib.asynccontextmanager
async def running(outbox: Outbox) -> AsyncIterator[Outbox]:
    async with asyncio.TaskGroup() as group:
        task = group.create_task(outbox.run())
        try:
            yield outbox
        finally:
            task.cancel()


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().up()
    yield sink
    sink.close()


def project(*targets: dict[str, Any]) -> Project:
    return Project("hello", {}, [], [{"when": "always", "on": ["ended"], **t} for t in targets])


async def test_a_build_that_ended_while_the_daemon_died_is_told_about_on_start(
        world: World, mail: MailSink) -> None:
    world.smtp.port = mail.port
    await world.resources.put_project(project({"email": "dev@example.org"}))
    build = await world.finished_build("hello", BuildState.FAILED, b"compiling\nerror: it broke\n")
    assert await world.store.undecided_ends() == [build.id]
    async with running(world.outbox()):
        await asyncio.to_thread(mail.wait_count, 1)
        await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT, "sent")
    message = mail.items[0]
    assert message["Subject"] == "[ick] hello #1 failed (broken)"
    assert "  error: it broke" in message.get_content()
    assert await world.store.undecided_ends() == []
    # a second start neither decides again nor sends again
    async with running(world.outbox()) as outbox:
        outbox.build_finished(build)
        await outbox.drain()
    assert len(await world.store.for_build(build.id)) == 1
    assert len(mail.items) == 1


async def test_a_project_deleted_before_the_decision_tells_no_one(world: World) -> None:
    build = await world.finished_build("gone", BuildState.FAILED)
    async with running(world.outbox()):
        await apoll(world.store.undecided_ends, lambda undecided: not undecided, WAIT,
                    lambda _: "never decided")
    assert await world.store.for_build(build.id) == []


async def test_webhook_is_signed_with_the_named_secret(world: World) -> None:
    hooks = HookSink(key=b"k3y-value")
    try:
        await world.resources.put_project(
            project({"webhook": hooks.url + "/ci", "secret": "hook_key"}))
        # stored as `echo k3y-value | ick secret set` leaves it: with a newline
        world.secrets[("hello", "hook_key")] = b"k3y-value\n"
        build = await world.finished_build("hello", BuildState.SUCCEEDED, b"all good\n")
        async with running(world.outbox()):
            await asyncio.to_thread(hooks.wait_count, 1)
            found = await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT,
                                         "sent")
    finally:
        hooks.close()
    hook = hooks.items[0]
    assert hook.signature_ok is True
    assert hook.path == "/ci"
    assert hook.headers["Content-Type"] == "application/json"
    assert hook.headers["X-Ick-Event"] == "end"
    assert hook.doc["state"] == "succeeded" and hook.doc["build"] == build.id
    assert hook.doc["log_tail"] == "all good"
    assert hook.doc["url"] == f"http://ci.test/ui/builds/{build.id}"
    assert found[0].history[0]["ok"] is True
    assert found[0].history[0]["result"].startswith("webhook http://127.0.0.1:")


async def test_a_missing_secret_fails_the_attempt_and_is_retried(world: World) -> None:
    hooks = HookSink(key=b"k3y-value")
    try:
        await world.resources.put_project(
            project({"webhook": hooks.url, "secret": "hook_key"}))
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()) as outbox:
            found = await world.wait_for(build.id, lambda ns: ns[0].attempts == 1, "an attempt")
            assert found[0].state == NotifyState.PENDING
            assert found[0].last_error == (
                "secret 'hook_key' of project 'hello' is not set (ick secret set hello hook_key)")
            assert found[0].next_attempt_at == "2024-01-01T00:00:10.000Z"
            assert hooks.items == []
            # the secret is set; ten seconds later the retry signs and sends
            world.secrets[("hello", "hook_key")] = b"k3y-value"
            world.now[0] += timedelta(seconds=10)
            outbox.wake()
            await asyncio.to_thread(hooks.wait_count, 1)
            await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT, "sent")
    finally:
        hooks.close()
    assert hooks.items[0].signature_ok is True


async def test_a_webhook_answering_500_is_retried(world: World) -> None:
    hooks = HookSink(statuses=[500])
    try:
        await world.resources.put_project(project({"webhook": hooks.url}))
        build = await world.finished_build("hello", BuildState.FAILED)
        async with running(world.outbox()) as outbox:
            await world.wait_for(build.id, lambda ns: ns[0].attempts == 1, "an attempt")
            world.now[0] += timedelta(seconds=10)
            outbox.wake()
            found = await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT,
                                         "sent")
    finally:
        hooks.close()
    assert len(hooks.items) == 2
    assert [h["ok"] for h in found[0].history] == [False, True]
    assert found[0].history[0]["error"] == \
        f"webhook {hooks.url}: answered 500 Internal Server Error"
    assert found[0].attempts == 2 and found[0].next_attempt_at is None


def attempts_are(count: int) -> Callable[[list[Notification]], bool]:
    return lambda ns: ns[0].attempts == count


async def test_gives_up_after_a_day_of_retries(world: World) -> None:
    dead = socket.socket()  # bound, never listening: connections are refused
    dead.bind(("127.0.0.1", 0))
    world.smtp.port = dead.getsockname()[1]
    try:
        await world.resources.put_project(project({"email": "dev@example.org"}))
        build = await world.finished_build("hello", BuildState.FAILED)
        start = world.now[0]
        async with running(world.outbox()) as outbox:
            for attempts in range(1, MAX_ATTEMPTS + 1):
                found = await world.wait_for(build.id, attempts_are(attempts),
                                             f"attempt {attempts}")
                world.now[0] += timedelta(hours=2)
                outbox.wake()
    finally:
        dead.close()
    n = found[0]
    assert n.state == NotifyState.FAILED
    assert n.next_attempt_at is None
    assert len(n.history) == MAX_ATTEMPTS
    assert n.last_error == f"smtp 127.0.0.1:{world.smtp.port}: cannot connect: connection refused"
    # every attempt came at least as late as the schedule says: 10 s, 30 s, ...
    times = [datetime.fromisoformat(h["at"].replace("Z", "+00:00")) for h in n.history]
    assert times[0] == start
    assert (times[-1] - times[0]) >= timedelta(hours=24)


async def test_smtp_login_with_the_password_file(world: World, tmp_path: Path) -> None:
    sink = MailSink(users={"ick": "pa55word"}).up()
    password = tmp_path / "smtp-password"
    password.write_text("pa55word\n")
    world.smtp.port, world.smtp.user, world.smtp.password_file = sink.port, "ick", str(password)
    try:
        await world.resources.put_project(project({"email": "dev@example.org"}))
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()):
            await asyncio.to_thread(sink.wait_count, 1)
            await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT, "sent")
    finally:
        sink.close()
    assert sink.logins == ["ick"]
    assert sink.items[0]["To"] == "dev@example.org"


async def test_smtp_refusing_the_login_or_no_password_file(world: World, tmp_path: Path) -> None:
    sink = MailSink(users={"ick": "pa55word"}).up()
    password = tmp_path / "smtp-password"
    password.write_text("wrong\n")
    world.smtp.port, world.smtp.user, world.smtp.password_file = sink.port, "ick", str(password)
    try:
        await world.resources.put_project(project({"email": "dev@example.org"}))
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()) as outbox:
            [n] = await world.wait_for(build.id, attempts_are(1), "an attempt")
            assert n.last_error == \
                f"smtp 127.0.0.1:{sink.port}: 535 5.7.8 Authentication credentials invalid"
            password.unlink()
            world.now[0] += timedelta(seconds=10)
            outbox.wake()
            [n] = await world.wait_for(build.id, attempts_are(2), "a second attempt")
            assert n.last_error == \
                f"smtp: cannot read password_file {password}: no such file or directory"
    finally:
        sink.close()
    assert sink.items == [] and sink.logins == []
    assert "wrong" not in str(n.history)


async def test_builds_ending_after_the_outbox_stopped_are_written_by_drain(
        world: World) -> None:
    # At shutdown the daemon interrupts running builds after the outbox's task is cancelled;
    # the plug-in drains what they queued so they are sent after the restart.
    await world.resources.put_project(project({"email": "dev@example.org"}))
    outbox = world.outbox()
    async with running(outbox):
        pass
    build = await world.finished_build("hello", BuildState.INTERRUPTED)
    outbox.build_finished(build)
    await outbox.drain()
    [n] = await world.store.for_build(build.id)
    assert (n.state, n.attempts, n.event) == (NotifyState.PENDING, 0, "end")
    assert await world.store.undecided_ends() == []


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_smtp_over_tls(world: World, certificate: tuple[Path, Path], mode: str,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the client trusts this one
    sink = MailSink(tls=server_context(certificate), starttls=mode == "starttls").up()
    world.smtp.port = sink.port
    world.smtp.tls = mode == "tls"  # a plain client would wait for a greeting that never comes
    try:
        await world.resources.put_project(project({"email": "dev@example.org"}))
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()) as outbox:
            if mode == "starttls":  # without STARTTLS the server will not take the mail
                [n] = await world.wait_for(build.id, attempts_are(1), "an attempt")
                assert n.last_error == \
                    f"smtp 127.0.0.1:{sink.port}: 530 Must issue a STARTTLS command first"
                world.smtp.starttls = True
                world.now[0] += timedelta(seconds=10)
                outbox.wake()
            await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT, "sent")
    finally:
        sink.close()
    assert [m["To"] for m in sink.items] == ["dev@example.org"]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_smtp_refuses_a_certificate_it_does_not_trust(
        world: World, certificate: tuple[Path, Path], mode: str) -> None:
    sink = MailSink(tls=server_context(certificate), starttls=mode == "starttls").up()
    world.smtp.port = sink.port
    world.smtp.tls, world.smtp.starttls = mode == "tls", mode == "starttls"
    try:
        await world.resources.put_project(project({"email": "dev@example.org"}))
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()):
            [n] = await world.wait_for(build.id, attempts_are(1), "an attempt")
    finally:
        sink.close()
    # said in words: OpenSSL's error number would read "operation not permitted"
    refused = "certificate verify failed: self-signed certificate"
    cannot = "cannot connect: " if mode == "tls" else ""
    assert n.last_error == f"smtp 127.0.0.1:{sink.port}: {cannot}{refused}"
    assert n.state == NotifyState.PENDING and sink.items == []


async def test_https_webhooks_trust_the_ca_certificates_of_their_time(
        world: World, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # aiohttp made its default TLS context when it was imported, long before this test set
    # SSL_CERT_FILE; ick's own, made when first needed (here: the first https webhook), sees it.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    hooks = HookSink(tls=server_context(certificate))
    try:
        assert hooks.url.startswith("https://127.0.0.1:")
        await world.resources.put_project(project({"webhook": hooks.url + "/ci"}))
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()):
            await world.wait_for(build.id, lambda ns: ns[0].state == NotifyState.SENT, "sent")
        assert [hook.path for hook in hooks.items] == ["/ci"]

        tls_context.cache_clear()  # a daemon whose CA certificates do not hold this one
        monkeypatch.delenv("SSL_CERT_FILE")
        build = await world.finished_build("hello", BuildState.SUCCEEDED)
        async with running(world.outbox()):
            [n] = await world.wait_for(build.id, attempts_are(1), "an attempt")
    finally:
        hooks.close()
    assert n.state == NotifyState.PENDING
    assert n.last_error == (f"webhook {hooks.url}: certificate verify failed: "
                            "self-signed certificate")
    assert len(hooks.items) == 1
