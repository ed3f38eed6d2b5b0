"""Real git repositories for tests and benchmarks: bare remotes with working clones, served
over git:// (`git daemon`) and dumb http on free loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.polling import poll

SERVER_START = 10.0  # seconds a server gets to accept connections

# The tests' own git runs with neither the host's nor the user's configuration.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Tess Ter", "GIT_AUTHOR_EMAIL": "tess@example.org",
    "GIT_COMMITTER_NAME": "Tess Ter", "GIT_COMMITTER_EMAIL": "tess@example.org",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, input=input,
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {result.stderr.decode()}")
    return result.stdout.decode().strip()


class Repo:
    """A bare repository `NAME.git` under `base`, and a working clone to commit and push from."""

    def __init__(self, base: Path, name: str) -> None:
        self.name = name
        self.bare = base / f"{name}.git"
        self.work = base / "work" / name
        git("init", "-q", "--bare", "-b", "main", str(self.bare))
        # Dumb http reads info/refs, which receive-pack then keeps up to date.
        git("config", "receive.updateServerInfo", "true", cwd=self.bare)
        git("update-server-info", cwd=self.bare)
        git("init", "-q", "-b", "main", str(self.work))
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    def commit(self, message: str = "change", files: dict[str, str] | None = None) -> str:
        for name, text in (files or {"README": message + "\n"}).items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", message, cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def push(self, *refspecs: str) -> str:
        """Push (main by default); what the remote side said, the hook's lines included."""
        result = subprocess.run(["git", "push", "origin", *(refspecs or ("main",))],
                                cwd=self.work, env=GIT_ENV, capture_output=True, text=True,
                                check=False, timeout=60)
        if result.returncode != 0:
            raise AssertionError(f"git push: {result.stderr}")
        return result.stderr


def free_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = SERVER_START) -> None:
    def accepts() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server on port {port} exited with {proc.returncode}") from None
            return False

    poll(accepts, bool, timeout, lambda _: f"nothing accepted on port {port} in {timeout} s",
         interval=0.02)


class Server:
    """A server subprocess on a free loopback port, serving the repositories under `base`."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_port(port, self.proc)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def git_daemon(base: Path) -> Server:
    """`git daemon` exporting every repository under base at git://127.0.0.1:PORT/NAME.git."""
    port = free_port()  # git daemon cannot listen on port 0 and say which port it got
    return Server(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={base}",
                   "--listen=127.0.0.1", f"--port={port}", "--informative-errors", str(base)],
                  port)


def http_server(base: Path) -> Server:
    """Plain static http over base: git's dumb http protocol, at http://127.0.0.1:PORT/NAME.git.
    It ignores whatever user and password a URL carries, which is what a redaction test needs."""
    port = free_port()
    return Server([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                   "--directory", str(base), str(port)], port)
