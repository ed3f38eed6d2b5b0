"""`ick serve` itself: settings, start-up errors, stopping on SIGINT."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ick.config import Settings, SmtpSettings, settings_from_json, settings_to_json
from tests.daemon import Daemon


def test_settings_survive_the_exec_into_the_daemon() -> None:
    settings = Settings(listen="127.0.0.1:9999", state_dir=Path("/srv/ick"), workers=0,
                        public_url="http://ci.example.org", debian_mirror=None,
                        smtp=SmtpSettings(host="mail", port=587, starttls=True, user="u",
                                          password_file="/etc/pw", sender="ci@example.org"))
    assert settings_from_json(settings_to_json(settings)) == settings


def test_a_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ick", "serve", "--listen", f"127.0.0.1:{port}",
             "--state-dir", str(tmp_path / "state")],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("ick: error:")]
    assert errors == [f"ick: error: cannot start: [Errno 98] error while attempting to bind on "
                      f"address ('127.0.0.1', {port}): address already in use"]
    assert "Traceback" not in result.stderr


def test_bad_settings_are_refused_before_starting(tmp_path: Path) -> None:
    config = tmp_path / "ick.yaml"
    config.write_text("listen: 127.0.0.1:0\nworkrs: 3\n")
    result = subprocess.run([sys.executable, "-m", "ick", "serve", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"ick: error: {config}: unknown setting 'workrs' (expected one of: "
                             "debian_mirror, keep_builds, keep_days, listen, max_log_mb, "
                             "public_badges, public_url, smtp, state_dir, worker_labels, "
                             "workers)\n")


def test_ctrl_c_stops_cleanly(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon()
    assert daemon.stop(signal.SIGINT) == 0
    assert "ick stopped" in daemon.log_path.read_text()


def test_the_lean_import_environment_is_only_for_the_imports(
        start_daemon: Callable[..., Daemon], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `ick serve` puts on the daemon's command line what to give back after the imports...
    def restore(daemon: Daemon) -> dict[str, str | None]:
        assert daemon.proc is not None
        argv = Path(f"/proc/{daemon.proc.pid}/cmdline").read_bytes().decode().split("\0")
        [arg] = [a for a in argv if a.startswith("--restore-env=")]
        found: dict[str, str | None] = json.loads(arg.removeprefix("--restore-env="))
        return found

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("FROZENLIST_NO_EXTENSIONS", raising=False)
    plain = start_daemon()
    assert restore(plain) == {"SSL_CERT_FILE": None, "FROZENLIST_NO_EXTENSIONS": None}
    assert plain.proc is not None
    maps = Path(f"/proc/{plain.proc.pid}/maps").read_text()
    assert "libstdc++" not in maps and "_frozenlist" not in maps  # the imports were lean
    bundle = str(tmp_path / "ca.pem")
    user = start_daemon(name="user", environ={"SSL_CERT_FILE": bundle})
    assert restore(user) == {"SSL_CERT_FILE": bundle, "FROZENLIST_NO_EXTENSIONS": None}

    # ...and the daemon gives it back before it runs anything.
    show = ("import subprocess, sys\n"
            "from ick.daemon.__main__ import restore_env\n"
            "restore_env(sys.argv[1:])\n"
            "subprocess.run(['env'], check=True)\n")
    env = {"PATH": "/usr/bin:/bin", "SSL_CERT_FILE": "/nonexistent/x",
           "FROZENLIST_NO_EXTENSIONS": "1", "OTHER": "kept"}
    saved = json.dumps({"SSL_CERT_FILE": bundle, "FROZENLIST_NO_EXTENSIONS": None})
    result = subprocess.run([sys.executable, "-c", show, "--verbose", f"--restore-env={saved}"],
                            capture_output=True, text=True, timeout=60, env=env,
                            cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert seen["OTHER"] == "kept" and seen["SSL_CERT_FILE"] == bundle
    assert "FROZENLIST_NO_EXTENSIONS" not in seen
