"""Benchmark: start-up of the `ick` CLI and of the post-receive hook, each a whole process.

Builds a regular (not editable) install of this checkout into a temporary venv on Debian's
python3, starts a real daemon, and prints the median wall time of `ick --version`,
`ick projects`, `ick trigger P` (queue only), `ick trigger P --wait` (a one-action host build)
and the hook `ick hook P` prints, on one pushed ref (a new commit each run), next to the
interpreter's own floor (`python3 -c pass`, with -S and with -I).
Targets (issue 28): `ick projects` and `ick trigger P` <= 40 ms, `--wait` <= 60 ms, the hook
<= 15 ms. `--against DIR` installs a second source tree (e.g. `git archive main`) and runs
both in alternating runs of each command, printing the ratio.
Usage: python bench/cli.py [--runs N] [--python /usr/bin/python3] [--source DIR] [--against DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.daemon import FINISHED, Daemon  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

ICK = """
projects:
  - project: p
    pipelines: [noop]
    concurrent: true
pipelines:
  - pipeline: noop
    actions:
      - shell: "true"
        where: host
"""


def install(python: str, venv: Path, source: Path) -> Path:
    """A regular install of `source` (and click, all `ick --version` needs) in `venv`."""
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    from importlib.metadata import version

    subprocess.run([*pip, f"click=={version('click')}"], check=True)
    subprocess.run([*pip, "--no-deps", str(source.resolve())], check=True, cwd=venv)
    return venv / "bin" / "ick"


@dataclass(frozen=True)
class Case:
    """One command to time; `{ick}` and `{hook}` in argv stand for the CLI and its hook."""

    name: str
    argv: tuple[str, ...]
    target: str = ""
    push: bool = False  # feed the hook a push of a new commit on stdin
    check: bytes | None = None  # what stdout must hold


CASES = (
    Case("python3 -c pass", ("{python}", "-c", "pass")),
    Case("python3 -S -c pass", ("{python}", "-S", "-c", "pass")),
    Case("python3 -I -c pass", ("{python}", "-I", "-c", "pass")),
    Case("ick --version", ("{ick}", "--version")),
    Case("ick projects", ("{ick}", "projects"), "<= 40 ms", check=b"p"),
    Case("ick trigger p", ("{ick}", "trigger", "p"), "<= 40 ms"),
    Case("ick trigger p --wait", ("{ick}", "trigger", "p", "--wait"), "<= 60 ms",
         check=b"succeeded"),
    Case("post-receive hook, 1 ref", ("{hook}",), "<= 15 ms", push=True, check=b"queued"),
)

_commits = itertools.count(1)
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree, in every repository


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def new_commit(repo: Path) -> str:
    """A new commit in the bare repository the hook runs in, made before the clock starts."""
    env = {**os.environ, "GIT_DIR": str(repo), "GIT_AUTHOR_NAME": "Bench",
           "GIT_AUTHOR_EMAIL": "bench@example.org", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "bench@example.org"}
    return subprocess.run(["git", "commit-tree", EMPTY_TREE, "-m", f"commit {next(_commits)}"],
                          env=env, check=True, capture_output=True, text=True).stdout.strip()


def run_once(argv: list[str], env: dict[str, str], case: Case,
             repo: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of the process, in seconds."""
    # A new commit each push: the daemon makes no second build of a ref and commit it has.
    # The hook runs as git runs it: in the bare repository, which has the commit (the hook
    # reads its subject and author).
    stdin = f"{'0' * 40} {new_commit(repo)} refs/heads/main\n".encode() if case.push else b""
    if case.push:
        env = {**env, "GIT_DIR": str(repo)}
    before = _cpu()
    started = time.perf_counter()
    result = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False,
                            cwd=repo if case.push else None)
    wall = time.perf_counter() - started
    if result.returncode != 0 or (case.check is not None and case.check not in result.stdout):
        raise SystemExit(f"{argv}: exit {result.returncode}: {result.stdout!r} "
                         f"{result.stderr!r}")
    return wall, _cpu() - before


def settle(daemon: Daemon) -> None:
    """Wait until every build has finished, so that no case is timed against the builds the
    one before it queued (one worker runs them)."""
    while True:
        status, docs = daemon.api("GET", "/builds?limit=10000")
        if status == 200 and all(doc["state"] in FINISHED for doc in docs):
            return
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--source", type=Path, default=REPO,
                        help="the ick source tree whose CLI to measure (e.g. an older one, "
                             "from `git archive`); the daemon is always this checkout's")
    parser.add_argument("--against", type=Path, default=None,
                        help="a second source tree to measure in alternating runs")
    args = parser.parse_args()
    sources = [args.source] + ([args.against] if args.against else [])
    with tempfile.TemporaryDirectory(prefix="ick-bench-cli-") as tmp:
        icks = [install(args.python, Path(tmp) / f"venv{i}", source)
                for i, source in enumerate(sources)]
        daemon = Daemon(Path(tmp) / "state", workers=1).start()
        try:
            daemon.apply(ICK)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "ICK_URL": daemon.url, "ICK_STATE_DIR": str(daemon.state_dir),
                   "HOME": os.environ.get("HOME", "/root")}
            hooks = []
            for i, ick in enumerate(icks):
                hook = Path(tmp) / f"post-receive{i}"
                hook.write_text(subprocess.run([str(ick), "hook", "p"], env=env, check=True,
                                               capture_output=True, text=True).stdout)
                hook.chmod(0o755)
                hooks.append(hook)
            repo = Path(tmp) / "pushed.git"
            subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
            results: dict[str, list[list[tuple[float, float]]]] = {}
            for case in CASES:
                settle(daemon)
                results[case.name] = [[] for _ in icks]
                for _ in range(args.runs):
                    for i, (ick, hook) in enumerate(zip(icks, hooks, strict=True)):
                        argv = [a.format(python=args.python, ick=ick, hook=hook)
                                for a in case.argv]
                        results[case.name][i].append(run_once(argv, env, case, repo))
        finally:
            daemon.stop()
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each of the whole process: median wall time, median CPU time; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    if args.against:
        print(f"  A = {args.source}, B = {args.against}, alternating runs")
    for case in CASES:
        cells = []
        for runs in results[case.name]:
            wall = statistics.median(w for w, _ in runs) * 1000
            cpu = statistics.median(c for _, c in runs) * 1000
            cells.append((wall, cpu))
        line = "   ".join(f"{wall:6.1f} ms wall {cpu:6.1f} ms CPU" for wall, cpu in cells)
        ratio = f"   A/B {cells[0][0] / cells[1][0]:.2f}" if len(cells) > 1 else ""
        target = f"(target {case.target})" if case.target else ""
        print(f"{case.name:<25} {line}{ratio} {target}")


if __name__ == "__main__":
    main()
