"""`ick serve` itself: settings, start-up errors, stopping on SIGINT."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import Daemon


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
                             "debian_mirror, header_timeout, irc, keep_builds, keep_days, "
                             "keep_deployments, listen, matrix, max_connections, max_log_mb, "
                             "max_outputs_mb, max_streams, max_streams_per_session, "
                             "public_badges, public_url, smtp, state_dir, systree_cache, "
                             "worker_labels, workers)\n")


def test_ctrl_c_stops_cleanly(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon()
    assert daemon.stop(signal.SIGINT) == 0
    assert "ick stopped" in daemon.log_path.read_text()


def test_serve_execs_the_daemon_entry_point_with_its_flags(
        start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(settings={"keep_builds": 5})
    assert daemon.proc is not None
    argv = Path(f"/proc/{daemon.proc.pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    config = daemon.state_dir.parent / f"{daemon.state_dir.name}-ick.yaml"
    assert argv == [sys.executable, "-I", "-m", "ick.daemon", f"--config={config}",
                    "--listen=127.0.0.1:0", f"--state-dir={daemon.state_dir}",
                    f"--workers={daemon.workers}"]


def test_the_daemon_imports_nothing_from_the_folder_it_was_started_in(
        start_daemon: Callable[..., Daemon], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A `jinja2.py` in the folder `ick serve` starts in (the first page imports Jinja2) ran
    as root when the daemon was `python -m ick.daemon`; under `-I` it is never imported."""
    here = tmp_path / "here"
    here.mkdir()
    marker = tmp_path / "planted-module-ran"
    (here / "jinja2.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                    "raise ImportError('the planted jinja2')\n")
    monkeypatch.chdir(here)
    daemon = start_daemon()
    status, _ = daemon.api("GET", "/ui/login", token=None, raw=None)
    assert status == 200
    assert not marker.exists()
