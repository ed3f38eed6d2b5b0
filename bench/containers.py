"""Benchmark: systrees and containers, next to a bare systemd-nspawn in the same run.

Prints medians of: `populate_systree` of the bookworm minbase systree with a cold cache and a
warm one; a container action `true` (shell, where: container) start to finish; populate +
that action together; the bare `systemd-nspawn -q --register=no --keep-unit -D TREE
/bin/true`; a whole build (populate + container true) through a real daemon, trigger to
finished; and a 2 GB artifact through `ick artifacts put` and `get` with each side's peak
memory. Target: warm populate + container true within 1.5x of the bare nspawn run. The
systree cache is on disk (the default) and then on a tmpfs (`systree_cache: tmpfs`), each
figure for both unless --systree-cache says one.

Needs root. Usage: python bench/containers.py [--runs N] [--skip-big]
[--systree-cache disk|tmpfs]
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
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.daemon.host import prepare_nspawn  # noqa: E402
from ick.runners.base import (  # noqa: E402
    ActionContext,
    BuildScratch,
    HostSettings,
    WorkerServices,
)
from ick.runners.populate_systree import PopulateSystreeRunner  # noqa: E402
from ick.runners.shell import ShellRunner  # noqa: E402
from ick.storage.artifacts import ArtifactStore  # noqa: E402
from ick.storage.sqlite import SqliteDatabase  # noqa: E402
from ick.worker.services import LocalServices, StoreBlobs  # noqa: E402
from ick.worker.systrees import SystreeCache  # noqa: E402
from tests.bookworm import bookworm_tarball  # noqa: E402
from tests.daemon import Daemon  # noqa: E402

BUILD = """
projects:
  - project: ctrue
    parameters: {systree_name: bookworm_systree}
    pipelines: [ctrue]
pipelines:
  - pipeline: ctrue
    actions:
      - action: populate_systree
        where: host
      - shell: "true"
        where: container
