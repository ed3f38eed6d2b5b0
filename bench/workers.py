"""Benchmark: `--workers 0` with 4 `ick worker` processes against 4 local workers (builds/s
for 1,000 trivial builds, trigger-to-finished median, alternating rounds), and as root a remote
worker's first and second populate_systree of the test systree. Usage: bench/workers.py -h"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.bookworm import bookworm_tarball  # noqa: E402
from tests.daemon import Daemon  # noqa: E402
from tests.polling import wait_for  # noqa: E402
from tests.remote import RemoteWorker  # noqa: E402

ICK = """
projects:
  - project: latency
    pipelines: [noop]
  - project: throughput
    concurrent: true
    pipelines: [noop]
  - project: systree
    parameters: {systree_name: bookworm_systree}
    pipelines: [systree]
pipelines:
  - pipeline: noop
    actions:
      - shell: "true"
        where: host
  - pipeline: systree
    actions:
      - action: populate_systree
        where: host
"""


async def latency(session: aiohttp.ClientSession, url: str, runs: int) -> float:
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
    return statistics.median(times)


async def throughput(session: aiohttp.ClientSession, url: str, count: int) -> float:
    started = time.perf_counter()

    async def one() -> int:
        async with session.post(f"{url}/projects/throughput/+trigger") as r:
            doc = await r.json()
            assert r.status == 201, doc
            return int(doc["id"])

    ids = await asyncio.gather(*(one() for _ in range(count)))
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
    return count / elapsed


def wait_workers(daemon: Daemon, count: int, timeout: float = 60) -> None:
    wait_for(lambda: len(daemon.api("GET", "/workers")[1]) >= count, "registered", timeout)


async def measure(daemon: Daemon, builds: int, runs: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {daemon.admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        median = await latency(session, daemon.url, runs)
        rate = await throughput(session, daemon.url, builds)
    return rate, median


async def setup(base: Path, remote: bool, builds: int, runs: int) -> tuple[float, float]:
    daemon = Daemon(base / "state", workers=0 if remote else 4).start()
    started: list[RemoteWorker] = []
    try:
        daemon.apply(ICK)
        if remote:
            started = [RemoteWorker(daemon, base, f"w{i}").start() for i in range(4)]
            wait_workers(daemon, 4)
        return await measure(daemon, builds, runs)
    finally:
        for worker in started:
            worker.stop(signal.SIGTERM)
        daemon.stop()


def populate_twice(base: Path) -> tuple[list[float], list[float]]:
    """(action durations, trigger-to-finished times) of a remote worker's two populates."""
    daemon = Daemon(base / "state", workers=0).start()
    worker: RemoteWorker | None = None
    try:
        daemon.apply(ICK)
        tarball = bookworm_tarball(base)
        put = daemon.ick("artifacts", "put", "bookworm_systree", str(tarball))
        assert put.returncode == 0, put.stderr
        worker = RemoteWorker(daemon, base, "far").start()
        wait_workers(daemon, 1)
        durations, walls = [], []
        for _ in range(2):
            started = time.perf_counter()
            doc = daemon.wait_build(daemon.trigger("systree"), timeout=300)
            walls.append(time.perf_counter() - started)
            assert doc["state"] == "succeeded", daemon.ick("log", str(doc["id"])).stdout
            durations.append(float(doc["actions"][0]["duration"]))
        return durations, walls
    finally:
        if worker is not None:
            worker.stop(signal.SIGTERM)
        daemon.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=1000)
    parser.add_argument("--latency-runs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2,
                        help="remote and local runs, alternating; medians are printed")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results: dict[str, list[tuple[float, float]]] = {"remote": [], "local": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for round_ in range(args.rounds):
            for kind in ("remote", "local"):
                where = base / f"{kind}{round_}"
                where.mkdir()
                results[kind].append(
                    await setup(where, kind == "remote", args.builds, args.latency_runs))
        print(f"{args.builds} trivial builds queued at once, then {args.latency_runs} one by one"
              f" ({args.rounds} rounds; load average {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after):")
        medians = {}
        for kind, label in (("remote", "4 remote workers (--workers 0)"),
                            ("local", "4 local workers")):
            rates = [rate for rate, _ in results[kind]]
            latencies = [median for _, median in results[kind]]
            medians[kind] = (statistics.median(rates), statistics.median(latencies))
            each = ", ".join(f"{r:.0f}/s {m * 1000:.1f} ms" for r, m in results[kind])
            print(f"  {label:31} {medians[kind][0]:6.0f} builds/s, trigger to finished median "
                  f"{medians[kind][1] * 1000:.1f} ms   (rounds: {each})")
        remote, local = medians["remote"], medians["local"]
        print(f"  remote / local: {local[0] / remote[0]:.2f}x the time per build drained, "
              f"{remote[1] / local[1]:.2f}x the latency")
        if os.geteuid() != 0:
            print("populate_systree on a remote worker: skipped (needs root)")
            return
        (base / "systree").mkdir()
        durations, walls = populate_twice(base / "systree")
        print("populate_systree of the test systree on a remote worker (action duration / "
              "trigger to finished):")
        print(f"  first  {durations[0]:.2f} s / {walls[0]:.2f} s (download, check, unpack)")
        print(f"  second {durations[1]:.2f} s / {walls[1]:.2f} s (cached tree, new overlay)")


if __name__ == "__main__":
    asyncio.run(main())
