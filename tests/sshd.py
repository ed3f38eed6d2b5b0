"""A real sshd on a free loopback port, with its own host key and one authorized user key."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.polling import poll

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 20.0


@dataclass
class Sshd:
    port: int
    user_key: Path  # the private key the server accepts (for user root)
    known_hosts: str  # a known_hosts line for this server's host key
    root: Path

    @property
    def user(self) -> str:
        return "root"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> str:
    """Make an ed25519 key pair at `path`; return the public key line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ick-test", "-f",
                    str(path)], check=True, timeout=30)
    return path.with_suffix(".pub").read_text().strip()


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    poll(listening, bool, START_TIMEOUT, lambda _: "sshd did not listen in time")


@pytest.fixture
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test sshd logs in as root and needs /run/sshd")
    root = tmp_path_factory.mktemp("sshd")
    host_pub = keygen(root / "host_ed25519")
    user_pub = keygen(root / "user_ed25519")
    (root / "authorized_keys").write_text(user_pub + "\n")
    port = _free_port()
    config = root / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {root / 'host_ed25519'}",
        f"PidFile {root / 'sshd.pid'}", f"AuthorizedKeysFile {root / 'authorized_keys'}",
        "UsePAM no", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        # pytest's folders sit under /tmp, which StrictModes rejects as world-writable.
        "StrictModes no", "LogLevel VERBOSE", "",
    ]))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    log = root / "sshd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        _wait_listening(proc, port, log)
        yield Sshd(port, root / "user_ed25519", f"[127.0.0.1]:{port} {host_pub}", root)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
