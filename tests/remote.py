"""Real `ick worker` processes for tests and benchmarks, each with its own state directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.daemon import Daemon
from tests.polling import poll


class RemoteWorker:
    def __init__(self, daemon: Daemon, base: Path, name: str, *args: str,
                 token: str | None = None) -> None:
        self.daemon = daemon
        self.name = name
        self.state = base / f"{name}-state"
        self.log_path = base / f"{name}.log"
        self.args = args
        self.token_file = base / f"{name}.token"
        if token is None:
            made = daemon.ick("token", "create", "--scope", "worker", "--name", name)
            assert made.returncode == 0, made.stderr
            token = made.stdout.strip()
        self.token_file.write_text(token + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RemoteWorker:
        env = {k: v for k, v in os.environ.items() if k not in ("ICK_TOKEN", "ICK_STATE_DIR")}
        argv = [sys.executable, "-m", "ick", "worker", "--url", self.daemon.url,
                "--token-file", str(self.token_file), "--name", self.name,
                "--state-dir", str(self.state), *self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        return self

    def entry(self) -> dict[str, object] | None:
        """This worker as GET /workers lists it, or None."""
        status, docs = self.daemon.api("GET", "/workers")
        assert status == 200, docs
        return next((dict(d) for d in docs if d["name"] == self.name), None)

    def wait_registered(self, timeout: float = 30) -> dict[str, object]:
        """Poll GET /workers (bounded) until this worker is listed; its entry."""
        found = poll(self.entry, lambda e: e is not None, timeout,
                     lambda _: f"worker {self.name} did not register: {self.log()[-2000:]}")
        assert found is not None
        return found

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"ick worker {self.name} did not stop in time") from None
