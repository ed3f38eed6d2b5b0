"""Secrets on a remote `ick worker`: fetched per action, only those the action names."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon

VALUE = "remote-s3cr3t-77"


@pytest.fixture
def remote_daemon(start_daemon: Callable[..., Daemon], tmp_path: Path) -> Iterator[Daemon]:
    """A daemon without local workers, and one `ick worker` taking its actions."""
    daemon = start_daemon(workers=0)
    token = daemon.ick("token", "create", "--scope", "worker", "--name", "w").stdout.strip()
    (tmp_path / "worker.token").write_text(token)
    env = {**os.environ, "ICK_URL": daemon.url, "ICK_TOKEN": token}
    env.pop("ICK_STATE_DIR", None)
    with open(tmp_path / "worker.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "ick", "worker", "--name", "w",
                                 "--state-dir", str(tmp_path / "worker-state")],
                                env=env, stdout=log, stderr=log)
    try:
        yield daemon
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_remote_worker_gets_only_the_secrets_its_action_names(
    remote_daemon: Daemon, tmp_path: Path
) -> None:
    daemon = remote_daemon
    go = tmp_path / "go"
    daemon.apply(f"""
projects:
  - project: far
    pipelines: [use]
pipelines:
  - pipeline: use
    actions:
      - shell: |
          echo "value: $(cat "$ICK_SECRETS/TOKEN")"
          echo "sum: $(md5sum < "$ICK_SECRETS/TOKEN")"
          echo "mode: $(stat -c %a "$ICK_SECRETS/TOKEN")"
          echo ready
          for i in $(seq 1200); do [ -e {go} ] && break; sleep 0.05; done
        where: host
        secrets: [TOKEN]
""")
    for name in ("TOKEN", "OTHER"):
        result = daemon.ick("secret", "set", "far", name, input=f"{VALUE}-{name}")
        assert result.returncode == 0, result.stderr
    build_id = daemon.trigger("far")
    daemon.wait_log(build_id, "ready\n")
    worker = daemon.build(build_id)["worker"]
    token = (tmp_path / "worker.token").read_text()  # the worker's own
    status, doc = daemon.api("GET", f"/work/{build_id}/0/secrets/OTHER?worker={worker}",
                             token=token)
    assert (status, doc) == (
        403, {"error": f"action 0 of build {build_id} does not name secret 'OTHER'"}
    )
    status, doc = daemon.api("GET", f"/work/{build_id}/0/secrets/TOKEN?worker={worker}")
    assert (status, doc) == (  # the admin token is not the worker's
        403, {"error": f"worker {worker!r} is not registered with this token"}
    )
    status, doc = daemon.api("GET", f"/work/{build_id}/0/secrets/TOKEN?worker=someone",
                             token=token)
    assert (status, doc) == (404, {"error": "no worker 'someone': register again"})
    read_only = daemon.ick("token", "create", "--scope", "read", "--name", "r").stdout.strip()
    status, _ = daemon.api("GET", f"/work/{build_id}/0/secrets/TOKEN?worker={worker}",
                           token=read_only)
    assert status == 403
    go.touch()
    doc = daemon.wait_build(build_id)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded", log
    assert "value: ***\n" in log and VALUE not in log
    expected = hashlib.md5(f"{VALUE}-TOKEN".encode()).hexdigest()
    assert f"sum: {expected}  -\n" in log
    assert "mode: 600\n" in log
