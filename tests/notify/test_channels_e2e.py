"""The channels and points end to end: a real `ick serve` tells a real Synapse room, a real
ngircd channel (stopped mid-way), a real SMTP server and a real webhook server; points, one
message per event and address, secrets masked in every message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import Daemon
from tests.irc_server import IrcReader, Ngircd
from tests.matrix_server import Homeserver
from tests.notify.test_outbox_e2e import PUBLIC, wait_notifications
from tests.notify_servers import HookSink, MailSink

SECRET = "s3cret-value-99"

PROJECT = """
projects:
  - project: {name}
    parameters: {{code: "1", note: "none"}}
    trigger_parameters: [code, note]
    pipelines: [exit]
    notify: {notify}
pipelines:
  - pipeline: exit
    parameters: [code, note]
    actions:
      - python: |
          print("note:", params["note"])
          raise SystemExit(int(params["code"]))
        where: host
"""


def sent(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda ns: len(ns) == count and all(n["state"] == "sent" for n in ns)


@pytest.fixture
def mail() -> Iterator[MailSink]:
    sink = MailSink().up()
    yield sink
    sink.close()


def test_points_dedup_and_masking_across_matrix_mail_and_webhooks(
        start_daemon: Callable[..., Daemon], homeserver: Homeserver, mail: MailSink,
        tmp_path: Path) -> None:
    token_file = tmp_path / "matrix-token"
    token_file.write_text(homeserver.bot_token + "\n")
    hooks = HookSink()
    try:
        daemon = start_daemon(settings={
            "smtp": {"host": "127.0.0.1", "port": mail.port, "from": "ick@ci.test"},
            "public_url": PUBLIC,
            "matrix": {"homeserver": homeserver.url, "token_file": str(token_file)}})
        notify = (
            f'[{{matrix: "{homeserver.room_alias}", on: [started, ended, action_failed]}},'
            f' {{webhook: "{hooks.url}/ci", when: failure}},'
            # the same address again: its `ended` is the one above's, sent once
            f' {{webhook: "{hooks.url}/ci", on: [ended, action_failed, deployment, gate]}},'
            ' {email: dev@example.org, on: [ended]},'
            ' {email: dev@example.org, when: failure, on: [ended, approval]}]')
        result = daemon.apply(PROJECT.format(name="told", notify=notify))
        assert result.returncode == 0, result.stderr
        result = daemon.ick("secret", "set", "told", "key", input=SECRET + "\n")
        assert result.returncode == 0, result.stderr

        build_id = daemon.trigger("told", "code=1", f"note=the key is {SECRET}")
        assert daemon.wait_build(build_id)["state"] == "failed"
        found = wait_notifications(daemon, build_id, sent(6), "6 sent")
        assert sorted((n["channel"], n["event"]) for n in found) == [
            ("email", "end"),
            ("matrix", "action_failed"), ("matrix", "end"), ("matrix", "start"),
            ("webhook", "action_failed"), ("webhook", "end")]
        assert {n["matrix"] for n in found if n["channel"] == "matrix"} == \
            {homeserver.room_alias}

        hooks.wait_count(2)
        mail.wait_count(1)
        mine = [e["content"]["body"] for e in homeserver.wait_notices(3)
                if f"/ui/builds/{build_id}" in e["content"]["body"]]
    finally:
        hooks.close()
    assert len(hooks.items) == 2 and len(mail.items) == 1  # one per event and address
    assert sorted(h.headers["X-Ick-Event"] for h in hooks.items) == ["action_failed", "end"]
    url = f"{PUBLIC}/ui/builds/{build_id}"
    failed = "Failed action: pipeline exit, action 1 (python, where: host): exit status 1"
    assert mine[0] == f"[ick] told #1 started: {url}"
    # the end and the failed action go side by side, in either order
    assert sorted(mine[1:]) == [f"[ick] told #1 action failed: {url}\n{failed}",
                                f"[ick] told #1 failed (broken): {url}\n{failed}"]
    # The secret was a parameter: masked in the webhook's facts and the mail, as in the log.
    for hook in hooks.items:
        assert SECRET.encode() not in hook.body
        assert hook.doc["parameters"]["note"] == "the key is ***"
        assert "note: the key is ***" in hook.doc["log_tail"]
    text = mail.items[0].get_content()
    assert SECRET not in text and "  note: the key is ***\n" in text


def test_irc_notices_survive_the_server_going_away_mid_way(
        start_daemon: Callable[..., Daemon], ngircd: Ngircd) -> None:
    reader = IrcReader(ngircd, "reader", ["#ci"]).connect()
    try:
        daemon = start_daemon(
            settings={"irc": {"server": f"127.0.0.1:{ngircd.port}", "nick": "ick"},
                      "public_url": PUBLIC},
            environ={"ICK_NOTIFY_RETRY_SCALE": "0.05"})  # retries after 0.5, 1.5, 6 s
        notify = '[{irc: "#ci", when: always}]'
        assert daemon.apply(PROJECT.format(name="chat", notify=notify)).returncode == 0
        first = daemon.trigger("chat", "code=0")
        assert daemon.wait_build(first)["state"] == "succeeded"
        reader.wait_notices("#ci", lambda n: len(n) == 1, "the first build's notice")

        ngircd.stop()  # the reader's connection and any of ick's go with it
        reader.close()
        second = daemon.trigger("chat", "code=1")
        assert daemon.wait_build(second)["state"] == "failed"
        # Three attempts failed (0.5 s and 1.5 s apart): the next is 6 s away, time enough
        # for the reader to be back in the channel before ick (IRC keeps no history for
        # late joiners).
        [pending] = wait_notifications(daemon, second, lambda ns: len(ns) == 1
                                       and ns[0]["attempts"] >= 3, "three failed attempts")
        assert pending["state"] == "pending"
        assert f"irc 127.0.0.1:{ngircd.port}: cannot connect" in pending["last_error"]

        ngircd.start()
        reader.connect()
        wait_notifications(daemon, second, sent(1), "sent after the restart")
        notices = reader.wait_notices("#ci", lambda n: len(n) >= 3, "the second build's")
    finally:
        reader.close()
    assert notices == [
        f"[ick] chat #1 succeeded: {PUBLIC}/ui/builds/{first}",
        f"[ick] chat #2 failed (broken): {PUBLIC}/ui/builds/{second}",
        "Failed action: pipeline exit, action 1 (python, where: host): exit status 1",
    ]
