"""Benchmark: start-up of the `ick` CLI and of the post-receive hook, each a whole process.

Builds a regular (not editable) install of this checkout into a temporary venv on Debian's
python3, starts a real daemon, and prints the median wall time of `ick --version`,
`ick trigger P` (queue only) and the hook `ick hook P` prints, on one pushed ref.
Targets: the hook <= 30 ms, `ick trigger P` <= 50 ms.
Usage: python bench/cli.py [--runs N] [--python /usr/bin/python3] [--source DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.daemon import Daemon  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

ICK = """
projects:
  - project: p
    pipelines: [noop]
    concurrent: true
pipelines:
  - pipeline: noop
    actions: []
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_ms(argv: list[str], runs: int, env: dict[str, str], stdin: bytes = b"",
              check: bytes | None = None) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of the process, in ms."""
    times, cpu = [], []
    for _ in range(runs):
        before = _cpu()
        started = time.perf_counter()
        result = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - started)
        cpu.append(_cpu() - before)
        if result.returncode != 0 or (check is not None and check not in result.stdout):
            raise SystemExit(f"{argv}: exit {result.returncode}: {result.stdout!r} "
                             f"{result.stderr!r}")
    return statistics.median(times) * 1000, statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--source", type=Path, default=REPO,
                        help="the ick source tree whose CLI to measure (e.g. an older one, "
                             "from `git archive`); the daemon is always this checkout's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ick-bench-cli-") as tmp:
        ick = install(args.python, Path(tmp) / "venv", args.source)
        daemon = Daemon(Path(tmp) / "state", workers=1).start()
        try:
            daemon.apply(ICK)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "ICK_URL": daemon.url, "ICK_STATE_DIR": str(daemon.state_dir),
                   "HOME": os.environ.get("HOME", "/root")}
            hook_text = subprocess.run([str(ick), "hook", "p"], env=env, capture_output=True,
                                       check=True, text=True).stdout
            hook = Path(tmp) / "post-receive"
            hook.write_text(hook_text)
            hook.chmod(0o755)
            push = f"{'0' * 40} {'a' * 40} refs/heads/main\n".encode()
            version = median_ms([str(ick), "--version"], args.runs, env)
            trigger = median_ms([str(ick), "trigger", "p"], args.runs, env)
            hooked = median_ms([str(hook)], args.runs, env, push, check=b"queued")
            python = median_ms([args.python, "-c", "pass"], args.runs, env)
        finally:
            daemon.stop()
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each of the whole process: median wall time (target), median CPU "
          f"time; load average {load:.1f} on {os.cpu_count()} CPUs")
    for name, (wall, cpu), target in (
        (f"{args.python} -c pass", python, ""), ("ick --version", version, ""),
        ("ick trigger p", trigger, " (target <= 50 ms)"),
        ("post-receive hook, 1 ref", hooked, " (target <= 30 ms)"),
    ):
        print(f"{name:<26} {wall:6.1f} ms wall{target:<19} {cpu:6.1f} ms CPU")


if __name__ == "__main__":
    main()
