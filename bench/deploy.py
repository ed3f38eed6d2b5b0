"""Benchmark: deploying a build whose outputs are 100 MB, on a real `ick serve`.

Prints the median time from a deployment's approval (POST /deployments/{id}/+approve) to
its run's first action starting (the action writes the clock first), beside the same for an
ordinary build (POST /projects/{name}/+trigger to its first action), and the difference:
what putting the deployed build's outputs in the workspace and the coordinator cost
(target: under 100 ms).
Usage: python bench/deploy.py [--mb N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.daemon import Daemon  # noqa: E402
from tests.polling import poll  # noqa: E402

ICK = """
projects:
  - project: big
    pipelines: [make]
    concurrent: true
    environments:
      - environment: prod
        pipelines: [ship]
        approval: true
pipelines:
  - pipeline: make
    actions:
      - shell: |
          echo "$EPOCHREALTIME" > {base}/build.stamp
          [ -e out.bin ] || head -c {size} /dev/urandom > out.bin
        where: host
        outputs: ["out.bin"]
  - pipeline: ship
    actions:
      - shell: |
          echo "$EPOCHREALTIME" > {base}/deploy.stamp
          test -s out.bin
        where: host
"""


def call(daemon: Daemon, method: str, path: str, doc: Any = None) -> Any:
    status, body = daemon.api(method, path, doc)
    assert status in (200, 201), (status, body)
    return body


def stamp_after(path: Path, sent: float) -> float:
    """Seconds from `sent` to the time the action wrote into `path` (waited for)."""
    text = poll(lambda: path.read_text() if path.exists() else "", bool, 120,
                lambda _: f"{path} not written")
    path.unlink()
    return float(text) - sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ick-bench-deploy-") as tmp:
        base = Path(tmp)
        daemon = Daemon(base / "state", workers=2).start()
        try:
            (base / "deploy.ick").write_text(ICK.format(base=base, size=args.mb * 2**20))
            result = daemon.ick("apply", str(base / "deploy.ick"))
            assert result.returncode == 0, result.stderr
            builds, deploys = [], []
            for _ in range(args.rounds):
                sent = time.time()
                build = call(daemon, "POST", "/projects/big/+trigger", {})
                builds.append(stamp_after(base / "build.stamp", sent))
                poll(lambda b=build: daemon.build(b["id"]), lambda d: d["state"] == "succeeded",
                     300, str)
                deployment = call(daemon, "POST", "/projects/big/environments/prod/+deploy",
                                  {"build": build["id"]})
                sent = time.time()
                call(daemon, "POST", f"/deployments/{deployment['id']}/+approve")
                deploys.append(stamp_after(base / "deploy.stamp", sent))
                poll(lambda d=deployment: call(daemon, "GET", f"/deployments/{d['id']}"),
                     lambda d: d["state"] not in ("queued", "running"), 300, str)
        finally:
            daemon.stop()
    build_ms = statistics.median(builds) * 1000
    deploy_ms = statistics.median(deploys) * 1000
    print(json.dumps({"outputs_mb": args.mb, "rounds": args.rounds,
                      "build_start_ms": round(build_ms, 1),
                      "deploy_start_ms": round(deploy_ms, 1),
                      "difference_ms": round(deploy_ms - build_ms, 1)}))


if __name__ == "__main__":
    main()
