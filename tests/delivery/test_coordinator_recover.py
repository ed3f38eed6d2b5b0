"""The coordinator after the daemon is killed and started again: a deployment whose run was
interrupted fails, a waiting one keeps waiting, and a queued one starts."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.daemon import Daemon
from tests.polling import poll

ICK = """
projects:
  - project: site
    pipelines: [make]
    environments:
      - environment: staging
        pipelines: [ship]
      - environment: production
        pipelines: [ship]
        approval: true
pipelines:
  - pipeline: make
    actions: [{{shell: "true", where: host}}]
  - pipeline: ship
    actions:
      - shell: n=0; while [ ! -e {gate} ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done
        where: host
"""


def deployment(daemon: Daemon, deployment_id: int) -> dict[str, Any]:
    status, doc = daemon.api("GET", f"/deployments/{deployment_id}")
    assert status == 200, doc
    return dict(doc)


def deploy(daemon: Daemon, environment: str, build: int) -> dict[str, Any]:
    status, doc = daemon.api("POST", f"/projects/site/environments/{environment}/+deploy",
                             {"build": build})
    assert status == 201, doc
    return dict(doc)


def test_after_the_daemon_is_killed(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    daemon = Daemon(tmp_path / "state", workers=1).start()
    try:
        daemon.apply(ICK.format(gate=gate))
        build = daemon.trigger("site")
        assert daemon.wait_build(build)["state"] == "succeeded"
        running = deploy(daemon, "staging", build)
        queued = deploy(daemon, "staging", build)
        waiting = deploy(daemon, "production", build)
        assert (running["state"], queued["state"], waiting["state"]) == (
            "running", "queued", "waiting")
        daemon.wait_build(running["run"], ("running",))
        daemon.stop(signal.SIGKILL)
        gate.touch()
        daemon.start()
        assert deployment(daemon, running["id"])["state"] == "failed"
        assert daemon.build(running["run"])["state"] == "interrupted"
        assert deployment(daemon, waiting["id"])["state"] == "waiting"
        done = poll(lambda: deployment(daemon, queued["id"]),
                    lambda d: d["state"] not in ("queued", "running"), 60, str)
        assert done["state"] == "succeeded"
    finally:
        daemon.stop()