"""


class Bench:
    def __init__(self, base: Path, services: WorkerServices) -> None:
        self.base = base
        self.services = services
        self.serial = 0
        self.out = bytearray()

    def context(self, action: dict[str, object], scratch: BuildScratch) -> ActionContext:
        self.serial += 1
        workspace = self.base / "ws" / str(self.serial)
        run_dir = self.base / "run" / str(self.serial)
        workspace.mkdir(parents=True)
        run_dir.mkdir(parents=True, mode=0o700)
        return ActionContext(
            build_id=self.serial, project="bench", number=self.serial, seq=0,
            action=action, parameters={"systree_name": "bookworm_systree"},
            workspace=workspace, run_dir=run_dir, output=self.out.extend,
            host=HostSettings(state_dir=self.base), scratch=scratch, services=self.services,
        )

    async def populate(self, scratch: BuildScratch) -> float:
        ctx = self.context({"action": "populate_systree", "where": "host"}, scratch)
        started = time.perf_counter()
        outcome = await PopulateSystreeRunner().run(ctx)
        assert outcome.exit_code == 0, self.out.decode(errors="replace")
        return time.perf_counter() - started

    async def container_true(self, scratch: BuildScratch) -> float:
        ctx = self.context({"shell": "true", "where": "container"}, scratch)
        started = time.perf_counter()
        outcome = await ShellRunner().run(ctx)
        assert outcome.exit_code == 0, self.out.decode(errors="replace")
        return time.perf_counter() - started


async def end_build(scratch: BuildScratch) -> None:
    for cleanup in reversed(scratch.cleanups):
        result = cleanup()
        if asyncio.iscoroutine(result):
            await result


async def bare_nspawn(tree: Path) -> float:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "systemd-nspawn", "-q", "--register=no", "--keep-unit", "-D", str(tree), "/bin/true")
    assert await proc.wait() == 0
    return time.perf_counter() - started


async def median_of(runs: int, one: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await one() for _ in range(runs)])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


async def in_process(base: Path, tarball: Path, runs: int, tmpfs: bool) -> None:
    base.mkdir()
    db = await SqliteDatabase.open(base / "ick.db")
    store = ArtifactStore(db, base / "artifacts")
    await store.open()
    systrees = SystreeCache(base / "systrees", StoreBlobs(store))
    services = LocalServices(store, systrees, lambda project, name: None)
    await systrees.open(tmpfs=tmpfs)
    copy = store.temp_path()
    shutil.copyfile(tarball, copy)
    artifact, _ = await store.put_file("bookworm_systree", copy)
    bench = Bench(base, services)
    try:
        async def cold() -> float:
            await systrees.drop(artifact.digest)
            scratch = BuildScratch()
            took = await bench.populate(scratch)
            await end_build(scratch)
            return took

        async def warm() -> float:
            scratch = BuildScratch()
            took = await bench.populate(scratch)
            await end_build(scratch)
            return took

        async def container() -> float:
            scratch = BuildScratch()
            await bench.populate(scratch)
            took = await bench.container_true(scratch)
            await end_build(scratch)
            return took

        async def both() -> float:
            scratch = BuildScratch()
            took = await bench.populate(scratch) + await bench.container_true(scratch)
            await end_build(scratch)
            return took

        async def cleanup() -> float:
            scratch = BuildScratch()
            await bench.populate(scratch)
            await bench.container_true(scratch)
            started = time.perf_counter()
            await end_build(scratch)
            return time.perf_counter() - started

        tree = systrees.tree_path(artifact.digest)
        cold_runs = max(3, runs // 4)
        print(f"populate_systree, cold cache          {ms(await median_of(cold_runs, cold))}")
        print(f"populate_systree, warm cache          {ms(await median_of(runs, warm))}")
        print(f"container action `true`               {ms(await median_of(runs, container))}")
        print(f"build cleanup (unmount, remove view)  {ms(await median_of(runs, cleanup))}")
        pair = await median_of(runs, both)
        bare = await median_of(runs, lambda: bare_nspawn(tree))
        print(f"warm populate + container `true`      {ms(pair)}")
        print(f"bare systemd-nspawn /bin/true         {ms(bare)}")
        verdict = "within" if pair <= 1.5 * bare else "NOT within"
        print(f"ratio                                 {pair / bare:8.2f}x "
              f"({verdict} the 1.5x target)")
    finally:
        await systrees.close()
        await db.close()


def through_daemon(base: Path, tarball: Path, runs: int, cache: str) -> None:
    daemon = Daemon(base / f"state-{cache}", {"systree_cache": cache}, workers=1).start()
    try:
        assert daemon.ick("artifacts", "put", "bookworm_systree", str(tarball)).returncode == 0
        daemon.apply(BUILD)
        daemon.wait_build(daemon.trigger("ctrue"))  # the cold one
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            status, doc = daemon.api("POST", "/projects/ctrue/+trigger")
            assert status == 201
            # The followed log ends when the build does: no polling interval in the figure.
            daemon.api("GET", f"/builds/{doc['id']}/log?follow=1")
            times.append(time.perf_counter() - started)
            assert daemon.build(doc["id"])["state"] == "succeeded"
        print(f"whole build via the daemon (warm)     {ms(statistics.median(times))}"
              "  (trigger to log end)")
    finally:
        daemon.stop()


def big_artifact(base: Path) -> None:
    daemon = Daemon(base / "big-state").start()
    try:
        assert daemon.proc is not None
        big = base / "big"
        with open(big, "wb") as f:
            f.truncate(2 * 1024**3)
        for verb, args in (("put", ["big", str(big)]), ("get", ["big", "-o", str(base / "got")])):
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "ick", "artifacts", verb, *args],
                                    env=daemon.env, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            took = time.perf_counter() - started
            assert os.waitstatus_to_exitcode(status) == 0
            print(f"2 GB artifact {verb:<3}                     {took:8.1f} s  "
                  f"(CLI peak {usage.ru_maxrss / 1024:.0f} MB)")
        status_text = Path(f"/proc/{daemon.proc.pid}/status").read_text()
        hwm = next(line for line in status_text.splitlines() if line.startswith("VmHWM:"))
        print(f"daemon peak memory after both         {int(hwm.split()[1]) / 1024:8.0f} MB")
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-big", action="store_true", help="Skip the 2 GB artifact.")
    parser.add_argument("--systree-cache", choices=["disk", "tmpfs"], action="append",
                        help="Where the cache lives (repeatable) [both].")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/containers.py needs root (overlayfs, systemd-nspawn)")
    prepare_nspawn()
    with tempfile.TemporaryDirectory(prefix="ick-bench-") as tmp:
        base = Path(tmp)
        tarball = bookworm_tarball(base)
        for cache in args.systree_cache or ["disk", "tmpfs"]:
            print(f"-- systree cache on {cache}")
            asyncio.run(in_process(base / f"inproc-{cache}", tarball, args.runs,
                                   cache == "tmpfs"))
            through_daemon(base, tarball, args.runs, cache)
        if not args.skip_big:
            big_artifact(base)


if __name__ == "__main__":
    main()
