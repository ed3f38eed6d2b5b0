"""Benchmark: trigger-to-finished latency, throughput and memory of a real `ick serve`.

Prints: median and p95 latency of a one-action `shell: "true"` build (host) over the HTTP API,
builds per second for 500 builds queued at once on a `concurrent: true` project (the median
of three rounds, each printed), and the daemon's RSS idle and after the run.

With `--against REF` a second daemon runs the code of git ref REF (a venv of Debian's python3
built from `git archive REF`, cached in /tmp/ick-bench-COMMIT so a second run reuses it), both
are measured in interleaved rounds (this checkout, REF, this, REF, ...) on the same machine in
the same minutes, and each figure is printed with the ratio this / REF: a regression shows as
a ratio in one run.

With `--features` this tree runs twice, interleaved in the same way: the plain projects, and
the same projects with this round's features configured but unused (FEATURES: branches: and
tags: globs, cancel_superseded, a `when:` that holds, `outputs:` that match no file, notify
rules that never fire, a forge without a status token, environments whose `auto:` never
matches, a gate), with the ratio features / plain.
Usage: python bench/builds.py [--latency-runs N] [--builds N] [--rounds N]
                              [--against REF | --features]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.daemon import Daemon  # noqa: E402
from tests.procs import rss_mb  # noqa: E402

ICK = """
projects:
  - project: latency
    pipelines: [noop]
  - project: throughput
    concurrent: true
    pipelines: [noop]
pipelines:
  - pipeline: noop
    actions:
      - shell: "true"
        where: host
"""

# The same projects with this round's features configured, none of them at work: API
# triggers are not filtered by branches:/tags: and cancel nothing; the `when:` holds, so the
# action runs; its `outputs:` match no file; the notify rules fire only on a failure; the
# forge has no status token (and the builds no commit), so no status is sent; the
# environments deploy automatically only builds of branch release/*, which API triggers are
# not; the gate takes only pushes to gate/main/*.
PROJECT_FEATURES = """
    branches: [main, "release/*"]
    tags: ["v*"]
    cancel_superseded: false
    environments:
      - environment: staging
        pipelines: [noop]
        auto: {branch: "release/*"}
      - environment: production
        pipelines: [noop]
        after: staging
        approval: true
    gate: {branch: main}
    notify:
      - {email: dev@example.org, when: failure}
      - {matrix: "!abcdef:example.org", when: failure}
      - {irc: "#hello", when: failure}
      - {webhook: "http://127.0.0.1:9/never", when: failure}
    forge:
      type: forgejo
      url: https://forge.example.org/
      repository: alice/hello
      webhook_secret: forge_hook
"""
FEATURES = f"""
projects:
  - project: latency
    pipelines: [noop]{PROJECT_FEATURES}
  - project: throughput
    concurrent: true
    pipelines: [noop]{PROJECT_FEATURES}
pipelines:
  - pipeline: noop
    actions:
      - shell: "true"
        where: host
        when: {{event: [manual, push, tag, change], status: success}}
        outputs: ["dist/*.deb", "reports/"]
"""

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, as the figures are quoted on


class PythonDaemon(Daemon):
    """A daemon run by a given interpreter, isolated (-I) so the current directory's ick is
    not the one it imports."""

    def __init__(self, state_dir: Path, python: str, workers: int = 2) -> None:
        super().__init__(state_dir, workers=workers)
        self.python = python

    def command(self, port: int) -> list[str]:
        argv = super().command(port)
        return [self.python, "-I", *argv[1:]]


def ref_python(ref: str) -> str:
    """The python of a venv holding ick as of git ref `ref` (built once per commit)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
                            check=True, capture_output=True, text=True).stdout.strip()
    home = Path(tempfile.gettempdir()) / f"ick-bench-{commit[:12]}"
    python = home / "venv" / "bin" / "python"
    if (home / "ready").exists():
        return str(python)
    print(f"building a venv of {ref} ({commit[:12]}) in {home} ...", file=sys.stderr)
    shutil.rmtree(home, ignore_errors=True)
    src = home / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(home / "venv")], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(src)], check=True)
    (home / "ready").write_text(commit + "\n")
    return str(python)


