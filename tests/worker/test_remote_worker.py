"""End to end: `ick worker` runs builds for a controller over the HTTP work protocol."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon

ICK = """
projects:
  - project: remote
    pipelines: [p]
    extra_parameters: true
pipelines:
  - pipeline: p
    actions:
      - shell: echo "on $(hostname) in $(pwd)"; echo "param $(params)"
        where: host
      - python: print("python too")
        where: host
"""


@pytest.fixture
def remote(start_daemon: Callable[..., Daemon], tmp_path: Path) -> Iterator[tuple[Daemon, Path]]:
    daemon = start_daemon(workers=0)
    daemon.apply(ICK)
    token = daemon.ick("token", "create", "--scope", "worker", "--name", "w1").stdout.strip()
    state = tmp_path / "worker-state"
    env = {**os.environ, "ICK_URL": daemon.url, "ICK_TOKEN": token}
    env.pop("ICK_STATE_DIR", None)
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "ick", "worker", "--name", "w1",
                                 "--state-dir", str(state)], env=env, stdout=log, stderr=log)
    try:
        yield daemon, state
    finally:
        proc.terminate()
        proc.wait(30)


def test_remote_worker_runs_a_build(remote: tuple[Daemon, Path]) -> None:
    daemon, state = remote
    build_id = daemon.trigger("remote", "x=1")
    doc = daemon.wait_build(build_id, timeout=60)
    assert doc["state"] == "succeeded", daemon.ick("log", str(build_id)).stdout
    assert doc["worker"].startswith("w1-")
    log = daemon.ick("log", str(build_id)).stdout
    assert f"in {state / 'workspaces' / str(build_id)}" in log
    assert 'param {"x": "1", "ick_trigger": "api", "ick_event": "manual"}' in log
    assert "python too\n" in log


def test_worker_token_scope_is_required(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(workers=0)
    token = daemon.ick("token", "create", "--scope", "read", "--name", "r").stdout.strip()
    status, doc = daemon.api("POST", "/work", {"name": "x"}, token=token)
    assert status == 403
    assert doc == {"error": "token 'r' lacks the 'worker' scope"}


def test_cancel_reaches_a_remote_worker(remote: tuple[Daemon, Path]) -> None:
    daemon, _ = remote
    daemon.apply("""
projects:
  - project: slow
    pipelines: [slow]
pipelines:
  - pipeline: slow
    actions:
      - shell: echo started; sleep 300
        where: host
""")
    build_id = daemon.trigger("slow")
    daemon.wait_log(build_id, "started", timeout=60)
    assert daemon.ick("cancel", str(build_id)).returncode == 0
    doc = daemon.wait_build(build_id, timeout=60)
    assert doc["state"] == "cancelled"
    assert doc["actions"][0]["state"] == "cancelled"
    after = daemon.trigger("remote")
    assert daemon.wait_build(after, timeout=60)["state"] == "succeeded"


def test_a_remote_worker_outlives_a_controller_restart(remote: tuple[Daemon, Path]) -> None:
    daemon, _ = remote
    first = daemon.trigger("remote")
    assert daemon.wait_build(first, timeout=60)["state"] == "succeeded"
    port = int(daemon.url.rsplit(":", 1)[1])
    daemon.stop()
    daemon.start(port=port)
    # The new controller does not know the worker's old id: it registers again.
    second = daemon.trigger("remote")
    doc = daemon.wait_build(second, timeout=60)
    assert doc["state"] == "succeeded"
    assert doc["worker"].startswith("w1-") and doc["worker"] != daemon.build(first)["worker"]


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--token", "ick_a_b", "worker"], {},
     "ick worker takes its token from --token-file or ICK_TOKEN, never from --token"),
    (["worker"], {}, "ick worker needs a worker-scope token: --token-file FILE, or ICK_TOKEN"),
    (["worker", "--token-file", "/nonexistent/t"], {},
     "--token-file /nonexistent/t: cannot read: No such file or directory"),
    (["worker", "--label", "kvm"], {"ICK_TOKEN": "ick_a_b"}, "--label 'kvm': expected KEY=VALUE"),
    (["worker", "--label", "k v=x"], {"ICK_TOKEN": "ick_a_b"},
     "--label 'k v=x': bad label name 'k v': use letters, digits, '.', '_' and '-'"),
])
def test_ick_worker_refuses_bad_options_in_one_line(
        args: list[str], env: dict[str, str], message: str) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("ICK_TOKEN", "ICK_STATE_DIR")}
    done = subprocess.run([sys.executable, "-m", "ick", *args], capture_output=True, text=True,
                          env={**clean, **env}, timeout=60)
    assert (done.returncode, done.stderr) == (2, f"ick: error: {message}\n")


def test_ick_worker_with_a_token_the_controller_refuses_stops_in_one_line(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    reader = daemon.ick("token", "create", "--scope", "read", "--name", "r").stdout.strip()
    for token, why in (("ick_nope_nope", "invalid token"),
                       (reader, "token 'r' lacks the 'worker' scope")):
        clean = {k: v for k, v in os.environ.items() if k not in ("ICK_TOKEN", "ICK_STATE_DIR")}
        done = subprocess.run(
            [sys.executable, "-m", "ick", "worker", "--url", daemon.url,
             "--state-dir", str(tmp_path / "w")], capture_output=True, text=True,
            env={**clean, "ICK_TOKEN": token}, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.endswith(
            f"ick: error: the controller at {daemon.url} refuses this worker: {why}\n")
        assert "Traceback" not in done.stderr
