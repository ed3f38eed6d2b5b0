"""Notifications end to end: a real `ick serve` mails a real SMTP server and posts to a real
webhook server; who hears what, signatures, a dead SMTP server, restarts."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import Daemon
from tests.notify_servers import HookSink, MailSink, server_context
from tests.polling import poll

PUBLIC = "http://ci.example.test:4250"

RULES = """
projects:
  - project: rules
    parameters: {code: "0"}
    pipelines: [exit]
    notify:
      - {email: always@example.org}
      - {email: failure@example.org, when: failure}
      - {email: change@example.org, when: change}
  - project: fine
    parameters: {code: "0"}
    pipelines: [exit]
    notify:
      - {email: always@example.org, when: always}
      - {email: change@example.org, when: change}
pipelines:
  - pipeline: exit
    parameters: [code]
    actions:
      - python: |
          print("exiting with", params["code"])
          raise SystemExit(int(params["code"]))
        where: host
"""

# The action waits (bounded) for the file `go` to appear, so a test can act while it runs.
WAITING = """
projects:
  - project: {name}
    parameters: {{dir: "{dir}"}}
    pipelines: [wait]
    notify: {notify}
pipelines:
  - pipeline: wait
    parameters: [dir]
    actions:
      - python: |
          import os, time
          print("waiting for go", flush=True)
          deadline = time.monotonic() + 60
          while not os.path.exists(os.path.join(params["dir"], "go")):
              assert time.monotonic() < deadline, "no go in 60 s"
              time.sleep(0.02)
          print("got go")
          print("the key is", "hook-key" + "-123")  # masked, when it is a project secret
        where: host
