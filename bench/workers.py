"""Benchmark: `--workers 0` with 4 `ick worker` processes against 4 local workers (builds/s
for 1,000 trivial builds, trigger-to-finished median, alternating rounds); the work protocol's
round trips per action; 1, 16 and 48 remote workers (builds/s, latency, the time to queue the
builds, the controller's idle CPU); and as root a remote worker's first and second
populate_systree of the test systree. Usage: bench/workers.py -h"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
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
  - project: parked
    concurrent: true
    pipelines: [noop]
    worker: {bench: parked}  # no worker has it: its builds stay queued
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
    return statistics.median(await latencies(session, url, runs))


async def latencies(session: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    """Trigger-to-finished times of `runs` builds, one after another."""
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


async def throughput(session: aiohttp.ClientSession, url: str, count: int) -> float:
    return (await drain(session, url, count))[0]


async def drain(session: aiohttp.ClientSession, url: str,
                count: int) -> tuple[float, float, int]:
    """Builds/s for `count` builds queued at once, the seconds their triggers took, and how
    many of them had finished by then (the controller ran them meanwhile)."""
    started = time.perf_counter()

    async def one() -> int:
        async with session.post(f"{url}/projects/throughput/+trigger") as r:
            doc = await r.json()
            assert r.status == 201, doc
            return int(doc["id"])

    ids = await asyncio.gather(*(one() for _ in range(count)))
    queued = time.perf_counter() - started
    async with session.get(f"{url}/builds?project=throughput&limit={count}") as r:
        meanwhile = sum(d["state"] not in ("queued", "running") for d in await r.json())
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
    return count / elapsed, queued, meanwhile


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


# A request line of the work protocol, as a worker sends it.
REQUEST = re.compile(rb"(GET|POST|PUT|DELETE|HEAD) (/work[^? ]*)\S* HTTP/1\.1\r\n")
ROUTES = (("register", "POST", re.compile(r"/work$")), ("poll", "GET", re.compile(r"/work$")),
          ("deregister", "DELETE", re.compile(r"/work$")),
          ("output", "POST", re.compile(r"/work/\d+/\d+/output$")),
          ("done", "POST", re.compile(r"/work/\d+/\d+/done$")),
          ("cancel watch", "GET", re.compile(r"/work/\d+/\d+/cancel$")),
          ("hand-back", "POST", re.compile(r"/work/\d+/\d+/hand-back$")))


class CountingProxy:
    """A TCP proxy in front of the controller that counts the work protocol's requests (by
    their request lines; trivial builds send no body that looks like one)."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").rsplit(":", 1)
        self.target = (host, int(port))
        self.counts: Counter[str] = Counter()
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def _count(self, data: bytes) -> None:
        for method, path in REQUEST.findall(data):
            name = next((n for n, m, r in ROUTES
                         if m == method.decode() and r.match(path.decode())), "other")
            self.counts[name] += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                       count: bool) -> None:
            try:
                while data := await src.read(65536):
                    if count:
                        self._count(data)
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))


def start_worker(daemon: Daemon, base: Path, name: str, url: str) -> RemoteWorker:
    """An `ick worker` process that speaks to the controller at `url` (a proxy of it)."""
    worker = RemoteWorker(daemon, base, name)
    env = {k: v for k, v in os.environ.items() if k not in ("ICK_TOKEN", "ICK_STATE_DIR")}
    argv = [sys.executable, "-m", "ick", "worker", "--url", url, "--token-file",
            str(worker.token_file), "--name", name, "--state-dir", str(worker.state)]
    with open(worker.log_path, "ab") as log:
        worker.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    return worker


