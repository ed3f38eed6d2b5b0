"""Benchmark: the git action on a large repository (5,000 commits, 20,000 files) over git://.

Prints: the first build's git action time (a new mirror), then for each of N runs the git action
time of a build after one new commit was pushed (the mirror fetches only that, then a local
clone and a checkout), against a plain `git clone` of the same URL in the same run (also with
the parallel checkout the action uses, to show what the mirror itself saves).
Usage: python bench/git.py [--runs N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.runners.gitfetch import CHECKOUT_WORKERS  # noqa: E402
from tests.daemon import Daemon  # noqa: E402
from tests.gitrepos import GIT_ENV, git, git_daemon  # noqa: E402

COMMITS = 5000
FILES_PER_COMMIT = 4  # 20,000 files in all
WORDS = ("ick", "build", "commit", "mirror", "fetch", "clone", "object", "pack", "tree", "blob",
         "delta", "index", "ref", "branch", "tag", "worker", "action", "project", "pipeline",
         "workspace", "systree", "artifact", "log", "state")
SETTLE = 300.0  # seconds to wait for the daemon to empty a finished workspace


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def _file(n: int) -> str:
    rng = random.Random(n)
    lines = [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(12)]
    return f"file {n}\n" + "\n".join(lines) + "\n"


def _path(n: int) -> str:
    return f"src/d{n % 100:02d}/s{n % 7}/f{n:05d}.txt"


def _commit(i: int, parent: str | None, files: list[tuple[str, str]]) -> bytes:
    out = [b"commit refs/heads/main\n",
           b"committer Bench <bench@example.org> %d +0000\n" % (1_700_000_000 + i * 60),
           _data(f"commit {i}")]
    if parent:
        out.append(f"from {parent}\n".encode())
    for path, text in files:
        out.append(f"M 644 inline {path}\n".encode() + _data(text))
    return b"".join(out)


def make_repo(bare: Path) -> float:
    """The big repository, made with git fast-import and repacked as a server would keep it."""
    started = time.perf_counter()
    git("init", "-q", "--bare", "-b", "main", str(bare))
    stream = []
    for i in range(COMMITS):
        files = [(_path(n), _file(n)) for n in range(i * FILES_PER_COMMIT,
                                                     (i + 1) * FILES_PER_COMMIT)]
        if i:  # and an older file changes, so history is not only additions
            old = (i * 7919) % (i * FILES_PER_COMMIT)
            files.append((_path(old), _file(old) + f"changed in commit {i}\n"))
        stream.append(_commit(i, None, files))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=bare, env=GIT_ENV,
                   input=b"".join(stream), check=True)
    git("repack", "-a", "-d", "-q", cwd=bare)
    return time.perf_counter() - started


def push_one_commit(bare: Path, i: int) -> None:
    files = [(f"src/new/n{i}.txt", f"new file {i}\n"), (_path(i), _file(i) + f"again {i}\n")]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=bare, env=GIT_ENV, check=True,
                   input=_commit(COMMITS + i, "refs/heads/main^0", files))


def files_under(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def settle(daemon: Daemon) -> None:
    """Wait (bounded) until the daemon has emptied finished workspaces, so that deleting one
    does not compete with what is measured next."""
    deadline = time.monotonic() + SETTLE
    while files_under(daemon.state_dir / "workspaces") > 100:
        if time.monotonic() > deadline:
            raise RuntimeError("the daemon did not empty its workspaces in time")
        time.sleep(0.2)
    os.sync()


PHASES = re.compile(r"\(fetch and clone ([\d.]+) s, checkout ([\d.]+) s\)")


def git_action(daemon: Daemon) -> tuple[dict[str, Any], tuple[float, float]]:
    """The git action's JSON, and the two phases its log line times."""
    build = daemon.wait_build(daemon.trigger("big"), timeout=600)
    if build["state"] != "succeeded":
        raise RuntimeError(f"build {build['id']} {build['state']}")
    action: dict[str, Any] = build["actions"][0]
    match = PHASES.search(daemon.wait_log(build["id"], "checkout"))
    if match is None:
        raise RuntimeError(f"build {build['id']}: no timed 'checked out' line in the log")
    return action, (float(match[1]), float(match[2]))


def plain_clone(url: str, dest: Path, *options: str) -> float:
    os.sync()  # what the last run deleted is on disk before the clock starts
    started = time.perf_counter()
    subprocess.run(["git", *options, "clone", "-q", url, str(dest)], env=GIT_ENV, check=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(dest)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", default="/var/tmp", help="where the temporary files go")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ick-bench-git-", dir=args.dir))
    repos = root / "repos"
    repos.mkdir()
    server = daemon = None
    try:
        made = make_repo(repos / "big.git")
        count = int(git("rev-list", "--count", "main", cwd=repos / "big.git"))
        tracked = len(git("ls-tree", "-r", "--name-only", "main", cwd=repos / "big.git")
                      .splitlines())
        print(f"repository: {count} commits, {tracked} files, made in {made:.1f} s")
        server = git_daemon(repos)
        url = f"git://127.0.0.1:{server.port}/big.git"
        daemon = Daemon(root / "state", workers=1).start()
        daemon.apply(f"""
projects:
  - project: big
    pipelines: [big]
pipelines:
  - pipeline: big
    actions:
      - action: git
        where: host
        git_url: {url}
        git_dir: big
""")
        first, (fetch, checkout) = git_action(daemon)
        print(f"first build, git action (new mirror): {first['duration']:.2f} s "
              f"(fetch and clone {fetch:.2f} s, checkout {checkout:.2f} s)")
        settle(daemon)
        ours, plain, parallel, fetches = [], [], [], []
        workers = f"checkout.workers={CHECKOUT_WORKERS}"
        for i in range(args.runs):
            push_one_commit(repos / "big.git", i)
            action, (fetch, _) = git_action(daemon)
            fetches.append(fetch)
            assert action["git"][0]["commit"] == git("rev-parse", "main", cwd=repos / "big.git")
            ours.append(action["duration"])
            settle(daemon)
            plain.append(plain_clone(url, root / "plain"))
            parallel.append(plain_clone(url, root / "plain", "-c", workers))
        print(f"later builds, git action (1 new commit): median {statistics.median(ours):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in ours)})")
        print(f"  of which mirror fetch + local clone:   median {statistics.median(fetches):.2f} s")
        print(f"plain git clone of the same URL:        median {statistics.median(plain):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in plain)})")
        print(f"plain git clone -c {workers}:    median {statistics.median(parallel):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in parallel)})")
        print(f"ratio git action / plain clone: "
              f"{statistics.median(ours) / statistics.median(plain):.2f}")
    finally:
        if daemon is not None:
            daemon.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