"""


def smtp_settings(mail: MailSink) -> dict[str, Any]:
    return {"smtp": {"host": "127.0.0.1", "port": mail.port, "from": "ick@ci.test"},
            "public_url": PUBLIC}


def wait_notifications(daemon: Daemon, build_id: int,
                       check: Callable[[list[dict[str, Any]]], bool], what: str,
                       timeout: float = 30) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = poll(
        lambda: daemon.build(build_id)["notifications"], check, timeout,
        lambda found: f"build {build_id}: {what} not in {timeout} s: {found}")
    return found


def all_sent(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda ns: len(ns) == count and all(n["state"] == "sent" for n in ns)


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink()
    yield sink
    sink.close()


def test_when_rules_decide_who_hears(start_daemon: Callable[..., Daemon],
                                     mail: MailSink) -> None:
    mail.up()
    daemon = start_daemon(settings=smtp_settings(mail))
    daemon.apply(RULES)
    expected = [
        ("1", "failed", {"always", "failure", "change"}),  # a first build that fails: a change
        ("1", "failed", {"always", "failure"}),
        ("0", "succeeded", {"always", "change"}),          # fixed
        ("0", "succeeded", {"always"}),
        ("2", "failed", {"always", "failure", "change"}),  # broken
    ]
    ids = []
    for code, state, who in expected:
        build_id = daemon.trigger("rules", f"code={code}")
        assert daemon.wait_build(build_id)["state"] == state
        found = wait_notifications(daemon, build_id, all_sent(len(who)), f"{len(who)} sent")
        assert {n["email"].split("@")[0] for n in found} == who, (code, state)
        ids.append(build_id)
    first = daemon.trigger("fine")  # a first build that succeeds is no change
    assert daemon.wait_build(first)["state"] == "succeeded"
    found = wait_notifications(daemon, first, all_sent(1), "1 sent")
    assert [n["email"] for n in found] == ["always@example.org"]

    # one mail per notification, to the right people, and nothing else
    mail.wait_count(12)
    for build_id, (_, _, who) in zip(ids, expected, strict=True):
        assert {m["To"].split("@")[0] for m in mail.items
                if m["X-Ick-Build"] == str(build_id)} == who
    assert len(mail.items) == 12

    [message] = mail.to("failure@example.org", ids[0])
    assert message["Subject"] == "[ick] rules #1 failed (broken)"
    assert message["From"] == "ick@ci.test"
    text = message.get_content()
    assert "Outcome: failed (broken" not in text  # a first build has no previous to name
    assert "Outcome: failed\n" in text
    assert "Duration: " in text
    assert f"Link: {PUBLIC}/ui/builds/{ids[0]}\n" in text
    assert "  code: 1\n" in text
    assert "Failed action: pipeline exit, action 1 (python, where: host): exit status 1" in text
    assert "  exiting with 1\n" in text
    assert f"  ick: build {ids[0]} failed\n" in text
    [fixed] = mail.to("change@example.org", ids[2])
    assert fixed["Subject"] == "[ick] rules #3 succeeded (fixed)"
    assert "Outcome: succeeded (fixed; the previous build failed)" in fixed.get_content()

    shown = daemon.ick("build", str(ids[1]))
    assert shown.returncode == 0, shown.stderr
    assert "  notifications:\n" in shown.stdout
    assert "    email always@example.org (end): sent, 1 attempt\n" in shown.stdout
    assert "    email failure@example.org (end): sent, 1 attempt\n" in shown.stdout
    assert "change@example.org" not in shown.stdout


def test_start_and_end_webhooks_are_signed(start_daemon: Callable[..., Daemon],
                                           tmp_path: Path) -> None:
    hooks = HookSink(key=b"hook-key-123")
    try:
        daemon = start_daemon()
        notify = (f'[{{webhook: "{hooks.url}/ci", secret: hook_key, on: [start, end]}}, '
                  f'{{webhook: "{hooks.url}/unsigned", secret: no_such_key}}]')
        daemon.apply(WAITING.format(name="liw/hooked", dir=tmp_path, notify=notify))
        result = daemon.ick("secret", "set", "liw/hooked", "hook_key", input="hook-key-123\n")
        assert result.returncode == 0, result.stderr
        build_id = daemon.trigger("liw/hooked")

        hooks.wait_count(1)  # told of the start while the build still waits
        start = hooks.items[0]
        assert daemon.build(build_id)["state"] == "running"
        assert start.path == "/ci"
        assert start.headers["X-Ick-Event"] == "start"
        assert start.doc["event"] == "start" and start.doc["state"] == "running"
        assert start.signature_ok is True

        (tmp_path / "go").touch()
        assert daemon.wait_build(build_id)["state"] == "succeeded"
        hooks.wait_count(2)
        end = hooks.items[1]
        assert end.path == "/ci" and end.signature_ok is True
        assert end.doc["event"] == "end"
        assert end.doc["project"] == "liw/hooked"
        assert end.doc["state"] == "succeeded"
        assert end.doc["url"] == f"{daemon.url}/ui/builds/{build_id}"  # no public_url: our own
        assert "got go" in end.doc["log_tail"]
        assert "the key is ***" in end.doc["log_tail"]  # issue 6 masks; we send the masked log
        assert b"hook-key-123" not in end.body
        assert end.doc["failed_action"] is None
        assert isinstance(end.doc["duration"], float)

        found = wait_notifications(
            daemon, build_id, lambda ns: len(ns) == 3 and ns[2]["attempts"] >= 1,
            "an attempt at the unsigned one")
    finally:
        hooks.close()
    assert [(n["event"], n["state"]) for n in found[:2]] == [("start", "sent"), ("end", "sent")]
    missing = found[2]
    assert missing["state"] == "pending"
    error = ("secret 'no_such_key' of project 'liw/hooked' is not set "
             "(ick secret set liw/hooked no_such_key)")
    assert missing["last_error"] == error
    assert len(hooks.items) == 2  # never sent unsigned
    shown = daemon.ick("build", str(build_id))
    assert f"    webhook {hooks.url}/unsigned (end): pending, 1 attempt, next attempt " \
        in shown.stdout
    assert f": failed: {error}\n" in shown.stdout


def test_smtp_down_then_up(start_daemon: Callable[..., Daemon], mail: MailSink,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICK_NOTIFY_RETRY_SCALE", "0.05")  # retries after 0.5 s, 1.5 s, 6 s...
    daemon = start_daemon(settings=smtp_settings(mail))
    daemon.apply(RULES)
    build_id = daemon.trigger("rules", "code=0")
    # the build is not held up by the dead server
    assert daemon.wait_build(build_id, timeout=30)["state"] == "succeeded"
    [n] = wait_notifications(daemon, build_id, lambda ns: bool(ns) and ns[0]["attempts"] >= 1,
                             "a failed attempt")
    assert n["state"] == "pending"
    error = f"smtp 127.0.0.1:{mail.port}: cannot connect: connection refused"
    assert n["history"][0] == {"at": n["history"][0]["at"], "ok": False, "error": error}
    assert n["next_attempt_at"] is not None
    shown = daemon.ick("build", str(build_id)).stdout
    assert "    email always@example.org (end): pending, " in shown
    assert f": failed: {error}\n" in shown

    mail.up()
    [n] = wait_notifications(daemon, build_id, all_sent(1), "sent after the server came up")
    assert n["attempts"] >= 2
    assert [h["ok"] for h in n["history"]] == [False] * (n["attempts"] - 1) + [True]
    [message] = mail.items
    assert message["Subject"] == "[ick] rules #1 succeeded"
    assert message["To"] == "always@example.org"
    shown = daemon.ick("build", str(build_id)).stdout
    assert f"    email always@example.org (end): sent, {n['attempts']} attempts\n" in shown


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_pending_notifications_survive_a_restart(start_daemon: Callable[..., Daemon],
                                                 mail: MailSink, tmp_path: Path,
                                                 sig: signal.Signals) -> None:
    settings = smtp_settings(mail)
    daemon = start_daemon(settings=settings)
    daemon.apply(RULES)
    daemon.apply(WAITING.format(name="slow", dir=tmp_path,
                                notify="[{email: slow@example.org, when: failure}]"),
                 name="slow.ick")
    done = daemon.trigger("rules", "code=0")
    assert daemon.wait_build(done)["state"] == "succeeded"
    wait_notifications(daemon, done, lambda ns: bool(ns) and ns[0]["attempts"] == 1,
                       "a failed attempt")
    # A build still running when the daemon is killed ends interrupted when it comes back: a
    # failure to tell of. (Not with SIGTERM here: a worker can miss its cancellation while it
    # stops an action, and the daemon then never stops; see the notify issue's note.)
    running = None
    if sig == signal.SIGKILL:
        running = daemon.trigger("slow")
        daemon.wait_log(running, "waiting for go")

    code = daemon.stop(sig)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
    mail.up()
    daemon = start_daemon(settings=settings)  # the same state directory

    [n] = wait_notifications(daemon, done, all_sent(1), "sent after the restart")
    assert n["attempts"] == 2
    assert [h["ok"] for h in n["history"]] == [False, True]
    assert [m["Subject"] for m in mail.to("always@example.org")] == ["[ick] rules #1 succeeded"]
    if running is None:
        assert len(mail.items) == 1
        return
    assert daemon.build(running)["state"] == "interrupted"
    wait_notifications(daemon, running, all_sent(1), "the interrupted build's")
    mail.wait_count(2)
    [interrupted] = mail.to("slow@example.org")
    assert interrupted["Subject"] == "[ick] slow #1 interrupted (broken)"
    assert len(mail.items) == 2


def test_https_webhooks_check_the_certificate(start_daemon: Callable[..., Daemon],
                                              certificate: tuple[Path, Path],
                                              tmp_path: Path) -> None:
    # The daemon's TLS context trusts the system's CA certificates, or those of an
    # SSL_CERT_FILE the user set (`ick serve` and `python -I -m ick.daemon` keep it).
    (tmp_path / "go").touch()  # the builds need not wait
    hooks = HookSink(tls=server_context(certificate))
    ick = WAITING.format(name="tls", dir=tmp_path, notify=f'[{{webhook: "{hooks.url}/ci"}}]')
    try:
        trusting = start_daemon(environ={"SSL_CERT_FILE": str(certificate[0])})
        trusting.apply(ick)
        build_id = trusting.trigger("tls")
        assert trusting.wait_build(build_id)["state"] == "succeeded"
        wait_notifications(trusting, build_id, all_sent(1), "sent")
        assert hooks.items[0].path == "/ci" and hooks.items[0].doc["build"] == build_id

        other = start_daemon(name="other")  # the system's CA certificates do not hold it
        other.apply(ick)
        build_id = other.trigger("tls")
        assert other.wait_build(build_id)["state"] == "succeeded"
        [n] = wait_notifications(other, build_id, lambda ns: bool(ns) and ns[0]["attempts"] >= 1,
                                 "a failed attempt")
    finally:
        hooks.close()
    assert n["state"] == "pending"
    assert n["last_error"] == f"webhook {hooks.url}: certificate verify failed: " \
        "self-signed certificate"
    assert len(hooks.items) == 1
