"""Benchmark: trigger-to-finished latency, throughput and memory of a real `ick serve`.

Prints: median and p95 latency of a one-action `shell: "true"` build (host) over the HTTP API,
builds per second for 500 builds queued at once on a `concurrent: true` project (the median
of three rounds, each printed), and the
daemon's RSS idle and after the run.
Usage: python bench/builds.py [--latency-runs N] [--builds N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-runs", type=int, default=200)
    parser.add_argument("--builds", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3,
                        help="throughput rounds (this machine's figures vary run to run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        daemon = Daemon(Path(tmp) / "state", workers=2).start()
        try:
            assert daemon.proc is not None
            pid = daemon.proc.pid
            await asyncio.sleep(1.0)
            idle = rss_mb(pid)
            daemon.apply(ICK)
            headers = {"Authorization": f"Bearer {daemon.admin_token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                times = await latency(session, daemon.url, args.latency_runs)
                rounds = [await throughput(session, daemon.url, args.builds)
                          for _ in range(args.rounds)]
            after = rss_mb(pid)
        finally:
            daemon.stop()
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"latency (trigger to finished, {len(times)} builds): "
          f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    rates = [rate for rate, _ in rounds]
    print(f"throughput ({args.builds} builds queued at once, concurrent project, 2 workers): "
          f"median {statistics.median(rates):.0f} builds/s of {len(rates)} rounds "
          f"({', '.join(f'{r:.0f}' for r in rates)}; all queued in "
          f"{', '.join(f'{q:.2f}' for _, q in rounds)} s)")
    print(f"daemon RSS: idle {idle:.1f} MB, after the run {after:.1f} MB "
          f"(+{after - idle:.1f} MB)")


if __name__ == "__main__":
    asyncio.run(main())
