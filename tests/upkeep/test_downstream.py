"""`triggers:` chains against a real daemon: one build of each project per chain, whatever
the chain's shape or length."""

from __future__ import annotations

import json
from typing import Any

from tests.daemon import Daemon
from tests.polling import poll


def projects(edges: dict[str, list[str]]) -> str:
    """An ick file: one quick host pipeline, and a project per key triggering its values."""
    lines = ["pipelines:", "  - pipeline: quick", "    actions:",
             "      - shell: 'true'", "        where: host", "projects:"]
    for name, targets in edges.items():
        lines += [f"  - project: {name}", "    pipelines: [quick]",
                  f"    triggers: [{', '.join(targets)}]"]
    return "\n".join(lines) + "\n"


def builds(daemon: Daemon) -> list[dict[str, Any]]:
    result = daemon.ick("builds", "--json", "--limit", "1000")
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def refused(daemon: Daemon, name: str) -> bool:
    """Whether the daemon's log says it did not trigger `name` (again) in a chain."""
    return f"not triggering {name}:" in daemon.log_path.read_text(errors="replace")


def chain_ended(daemon: Daemon, last: str, most: int) -> list[dict[str, Any]]:
    """The builds once the chain has refused to build `last` again, or once there are
    more than `most` (the chain did not stop)."""
    return poll(lambda: (refused(daemon, last), builds(daemon)),
                lambda found: found[0] or len(found[1]) > most, 300,
                lambda found: f"the chain neither ended nor went past {most}: {found[1]}",
                interval=0.5)[1]


def run_ring(daemon: Daemon, size: int) -> None:
    names = [f"r{i}" for i in range(size)]
    daemon.apply(projects({n: [names[(i + 1) % size]] for i, n in enumerate(names)}))
    daemon.trigger("r0")
    # The last build of the ring refuses to trigger r0 again: the chain has ended.
    done = chain_ended(daemon, "r0", size)
    assert sorted(b["project"] for b in done) == sorted(names)
    assert all(b["state"] == "succeeded" for b in done)
    assert {b["parameters"].get("ick_chain") for b in done if b["project"] != "r0"} == {"r0#1"}


def test_a_ring_of_three_builds_each_project_once(daemon: Daemon) -> None:
    run_ring(daemon, 3)


def test_a_ring_of_fifty_three_builds_each_project_once(daemon: Daemon) -> None:
    # Longer than the 50 builds the old loop check looked back over.
    run_ring(daemon, 53)


def test_a_diamond_builds_its_join_once(daemon: Daemon) -> None:
    daemon.apply(projects({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}))
    daemon.trigger("a")
    chain_ended(daemon, "d", 4)
    finished = poll(lambda: builds(daemon),
                    lambda bs: len(bs) == 4 and all(b["state"] == "succeeded" for b in bs), 60,
                    lambda bs: f"builds: {bs}")
    assert sorted(b["project"] for b in finished) == ["a", "b", "c", "d"]