async def latency(session: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        async with session.post(f"{url}/projects/latency/+trigger") as r:
            build = await r.json()
            assert r.status == 201, build
        async with session.get(f"{url}/builds/{build['id']}/log?follow=1") as r:
            await r.read()
        times.append(time.perf_counter() - started)
        async with session.get(f"{url}/builds/{build['id']}") as r:
            doc = await r.json()
            assert doc["state"] == "succeeded", doc
    return times


async def throughput(session: aiohttp.ClientSession, url: str, count: int) -> tuple[float, float]:
    started = time.perf_counter()

    async def one() -> int:
        async with session.post(f"{url}/projects/throughput/+trigger") as r:
            doc = await r.json()
            assert r.status == 201, doc
            return int(doc["id"])

    ids = await asyncio.gather(*(one() for _ in range(count)))
    queued = time.perf_counter() - started
    # Follow the newest build's log to its end, then any build still unfinished: a finished
    # build's log returns at once, and polling the whole list would load the daemon.
    pending = [max(ids)]
    while pending:
        for build_id in pending:
            async with session.get(f"{url}/builds/{build_id}/log?follow=1") as r:
                await r.read()
        async with session.get(f"{url}/builds?project=throughput&limit={count}") as r:
            docs = await r.json()
        pending = [d["id"] for d in docs if d["state"] in ("queued", "running")]
    elapsed = time.perf_counter() - started
    failed = [d["id"] for d in docs if d["state"] != "succeeded"]
    assert not failed, f"builds failed: {failed[:5]}"
    assert sorted(ids) == sorted(d["id"] for d in docs)
    return count / elapsed, queued


@dataclass
class Side:
    """One daemon under test and what was measured of it."""

    name: str
    daemon: Daemon
    ick: str = ICK  # the projects it runs
    session: aiohttp.ClientSession | None = None
    idle: float = 0.0
    after: float = 0.0
    times: list[float] = field(default_factory=list)
    rounds: list[tuple[float, float]] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.times) * 1000

    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[int(len(ordered) * 0.95) - 1] * 1000

    def rate(self) -> float:
        return statistics.median(rate for rate, _ in self.rounds)

    def report(self, builds: int) -> None:
        print(f"[{self.name}] latency (trigger to finished, {len(self.times)} builds): "
              f"median {self.median():.1f} ms, p95 {self.p95():.1f} ms")
        rates = [rate for rate, _ in self.rounds]
        print(f"[{self.name}] throughput ({builds} builds queued at once, concurrent project, "
              f"2 workers): median {self.rate():.0f} builds/s of {len(rates)} rounds "
              f"({', '.join(f'{r:.0f}' for r in rates)}; all queued in "
              f"{', '.join(f'{q:.2f}' for _, q in self.rounds)} s)")
        print(f"[{self.name}] daemon RSS: idle {self.idle:.1f} MB, after the run "
              f"{self.after:.1f} MB (+{self.after - self.idle:.1f} MB)")


async def run(sides: list[Side], args: argparse.Namespace) -> None:
    for side in sides:
        side.daemon.start()
    try:
        await asyncio.sleep(1.0)
        for side in sides:
            assert side.daemon.proc is not None
            side.idle = rss_mb(side.daemon.proc.pid)
            side.daemon.apply(side.ick)
            side.session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {side.daemon.admin_token}"})
        # Interleaved: each round runs its share of the latency builds and one throughput
        # round on each side in turn, so both see the same load from whatever else runs.
        per_round = max(1, args.latency_runs // args.rounds)
        for _ in range(args.rounds):
            for side in sides:
                assert side.session is not None
                side.times += await latency(side.session, side.daemon.url, per_round)
            for side in sides:
                assert side.session is not None
                side.rounds.append(await throughput(side.session, side.daemon.url, args.builds))
        for side in sides:
            assert side.daemon.proc is not None
            side.after = rss_mb(side.daemon.proc.pid)
    finally:
        for side in sides:
            if side.session is not None:
                await side.session.close()
            side.daemon.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-runs", type=int, default=200,
                        help="latency builds per daemon, spread over the rounds")
    parser.add_argument("--builds", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3,
                        help="throughput rounds (this machine's figures vary run to run)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--against", metavar="REF",
                       help="also run the daemon of this git ref, interleaved, with ratios")
    which.add_argument("--features", action="store_true",
                       help="run this tree plain and with the features configured, interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sides = [Side("plain" if args.features else "this",
                      PythonDaemon(Path(tmp) / "this", sys.executable))]
        if args.features:
            sides.insert(0, Side("features", PythonDaemon(Path(tmp) / "features", sys.executable),
                                 FEATURES))
        elif args.against:
            python = ref_python(args.against)
            # Daemons start in the temporary folder: before -I (finding 6 of issue 22), an
            # old ref's `ick serve` ran `python -m ick.daemon`, which would import this
            # tree's ick from the current folder instead of the ref's.
            os.chdir(tmp)
            sides.append(Side(args.against, PythonDaemon(Path(tmp) / "ref", python)))
        await run(sides, args)
    for side in sides:
        side.report(args.builds)
    if len(sides) == 2:
        this, ref = sides
        print(f"ratio {this.name} / {ref.name}: latency median {this.median() / ref.median():.2f}, "
              f"p95 {this.p95() / ref.p95():.2f}, throughput {this.rate() / ref.rate():.2f}, "
              f"idle RSS {this.idle / ref.idle:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
