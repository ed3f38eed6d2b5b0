"""Benchmark: the web UI's memory and page times on a real `ick serve`.

Prints: the daemon's idle RSS before any page and after the first pages (Jinja2 loads then),
and the median and p95 time of `/ui/`, `/ui/projects/big` (10,000 builds) and
`/ui/builds/ID` for a build with a 1 GiB log and for one with a small log, measured from a
keep-alive client on loopback (an upper bound on the server's time); then the median and p95
of `/ui/` and `/ui/builds/ID` again, one request every 20 ms, while builds commit in the
background (a steady stream of `--load` triggers a second of a one-action `concurrent`
project), so a page that waits behind the writer's fsynced commits shows.
Usage: python bench/ui.py [--builds N] [--runs N] [--load N]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.model import ActionRecord, ActionState, BuildState, Project  # noqa: E402
from ick.storage.builds import BuildStore  # noqa: E402
from ick.storage.resources import ResourceStore  # noqa: E402
from ick.storage.sqlite import SqliteDatabase  # noqa: E402
from ick.timefmt import now_iso  # noqa: E402
from tests.daemon import Daemon  # noqa: E402
from tests.pipelines import checked  # noqa: E402
from tests.procs import rss_mb  # noqa: E402
from tests.ui.web import session_cookie  # noqa: E402

GIB = 1024**3
STATES = [BuildState.SUCCEEDED] * 8 + [BuildState.FAILED, BuildState.CANCELLED]


async def fill(state: Path, count: int) -> tuple[int, int]:
    """`count` ended builds of project `big`, 30 other projects; the ids of a build with a
    1 GiB log and of one with a small log."""
    db = await SqliteDatabase.open(state / "ick.db")
    try:
        resources, builds = ResourceStore(db), BuildStore(db)
        await resources.put_pipeline(checked("p", ["greeting"], [
            {"shell": "echo hi", "where": "host"}, {"python": "print(1)", "where": "host"}]))
        names = ["big"] + [f"team{i // 10}/project{i}" for i in range(30)]
        for name in names:
            await resources.put_project(Project(name, {"greeting": "hi", "n": 1}, ["p"]))
        await resources.put_pipeline(checked("noop", [], [{"shell": "true", "where": "host"}]))
        await resources.put_project(Project("load", {}, ["noop"], concurrent=True))
        last = 0
        for i in range(count + 30):
            project = "big" if i < count else names[1 + i - count]
            actions = [ActionRecord("p", 0, "shell", "host", {"shell": "echo hi"}),
                       ActionRecord("p", 1, "python", "host", {"python": "print(1)"})]
            build = await builds.create(project, {"greeting": "hi", "n": i}, False, actions,
                                        now_iso())
            build = replace(
                build, state=STATES[i % len(STATES)], started_at=build.queued_at,
                finished_at=now_iso(), worker="w",
                actions=[replace(a, state=ActionState.SUCCEEDED, exit_code=0, duration=0.5)
                         for a in build.actions])
            await builds.save(build, [0, 1])
            if project == "big":
                last = build.id
    finally:
        await db.close()
    line = b"\x1b[32mok\x1b[0m step %d: <compiling> something & linking it all together\n"
    tail = b"".join(line % i for i in range(5000))
    with open(state / "logs" / f"{last}.log", "wb") as f:  # sparse: only the end is written
        f.truncate(GIB - len(tail))
        f.seek(GIB - len(tail))
        f.write(tail)
    (state / "logs" / f"{last - 1}.log").write_bytes(tail[:2000])
    return last, last - 1


def times(url: str, cookie: str, path: str, runs: int, every: float = 0.0) -> list[float]:
    """Milliseconds each request took; one request `every` seconds, or back to back."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    out = []
    next_at = time.monotonic()
    for i in range(runs + 5):
        next_at += every
        time.sleep(max(0.0, next_at - time.monotonic()))
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        reply = conn.getresponse()
        body = reply.read()
        elapsed = time.perf_counter() - started
        assert reply.status == 200, (path, reply.status, body[:300])
        if i >= 5:  # the first few warm the caches (and load the templates)
            out.append(elapsed * 1000)
    conn.close()
    return out


def stats(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"median {statistics.median(ms):5.1f}  p95 {ms[int(len(ms) * 0.95) - 1]:5.1f}"


def load(url: str, token: str, rate: float, stop: threading.Event) -> int:
    """Trigger builds of project `load`, `rate` a second, until `stop`; how many."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    count = 0
    next_at = time.monotonic()
    while not stop.is_set():
        conn.request("POST", "/projects/load/+trigger", body=b"{}",
                     headers={"Authorization": f"Bearer {token}",
                              "Content-Type": "application/json"})
        reply = conn.getresponse()
        body = reply.read()
        assert reply.status == 201, body[:300]
        count += 1
        next_at += 1 / rate
        stop.wait(max(0.0, next_at - time.monotonic()))
    conn.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--load", type=float, default=30.0,
                        help="builds triggered a second while pages are timed under load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ick-bench-ui-") as tmp:
        state = Path(tmp) / "state"
        daemon = Daemon(state).start()
        assert daemon.proc is not None
        time.sleep(2)
        idle = rss_mb(daemon.proc.pid)
        cookie = session_cookie(daemon)
        for path in ("/ui/", "/ui/workers", "/ui/artifacts"):
            times(daemon.url, cookie, path, 1)
        time.sleep(1)
        after = rss_mb(daemon.proc.pid)
        daemon.stop()
        print(f"idle RSS, before any page:          {idle:6.1f} MB")
        print(f"idle RSS, after the first pages:    {after:6.1f} MB")

        started = time.perf_counter()
        huge, small = asyncio.run(fill(state, args.builds))
        print(f"filled {args.builds} builds in {time.perf_counter() - started:.1f} s; "
              f"build {huge} has a {(state / 'logs' / f'{huge}.log').stat().st_size / GIB:.0f}"
              " GiB log")
        daemon = Daemon(state).start()
        assert daemon.proc is not None
        cookie = session_cookie(daemon)
        pages = [("/ui/", "dashboard, 31 projects"),
                 ("/ui/projects/big", f"project of {args.builds} builds"),
                 (f"/ui/builds/{huge}", "build with a 1 GiB log"),
                 (f"/ui/builds/{small}", "build with a 2 kB log")]
        print(f"page times over {args.runs} requests each (ms):")
        for path, what in pages:
            print(f"  {path:24} {what:26} {stats(times(daemon.url, cookie, path, args.runs))}")
        print(f"RSS after the pages:                {rss_mb(daemon.proc.pid):6.1f} MB")
        stop = threading.Event()
        triggered: list[int] = []
        loader = threading.Thread(target=lambda: triggered.append(
            load(daemon.url, daemon.admin_token, args.load, stop)))
        loader.start()
        started = time.perf_counter()
        try:
            time.sleep(1)  # the stream of builds is under way
            # Paced, not back to back: a page a client loads 50 times a second, and the
            # trigger stream keeps its rate whether pages are quick or slow.
            under = [(path, what, times(daemon.url, cookie, path, args.runs, every=0.02))
                     for path, what in (pages[0], pages[3])]
        finally:
            stop.set()
            loader.join()
        rate = triggered[0] / (time.perf_counter() - started)
        print(f"page times while builds commit ({rate:.0f} builds triggered a second; "
              "a page every 20 ms), ms:")
        for path, what, ms in under:
            print(f"  {path:24} {what:26} {stats(ms)}")
        daemon.stop()


if __name__ == "__main__":
    main()
