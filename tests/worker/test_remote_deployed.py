"""A deployment's run on a real remote `ick worker`: its workspace starts holding every job's
outputs of the deployed build (fetched over GET /work/{build}/{seq}/deployed), and it gets
its environment's secrets; a worker's other actions cannot read a deployed build's outputs."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon
from tests.polling import poll
from tests.remote import RemoteWorker


def test_a_remote_worker_runs_a_deployment_with_the_outputs_and_secrets(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    blob = os.urandom(2 * 1024 * 1024)
    (tmp_path / "blob").write_bytes(blob)
    target = tmp_path / "target"
    daemon.apply(f"""
projects:
  - project: shop
    pipelines: [make]
    matrix:
      flavour: [plain, fancy]
    environments:
      - environment: staging
        pipelines: [ship]
pipelines:
  - pipeline: make
    actions:
      - shell: |
          mkdir -p dist/$ICK_JOB
          cp {tmp_path}/blob dist/$ICK_JOB/blob.bin
        where: host
        outputs: ["dist"]
  - pipeline: ship
    actions:
      - shell: |
          mkdir -p {target}
          cp -r dist {target}/
          cp "$ICK_SECRETS/token" {target}/token
        where: host
        secrets: [token]
""")
    result = daemon.ick("secret", "set", "shop", "token", "--environment", "staging",
                        input="staging-token-1")
    assert result.returncode == 0, result.stderr
    worker = RemoteWorker(daemon, tmp_path, "w1").start()
    try:
        worker.wait_registered()
        build = daemon.trigger("shop")
        assert daemon.wait_build(build, timeout=120)["state"] == "succeeded"
        result = daemon.ick("deploy", "shop", "staging", "--wait", "--json")
        assert result.returncode == 0, (result.stdout, result.stderr, worker.log()[-3000:])
        deployment = json.loads(result.stdout)
        run = daemon.build(int(deployment["run"]))
        assert str(run["jobs"][0]["worker"]).startswith("w1-")
        log = daemon.ick("log", str(run["id"])).stdout
        assert f"ick: the workspace holds build {build}'s 2 outputs" in log
        assert (target / "dist" / "0" / "blob.bin").read_bytes() == blob
        assert (target / "dist" / "1" / "blob.bin").read_bytes() == blob
        assert (target / "token").read_text() == "staging-token-1"
        # the same route for an ordinary build's action is refused
        status, _ = daemon.api("GET", f"/work/{build}/0/deployed?worker=nobody")
        assert status in (403, 404)
        # a build of another event naming the environment's secret fails before it starts
        daemon.apply("""
projects:
  - project: shop
    pipelines: [steal]
    environments:
      - environment: staging
        pipelines: [ship]
pipelines:
  - pipeline: steal
    actions:
      - shell: cat "$ICK_SECRETS/token"
        where: host
        secrets: [token]
""", name="steal.ick")
        other = daemon.trigger("shop")
        doc = poll(lambda: daemon.build(other), lambda d: d["state"] in (
            "failed", "succeeded"), 60, str)
        assert doc["state"] == "failed"
        assert "which only deployments to 'staging' get" in daemon.ick(
            "log", str(other)).stdout
    finally:
        worker.stop()
