"""Benchmark: start-up of the `ick` CLI and of the post-receive hook, each a whole process.

Builds a regular (not editable) install of this checkout into a temporary venv on Debian's
python3, starts a real daemon, and prints the median wall time of `ick --version`,
`ick trigger P` (queue only) and the hook `ick hook P` prints, on one pushed ref.
Targets: the hook <= 30 ms, `ick trigger P` <= 50 ms.
Usage: python bench/cli.py [--runs N] [--python /usr/bin/python3]
"""

from __future__ import annotations

import argparse
import os
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


def install(python: str, venv: Path) -> Path:
    """A regular install of this checkout (and click, all `ick --version` needs) in `venv`."""
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    import click

    subprocess.run([*pip, f"click=={click.__version__}"], check=True)
    subprocess.run([*pip, "--no-deps", str(REPO)], check=True, cwd=venv)
    return venv / "bin" / "ick"


def median_ms(argv: list[str], runs: int, env: dict[str, str], stdin: bytes = b"",
              check: bytes | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - started)
        if result.returncode != 0 or (check is not None and check not in result.stdout):
            raise SystemExit(f"{argv}: exit {result.returncode}: {result.stdout!r} "
                             f"{result.stderr!r}")
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--python", default="/usr/bin/python3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ick-bench-cli-") as tmp:
        ick = install(args.python, Path(tmp) / "venv")
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
    print(f"python: {args.python} ({sys.version.split()[0]} runs this script); "
          f"{args.runs} runs each, median wall time of the whole process")
    print(f"{args.python} -c pass     {python:6.1f} ms")
    print(f"ick --version            {version:6.1f} ms")
    print(f"ick trigger p            {trigger:6.1f} ms   (target <= 50 ms)")
    print(f"post-receive hook, 1 ref {hooked:6.1f} ms   (target <= 30 ms)")


if __name__ == "__main__":
    main()
