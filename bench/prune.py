"""Benchmark: one full prune of a state with 100,000 builds (rows and small logs) across 100
projects, in a real `ick serve`, and how builds fare while it runs.

Prints: the prune's wall time and what it removed, the daemon's peak RSS (VmHWM) before and
after, and the trigger-to-finished median of one-action builds alone and during the prune.
Usage: python bench/prune.py [--builds N] [--projects N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.model import Project  # noqa: E402
from ick.storage.resources import traits_json  # noqa: E402
from ick.storage.sqlite import SqliteDatabase  # noqa: E402
from tests.daemon import Daemon  # noqa: E402
from tests.pipelines import checked  # noqa: E402

T0 = "2026-01-01T00:00:00.000Z"


def vm(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


async def migrate(path: Path) -> None:
    db = await SqliteDatabase.open(path)
    await db.close()


def fill(state: Path, builds: int, projects: int) -> None:
    """Rows straight into SQLite (each build one finished action and a decided notification
    event, as the daemon writes them), and a small log file per build."""
    (state / "logs").mkdir(parents=True)
    asyncio.run(migrate(state / "ick.db"))
    conn = sqlite3.connect(state / "ick.db")
    pipeline = checked("noop", [], [{"shell": "true", "where": "host"}])
    conn.execute("INSERT INTO pipelines (name, doc, traits, updated_at) VALUES (?, ?, ?, ?)",
                 ("noop", json.dumps(pipeline.to_doc()), traits_json(pipeline), T0))
    names = [f"project-{i:03d}" for i in range(projects)]
    for name in [*names, "latency"]:
        conn.execute("INSERT INTO projects VALUES (?, ?, ?)",
                     (name, json.dumps(Project(name, pipelines=["noop"],
                                               concurrent=name == "latency").to_doc()), T0))
    per = builds // projects
    spec = json.dumps({"shell": "true", "where": "host"})
    params = json.dumps({"ick_trigger": "api"})
    rows, jobs, actions, decided = [], [], [], []
    build_id = 0
    for number in range(1, per + 1):
        for name in names:
            build_id += 1
            state_ = "succeeded" if number % 10 == 0 else "failed"
            rows.append((build_id, name, number, state_, params, T0, T0, T0, "local0"))
            jobs.append((build_id, 0, "{}", state_, "local0", T0, T0))
            actions.append((build_id, 0, "noop", 0, "shell", "host", spec, state_,
                            0 if state_ == "succeeded" else 1, 0.01, None, "{}", 0, 0))
            decided.append((build_id, "end", T0))
    conn.executemany("INSERT INTO builds (id, project, number, state, parameters, queued_at, "
                     "started_at, finished_at, worker) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO build_jobs (build_id, job, parameters, state, worker, "
                     "started_at, finished_at) VALUES (?,?,?,?,?,?,?)", jobs)
    conn.executemany("INSERT INTO build_actions (build_id, seq, pipeline, idx, kind, place, "
                     "spec, state, exit_code, duration, message, details, job, local) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", actions)
    conn.executemany("INSERT INTO notify_decisions VALUES (?,?,?)", decided)
    conn.executemany("INSERT INTO build_numbers VALUES (?, ?)", [(n, per) for n in names])
    conn.commit()
    conn.close()
    log = b"==== [1/1] pipeline noop, action 1: shell (where: host)\n---- exit code 1\n" * 3
    for i in range(1, build_id + 1):
        (state / "logs" / f"{i}.log").write_bytes(log)


async def one_build(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.post(f"{url}/projects/latency/+trigger") as r:
        build = await r.json()
        assert r.status == 201, build
    async with session.get(f"{url}/builds/{build['id']}/log?follow=1") as r:
        await r.read()
    return time.perf_counter() - started


async def latencies(url: str, token: str, runs: int | None,
                    until: threading.Event | None = None) -> list[float]:
    times: list[float] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        while (runs is not None and len(times) < runs) or (until is not None
                                                           and not until.is_set()):
            times.append(await one_build(session, url))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ick-bench-prune-") as tmp:
        state = Path(tmp) / "state"
        started = time.perf_counter()
        fill(state, args.builds, args.projects)
        print(f"filled {args.builds} builds across {args.projects} projects "
              f"in {time.perf_counter() - started:.1f} s")
        daemon = Daemon(state, workers=2).start()
        try:
            assert daemon.proc is not None
            pid = daemon.proc.pid
            alone = asyncio.run(latencies(daemon.url, daemon.admin_token, 50))
            hwm_before = vm(pid, "VmHWM")
            done = threading.Event()
            during: list[float] = []
            follower = threading.Thread(target=lambda: during.extend(
                asyncio.run(latencies(daemon.url, daemon.admin_token, None, done))))
            follower.start()
            time.sleep(0.5)
            started = time.perf_counter()
            status, report = daemon.api("POST", "/prune", {})
            took = time.perf_counter() - started
            done.set()
            follower.join(60)
            assert status == 200, report
            hwm_after, rss_after = vm(pid, "VmHWM"), vm(pid, "VmRSS")
            left = len(daemon.api("GET", "/builds?limit=10000")[1])
        finally:
            daemon.stop()
    counts = ", ".join(f"{r['count']} {r['what']}" for r in report["removed"] if r["count"])
    print(f"one full prune: {took:.2f} s; removed {counts}; "
          f"{report['bytes_freed'] / 1e6:.1f} MB freed; {left} builds listed after")
    print(f"daemon peak RSS (VmHWM): {hwm_before:.1f} MB before the prune, {hwm_after:.1f} MB "
          f"after (RSS now {rss_after:.1f} MB)")
    print(f"trigger to finished, one-action build: median {statistics.median(alone) * 1000:.1f}"
          f" ms alone ({len(alone)} builds), {statistics.median(during) * 1000:.1f} ms while "
          f"the prune ran ({len(during)} builds, max {max(during) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
