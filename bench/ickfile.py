"""Benchmark: how long the parser takes to load or refuse the worst .ick files we know.

Prints the time of `load_ick_text` for each of the hand-made nasty files the fuzz test
(tests/test_ickfile_fuzz.py) starts from (a billion laughs, deep nesting, 5,000 projects ...)
and for each example in examples/, slowest first. Was a 5 s limit inside the fuzz test.
Usage: python bench/ickfile.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.errors import IckFileError  # noqa: E402
from ick.ickfile import load_ick_text  # noqa: E402
from tests.test_ickfile_fuzz import SPECIAL  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def best_of(text: str, runs: int) -> tuple[float, str]:
    """The fastest of `runs` loads of `text`, in seconds, and whether it loaded."""
    times, verdict = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        try:
            load_ick_text(text, "bench.ick")
            verdict = "loaded"
        except IckFileError as e:
            verdict = f"refused ({len(e.problems)} problems)"
        times.append(time.perf_counter() - started)
    return min(times), verdict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = [(f"special {i}: {text[:40]!r}", text) for i, text in enumerate(SPECIAL)]
    cases += [(f"examples/{p.name}", p.read_text()) for p in sorted(REPO.glob("examples/*.ick"))]
    figures = sorted(((*best_of(text, args.runs), name) for name, text in cases), reverse=True)
    print(f"load_ick_text, best of {args.runs}, slowest first:")
    for seconds, verdict, name in figures:
        print(f"  {seconds * 1000:8.2f} ms  {verdict:24} {name}")


if __name__ == "__main__":
    main()