async def round_trips(base: Path, builds: int, queued: bool) -> tuple[Counter[str], int]:
    """The requests one remote worker makes for `builds` trivial builds run one by one, or
    `queued` at once (its registration and deregistration included), and the connections it
    opened."""
    daemon = Daemon(base / "state", workers=0).start()
    proxy = CountingProxy(daemon.url)
    worker: RemoteWorker | None = None
    try:
        daemon.apply(ICK)
        worker = start_worker(daemon, base, "counted", await proxy.start())
        await asyncio.to_thread(wait_workers, daemon, 1)
        headers = {"Authorization": f"Bearer {daemon.admin_token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            if queued:
                await drain(session, daemon.url, builds)
            else:
                await latencies(session, daemon.url, builds)
        await asyncio.to_thread(worker.stop, signal.SIGTERM)
        worker = None
        return proxy.counts, proxy.connections
    finally:
        if worker is not None:
            worker.stop(signal.SIGKILL)
        assert proxy.server is not None
        proxy.server.close()
        daemon.stop()


async def park(session: aiohttp.ClientSession, url: str, count: int) -> float:
    """Seconds to queue `count` builds at once that no worker takes (the idle workers wait
    on): what the triggers cost alone, without the builds run meanwhile."""
    started = time.perf_counter()

    async def one() -> None:
        async with session.post(f"{url}/projects/parked/+trigger") as r:
            assert r.status == 201, await r.text()

    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def idle_cpu(pid: int, seconds: float) -> float:
    """The share of one CPU the process used over `seconds` (percent)."""
    before, started = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / (time.perf_counter() - started)


@dataclass(frozen=True)
class Scale:
    workers: int
    rate: float  # builds/s
    queued: float  # seconds to queue the builds
    meanwhile: int  # builds finished while they were queued
    parked: float  # seconds to queue the builds where no worker takes them: triggers alone
    median: float  # trigger to finished, seconds
    p95: float
    idle: float  # the controller's CPU while the workers wait, percent of one


async def scale(base: Path, count: int, builds: int, runs: int, idle_for: float) -> Scale:
    """`count` remote workers against a controller with none of its own."""
    daemon = Daemon(base / "state", workers=0).start()
    started: list[RemoteWorker] = []
    try:
        daemon.apply(ICK)
        started = [RemoteWorker(daemon, base, f"w{i}").start() for i in range(count)]
        await asyncio.to_thread(wait_workers, daemon, count, 120)
        headers = {"Authorization": f"Bearer {daemon.admin_token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            times = sorted(await latencies(session, daemon.url, runs))
            rate, queued, meanwhile = await drain(session, daemon.url, builds)
            await asyncio.sleep(1)  # the last reports settle
            assert daemon.proc is not None
            idle = await idle_cpu(daemon.proc.pid, idle_for)
            parked = await park(session, daemon.url, builds)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        return Scale(count, rate, queued, meanwhile, parked, statistics.median(times), p95,
                     idle)
    finally:
        for worker in started:
            if worker.proc is not None:
                worker.proc.send_signal(signal.SIGTERM)
        for worker in started:
            worker.stop(signal.SIGTERM)
        daemon.stop()


def print_trips(counts: Counter[str], connections: int, builds: int, how: str) -> None:
    print(f"the work protocol's round trips for {builds} trivial builds {how} on one remote "
          f"worker ({connections} connections):")
    per = sum(n for name, n in counts.items() if name not in ("register", "deregister"))
    for name, _, _ in ROUTES:
        if counts[name]:
            print(f"  {name:13} {counts[name]:5}  {counts[name] / builds:5.2f} per action")
    if counts["other"]:
        print(f"  {'other':13} {counts['other']:5}")
    print(f"  {'all but':13} {per:5}  {per / builds:5.2f} per action "
          "(register and deregister aside)")


def print_scale(results: list[Scale], builds: int, runs: int) -> None:
    print(f"remote workers against a controller with --workers 0 ({builds} trivial builds "
          f"queued at once, {runs} one by one):")
    for r in results:
        print(f"  {r.workers:3} remote  {r.rate:5.0f} builds/s, latency median "
              f"{r.median * 1000:5.1f} ms / p95 {r.p95 * 1000:5.1f} ms, queuing {builds} took "
              f"{r.queued:.2f} s ({r.meanwhile} finished meanwhile; {r.parked:.2f} s where "
              f"no worker takes them), idle controller CPU {r.idle:.2f} %")
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"  latency with {last.workers} / with {first.workers}: "
              f"{last.median / first.median:.2f}x; queuing: {last.queued / first.queued:.2f}x, "
              f"where no worker takes them: {last.parked / first.parked:.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=1000)
    parser.add_argument("--latency-runs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2,
                        help="remote and local runs, alternating; medians are printed")
    parser.add_argument("--parts", default="compare,trips,scale,systree",
                        help="which parts to run, comma-separated [%(default)s]")
    parser.add_argument("--scale", default="1,16,48",
                        help="numbers of remote workers for the scale part [%(default)s]")
    parser.add_argument("--scale-builds", type=int, default=300)
    parser.add_argument("--scale-runs", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--trip-builds", type=int, default=50)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    load = os.getloadavg()[0]
    results: dict[str, list[tuple[float, float]]] = {"remote": [], "local": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if "trips" in parts:
            for queued, how in ((False, "one by one"), (True, "queued at once")):
                where = base / f"trips-{queued}"
                where.mkdir()
                counts, connections = await round_trips(where, args.trip_builds, queued)
                print_trips(counts, connections, args.trip_builds, how)
        if "compare" in parts:
            for round_ in range(args.rounds):
                for kind in ("remote", "local"):
                    where = base / f"{kind}{round_}"
                    where.mkdir()
                    results[kind].append(
                        await setup(where, kind == "remote", args.builds, args.latency_runs))
            print(f"{args.builds} trivial builds queued at once, then {args.latency_runs} one by"
                  f" one ({args.rounds} rounds; load average {load:.1f} before, "
                  f"{os.getloadavg()[0]:.1f} after):")
            medians = {}
            for kind, label in (("remote", "4 remote workers (--workers 0)"),
                                ("local", "4 local workers")):
                rates = [rate for rate, _ in results[kind]]
                times = [median for _, median in results[kind]]
                medians[kind] = (statistics.median(rates), statistics.median(times))
                each = ", ".join(f"{r:.0f}/s {m * 1000:.1f} ms" for r, m in results[kind])
                print(f"  {label:31} {medians[kind][0]:6.0f} builds/s, trigger to finished "
                      f"median {medians[kind][1] * 1000:.1f} ms   (rounds: {each})")
            remote, local = medians["remote"], medians["local"]
            print(f"  remote / local: {remote[0] / local[0]:.2f}x the throughput, "
                  f"{remote[1] / local[1]:.2f}x the latency")
        if "scale" in parts:
            scaled = []
            # One at a time, the largest last: 48 worker processes load a shared machine.
            for count in sorted(int(n) for n in args.scale.split(",")):
                where = base / f"scale{count}"
                where.mkdir()
                scaled.append(await scale(where, count, args.scale_builds, args.scale_runs,
                                          args.idle_seconds))
            print_scale(scaled, args.scale_builds, args.scale_runs)
        if "systree" not in parts:
            return
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
