"""A real Matrix homeserver for notification tests: Synapse (matrix-synapse from PyPI) on a free
loopback port with its SQLite database, no federation, registration by shared secret only; a
bot user (whose token ick sends with), a reader user, and a room both are in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.polling import poll

START_TIMEOUT = 120.0  # Synapse creates its schema at the first start: tens of seconds
SHARED_SECRET = "ick-test-registration-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, method: str = "GET", doc: dict[str, Any] | None = None,
         token: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """One JSON request to the homeserver; its JSON answer (an HTTPError for a non-2xx)."""
    data = None if doc is None else json.dumps(doc).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


@dataclass
class Homeserver:
    url: str
    server_name: str
    bot_token: str
    reader_token: str
    room_id: str
    room_alias: str  # "#ick:SERVER", which resolves to room_id
    started_in: float  # seconds from starting the process to its first answer

    def room_url(self, room: str, tail: str) -> str:
        return f"{self.url}/_matrix/client/v3/rooms/{urllib.parse.quote(room, safe='')}{tail}"

    def notices(self, room_id: str | None = None) -> list[dict[str, Any]]:
        """The m.notice events in the room, oldest first, as the reader sees them."""
        room = room_id or self.room_id
        answer = call(self.room_url(room, "/messages?dir=b&limit=100"), token=self.reader_token)
        events = [e for e in answer.get("chunk", [])
                  if e.get("type") == "m.room.message"
                  and e.get("content", {}).get("msgtype") == "m.notice"]
        return list(reversed(events))

    def wait_notices(self, count: int, timeout: float = 60.0,
                     room_id: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = poll(
            lambda: self.notices(room_id), lambda n: len(n) >= count, timeout,
            lambda n: f"{count} notices not in the room in {timeout} s: {n}")
        return found


def register(url: str, user: str, password: str) -> str:
    """Register `user` through the shared-secret admin API; its access token."""
    endpoint = f"{url}/_synapse/admin/v1/register"
    nonce = call(endpoint)["nonce"]
    mac = hmac.new(SHARED_SECRET.encode(), b"\0".join(
        [nonce.encode(), user.encode(), password.encode(), b"notadmin"]), hashlib.sha1)
    answer = call(endpoint, "POST", {"nonce": nonce, "username": user, "password": password,
                                     "admin": False, "mac": mac.hexdigest()})
    return str(answer["access_token"])


def write_config(root: Path, port: int) -> Path:
    server_name = "ick.test"
    config = {
        "server_name": server_name,
        "pid_file": str(root / "homeserver.pid"),
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                       "tls": False, "x_forwarded": False,
                       "resources": [{"names": ["client"], "compress": False}]}],
        "database": {"name": "sqlite3", "args": {"database": str(root / "homeserver.db")}},
        "media_store_path": str(root / "media"),
        "signing_key_path": str(root / "signing.key"),
        "log_config": str(root / "log.yaml"),
        "registration_shared_secret": SHARED_SECRET,
        "enable_registration": False,
        "report_stats": False,
        # No federation: it talks to no other server, and fetches no keys.
        "federation_domain_whitelist": [],
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "enable_metrics": False,
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        # The tests send bursts; the 429 path has its own test server.
        "rc_message": {"per_second": 1000, "burst_count": 1000},
        "rc_registration": {"per_second": 1000, "burst_count": 1000},
        "rc_login": {"address": {"per_second": 1000, "burst_count": 1000},
                     "account": {"per_second": 1000, "burst_count": 1000}},
        "rc_joins": {"local": {"per_second": 1000, "burst_count": 1000}},
    }
    (root / "log.yaml").write_text(
        "version: 1\nformatters: {plain: {format: '%(asctime)s %(levelname)s %(name)s "
        "%(message)s'}}\nhandlers: {file: {class: logging.FileHandler, formatter: plain, "
        f"filename: '{root / 'homeserver.log'}'}}}}\nroot: {{level: WARNING, handlers: [file]}}\n"
        "disable_existing_loggers: false\n")
    path = root / "homeserver.yaml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path


def start(root: Path) -> tuple[subprocess.Popen[bytes], Homeserver]:
    """Start Synapse in `root` and set up its users and room; the caller stops the process."""
    port = free_port()
    config = write_config(root, port)
    subprocess.run([sys.executable, "-m", "synapse.app.homeserver", "--config-path",
                    str(config), "--generate-keys"], check=True, capture_output=True,
                   timeout=120)
    url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    out = open(root / "stdout.log", "wb")  # noqa: SIM115 (the process holds it)
    proc = subprocess.Popen([sys.executable, "-m", "synapse.app.homeserver", "--config-path",
                             str(config)], stdout=out, stderr=subprocess.STDOUT)
    out.close()

    def answers() -> bool:
        if proc.poll() is not None:
            raise RuntimeError("synapse exited: "
                               + (root / "stdout.log").read_text(errors="replace")[-3000:])
        try:
            call(f"{url}/_matrix/client/versions", timeout=5)
        except (urllib.error.URLError, OSError):
            return False
        return True

    try:
        poll(answers, bool, START_TIMEOUT, lambda _: "synapse did not answer in time")
        started_in = time.monotonic() - began
        bot = register(url, "ickbot", "bot-password-1")
        reader = register(url, "reader", "reader-password-1")
        room = call(f"{url}/_matrix/client/v3/createRoom", "POST",
                    {"room_alias_name": "ick", "preset": "public_chat",
                     "invite": ["@ickbot:ick.test"]}, token=reader)["room_id"]
        call(f"{url}/_matrix/client/v3/join/{urllib.parse.quote(room, safe='')}", "POST", {},
             token=bot)
    except BaseException:
        stop(proc)
        raise
    return proc, Homeserver(url, "ick.test", bot, reader, str(room), "#ick:ick.test",
                            started_in)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
