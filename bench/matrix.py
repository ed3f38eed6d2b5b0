"""Benchmark: matrix jobs against separate builds, and an arm64 container against an amd64 one.

Prints, for a daemon with 4 local workers: the trigger-to-finished time of one build with a
4-job matrix of trivial host jobs against that of 4 separate builds of the same action
triggered at once (median of --runs), and the overhead per job; then (as root, where arm64
is emulated, with the cached test systrees) the duration of a container action that runs
`true` in an amd64 and in an arm64 systree. Usage: python bench/matrix.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.runners.arches import host_arch, runnable_arches  # noqa: E402
from tests.bookworm import bookworm_tarball  # noqa: E402
from tests.daemon import Daemon  # noqa: E402

ICK = """
projects:
  - project: matrix
    matrix: {n: [1, 2, 3, 4]}
    pipelines: [noop]
  - project: single
    concurrent: true
    pipelines: [noop]
  - project: container
    pipelines: [container]
pipelines:
  - pipeline: noop
    actions:
      - shell: "true"
        where: host
  - pipeline: container
    actions:
      - action: populate_systree
        where: host
      - shell: "true"
        where: container
"""


async def finish(session: aiohttp.ClientSession, url: str, project: str,
                 parameters: dict[str, str] | None = None) -> dict[str, object]:
    """Trigger a build of `project` and follow its log to the end; its JSON."""
    async with session.post(f"{url}/projects/{project}/+trigger",
                            json={"parameters": parameters or {}}) as r:
        build = await r.json()
        assert r.status == 201, build
    async with session.get(f"{url}/builds/{build['id']}/log?follow=1") as r:
        await r.read()
    async with session.get(f"{url}/builds/{build['id']}") as r:
        doc: dict[str, object] = await r.json()
    assert doc["state"] == "succeeded", doc
    return doc


async def matrix_against_builds(url: str, token: str, runs: int) -> tuple[float, float]:
    """Medians of (one 4-job matrix build, 4 separate builds at once), trigger to finished."""
    matrix, separate = [], []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
        for _ in range(3):  # warm up
            await finish(session, url, "matrix")
        for _ in range(runs):
            started = time.perf_counter()
            await finish(session, url, "matrix")
            matrix.append(time.perf_counter() - started)
            started = time.perf_counter()
            await asyncio.gather(*(finish(session, url, "single") for _ in range(4)))
            separate.append(time.perf_counter() - started)
    return statistics.median(matrix), statistics.median(separate)


async def container_starts(daemon: Daemon, runs: int) -> dict[str, float]:
    """Median duration of the `true` container action in each systree (second run on)."""
    found: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {daemon.admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for arch in ("amd64", "arm64"):
            times = []
            for _ in range(runs + 1):
                doc = await finish(session, daemon.url, "container",
                                   {"systree_name": f"bench_{arch}"})
                actions = doc["actions"]
                assert isinstance(actions, list)
                times.append(float(actions[1]["duration"]))
            found[arch] = statistics.median(times[1:])  # the first unpacks the tree
    return found


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        daemon = Daemon(base / "state", workers=4).start()
        try:
            daemon.apply(ICK)
            matrix, separate = await matrix_against_builds(daemon.url, daemon.admin_token,
                                                           args.runs)
            print(f"4 trivial host jobs on 4 local workers, trigger to finished, median of "
                  f"{args.runs}:")
            print(f"  one build with a 4-job matrix  {matrix * 1000:7.1f} ms "
                  f"({matrix * 1000 / 4:.1f} ms per job)")
            print(f"  4 separate builds at once      {separate * 1000:7.1f} ms "
                  f"({separate * 1000 / 4:.1f} ms per build)")
            print(f"  matrix / separate: {matrix / separate:.2f}x "
                  f"({(matrix - separate) * 1000 / 4:+.1f} ms per job)")
            if os.geteuid() != 0 or host_arch() != "amd64" or "arm64" not in runnable_arches():
                print("container start, arm64 against amd64: skipped (needs root on amd64 "
                      "with arm64 emulated)")
                return
            for arch, own in (("amd64", None), ("arm64", "arm64")):
                tarball = bookworm_tarball(base, arch=own)
                put = daemon.ick("artifacts", "put", f"bench_{arch}", str(tarball))
                assert put.returncode == 0, put.stderr
            starts = await container_starts(daemon, max(3, args.runs // 4))
            print("a container action running `true` (systemd-nspawn), median duration:")
            print(f"  amd64 systree  {starts['amd64'] * 1000:7.1f} ms")
            print(f"  arm64 systree  {starts['arm64'] * 1000:7.1f} ms (emulated by qemu-user)")
            print(f"  arm64 / amd64: {starts['arm64'] / starts['amd64']:.2f}x")
        finally:
            daemon.stop()


if __name__ == "__main__":
    asyncio.run(main())
