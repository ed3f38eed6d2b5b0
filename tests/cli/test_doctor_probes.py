"""`ick doctor --config ick.yaml` (ick/cli/doctor.py and each channel record's probe): each
channel's settings, and whether its server answers, against real servers on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.irc_server import Ngircd
from tests.matrix_server import Homeserver, free_port
from tests.notify_servers import MailSink


def doctor(config: Path) -> tuple[int, dict[str, dict[str, str]]]:
    result = subprocess.run([sys.executable, "-m", "ick", "doctor", "--config", str(config),
                             "--json"], capture_output=True, text=True, timeout=120)
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return result.returncode, {c["check"]: c for c in found
                               if c["check"].startswith("notify by ")}


def test_doctor_shows_each_channels_settings_and_asks_its_server(
        tmp_path: Path, homeserver: Homeserver, ngircd: Ngircd) -> None:
    token = tmp_path / "matrix-token"
    token.write_text(homeserver.bot_token + "\n")
    mail = MailSink().up()
    try:
        config = tmp_path / "ick.yaml"
        config.write_text(json.dumps({
            "smtp": {"host": "127.0.0.1", "port": mail.port, "from": "ick@ci.test"},
            "matrix": {"homeserver": homeserver.url, "token_file": str(token)},
            "irc": {"server": f"127.0.0.1:{ngircd.port}", "nick": "doctor"}}))
        _, found = doctor(config)
    finally:
        mail.close()
    assert found["notify by email"] == {
        "check": "notify by email", "state": "ok",
        "detail": f"smtp 127.0.0.1:{mail.port} (plain), from ick@ci.test: answers"}
    assert found["notify by webhook"]["state"] == "ok"  # no settings, no server of its own
    assert found["notify by matrix"] == {
        "check": "notify by matrix", "state": "ok",
        "detail": f"matrix {homeserver.url}, token_file {token}: answers, as @ickbot:ick.test"}
    assert found["notify by irc"] == {
        "check": "notify by irc", "state": "ok",
        "detail": f"irc 127.0.0.1:{ngircd.port}, tls off, nick doctor: answers, registered as "
                  "doctor"}


def test_doctor_warns_of_a_server_that_does_not_answer(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    config = tmp_path / "ick.yaml"
    config.write_text(json.dumps({
        "smtp": {"host": "127.0.0.1", "port": port},
        "matrix": {"homeserver": f"http://127.0.0.1:{port}", "token_file": str(tmp_path / "no")},
        "irc": {"server": f"127.0.0.1:{port}", "tls": True}}))
    status, found = doctor(config)
    assert status == 1
    assert {k: c["state"] for k, c in found.items()} == {
        "notify by email": "warning", "notify by webhook": "ok", "notify by matrix": "warning",
        "notify by irc": "warning"}
    assert found["notify by matrix"]["detail"] == (
        f"matrix http://127.0.0.1:{port}, token_file {tmp_path / 'no'}: matrix: cannot read "
        f"token_file {tmp_path / 'no'}: no such file or directory")
    assert found["notify by irc"]["detail"] == (
        f"irc 127.0.0.1:{port}, tls on, nick ick: irc 127.0.0.1:{port}: cannot connect: "
        "connection refused")
    assert found["notify by email"]["detail"].startswith(f"smtp 127.0.0.1:{port} (plain), from "
                                                         "ick@localhost: ")
    # without the settings, doctor says only where each channel is configured
    plain = subprocess.run([sys.executable, "-m", "ick", "doctor", "--json"],
                           capture_output=True, text=True, timeout=120)
    lines = {c["check"]: c["detail"] for c in json.loads(plain.stdout)}
    assert lines["notify by irc"] == "through the irc: settings of ick.yaml"
