"""A real `ick serve` subprocess for end-to-end tests, driven with the real `ick` CLI."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.polling import poll

START_TIMEOUT = 30.0
FINISHED = ("succeeded", "failed", "cancelled", "interrupted")


class DaemonStartError(AssertionError):
    """The daemon did not say it was listening: it exited first, or its deadline passed."""


class Daemon:
    """One daemon on a free loopback port with its own state directory."""

    def __init__(self, state_dir: Path, settings: dict[str, Any] | None = None,
                 workers: int = 2, environ: dict[str, str] | None = None) -> None:
        self.state_dir = state_dir
        self.environ = dict(environ or {})  # more of the daemon's environment
        self.settings = dict(settings or {})
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.log_path = state_dir.parent / f"{state_dir.name}-serve.log"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("ICK_TOKEN", None)
        env["ICK_STATE_DIR"] = str(self.state_dir)
        env["ICK_URL"] = self.url
        return env

    def command(self, port: int) -> list[str]:
        """The command that starts the daemon: `ick serve` on `port` (0: a free one)."""
        argv = [sys.executable, "-m", "ick", "serve", "--listen", f"127.0.0.1:{port}",
                "--state-dir", str(self.state_dir), "--workers", str(self.workers)]
        if self.settings:
            config = self.state_dir.parent / f"{self.state_dir.name}-ick.yaml"
            config.write_text(yaml.safe_dump(self.settings))
            argv += ["--config", str(config)]
        return argv

    def start(self, port: int = 0, timeout: float = START_TIMEOUT) -> Daemon:
        """Start `ick serve` (on a free port, or `port`) and wait for its 'listening' line,
        `timeout` seconds at most: past it, or if it exits first, the daemon is killed and
        DaemonStartError says which, with the end of its log."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(port), stdout=subprocess.PIPE,
                                         stderr=log, env={**self.env, **self.environ})
        try:
            line = self._ready_line(timeout)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            assert self.proc.stdout is not None
            self.proc.stdout.close()
            raise
        self.url = line.split()[-1]
        return self

    def _ready_line(self, timeout: float) -> str:
        """The 'listening' line from the daemon's stdout. The pipe is read with select and
        os.read, never readline: a daemon that prints half a line, or nothing, and hangs
        would block readline past any deadline."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        pending = b""
        while True:
            *lines, pending = pending.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                if text.startswith("ick: listening on "):
                    return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise DaemonStartError(
                    f"ick serve did not say it was listening within {timeout:g} s; "
                    f"the end of {self.log_path}:\n{self.log_tail()}")
            readable, _, _ = select.select([fd], [], [], left)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise DaemonStartError(
                        f"ick serve exited before it said it was listening; "
                        f"the end of {self.log_path}:\n{self.log_tail()}")
                pending += chunk

    def log_tail(self) -> str:
        """The last 2,000 characters of the daemon's stderr log."""
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    @property
    def admin_token(self) -> str:
        return (self.state_dir / "admin.token").read_text().strip()

    def ick(self, *args: str, input: str | None = None, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run the `ick` CLI against this daemon, as a user would."""
        return subprocess.run(
            [sys.executable, "-m", "ick", *args], input=input, capture_output=True, text=True,
            timeout=timeout, env={**self.env, **(env or {})},
        )

    def api(self, method: str, path: str, doc: Any = None, token: str | None = "admin",
            raw: bytes | None = None) -> tuple[int, Any]:
        """One HTTP request; returns (status, parsed JSON or text)."""
        headers = {}
        if token == "admin":
            token = self.admin_token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw
        if doc is not None:
            data = json.dumps(doc).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, body.decode(errors="replace")

    def build(self, build_id: int) -> dict[str, Any]:
        status, doc = self.api("GET", f"/builds/{build_id}")
        assert status == 200, doc
        return dict(doc)

    def wait_build(self, build_id: int, states: tuple[str, ...] = FINISHED,
                   timeout: float = 120) -> dict[str, Any]:
        """Poll (bounded) until the build is in one of `states`."""
        return poll(lambda: self.build(build_id), lambda doc: doc["state"] in states, timeout,
                    lambda doc: f"build {build_id} still {doc['state']} after {timeout} s")

    def wait_log(self, build_id: int, text: str, timeout: float = 60) -> str:
        log = poll(lambda: self.api("GET", f"/builds/{build_id}/log")[1],
                   lambda log: isinstance(log, str) and text in log, timeout,
                   lambda log: f"{text!r} not in the log of build {build_id}: {log!r}")
        return str(log)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
            raise AssertionError("ick serve did not stop in time") from None
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()
        return code

    def apply(self, text: str, name: str = "test.ick") -> subprocess.CompletedProcess[str]:
        path = self.state_dir.parent / name
        path.write_text(text)
        result = self.ick("apply", str(path))
        assert result.returncode == 0, result.stderr
        return result

    def trigger(self, project: str, *params: str) -> int:
        args = ["trigger", project]
        for p in params:
            args += ["-p", p]
        result = self.ick(*args)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.splitlines()[0])
