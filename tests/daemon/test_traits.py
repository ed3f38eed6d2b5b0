"""open_daemon (ick/daemon/__init__.py, ick/daemon/traits.py) decides, once, the action
traits a database from before ick kept them lacks, so its pipelines plan and its queued builds
route as they always did; a daemon with nothing to decide does not load the records."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from ick.model import ActionTraits
from ick.storage.sqlite import MIGRATIONS
from tests.services import in_process

REPO = Path(__file__).resolve().parents[2]
PUBLISH = {"pipeline": "publish", "parameters": [],
           "actions": [{"shell": "true", "where": "host"},
                       {"action": "apt_publish", "where": "host"}]}
SYSTREE = {"pipeline": "systree", "parameters": [],
           "actions": [{"debootstrap": "auto", "where": "host", "debian_arch": "riscv64"}]}


def old_state(state: Path) -> None:
    """A state directory whose database is at schema version 6, its rows written as ick wrote
    them then: two pipelines, their projects, and a queued build of each."""
    state.mkdir()
    conn = sqlite3.connect(state / "ick.db")
    for script in MIGRATIONS[:6]:
        conn.executescript(script)
    for build_id, (project, doc) in enumerate((("pub", PUBLISH), ("tree", SYSTREE)), start=1):
        name = doc["pipeline"]
        conn.execute("INSERT INTO pipelines VALUES (?, ?, 't0')", (name, json.dumps(doc)))
        conn.execute("INSERT INTO projects VALUES (?, ?, 't0')", (project, json.dumps(
            {"project": project, "parameters": {}, "pipelines": [name], "notify": [],
             "concurrent": False})))
        conn.execute("INSERT INTO builds (id, project, number, state, parameters, queued_at) "
                     "VALUES (?, ?, 1, 'queued', '{}', 't0')", (build_id, project))
        conn.execute("INSERT INTO build_numbers VALUES (?, 1)", (project,))
        conn.execute("INSERT INTO build_jobs (build_id, job, state) VALUES (?, 0, 'queued')",
                     (build_id,))
        for seq, action in enumerate(doc["actions"]):
            kind = next(k for k in ("shell", "debootstrap") if k in action) \
                if "action" not in action else action["action"]
            conn.execute(
                "INSERT INTO build_actions (build_id, seq, pipeline, idx, kind, place, spec, "
                "state) VALUES (?, ?, ?, ?, ?, 'host', ?, 'pending')",
                (build_id, seq, name, seq, kind, json.dumps(action)))
    conn.execute("PRAGMA user_version=6")
    conn.commit()
    conn.close()


async def test_an_old_database_gets_its_traits_at_open_and_routes_as_before(
        tmp_path: Path) -> None:
    state = tmp_path / "state"
    old_state(state)
    async with in_process(state) as daemon:
        assert await daemon.resources.undecided_pipelines() == []
        publish = await daemon.resources.pipeline("publish")
        assert publish is not None and publish.to_doc() == PUBLISH
        assert publish.traits == (ActionTraits("shell"),
                                  ActionTraits("apt_publish", local=True))
        systree = await daemon.resources.pipeline("systree")
        assert systree is not None
        assert systree.traits == (ActionTraits("debootstrap", arch_key="debian_arch"),)
        assert await daemon.builds.undecided_kinds() == []

        controller = daemon.controller
        await controller.recover()
        await controller.register("far", {"arch": ("amd64",)}, token="t1")
        local_reason = "no local worker (apt_publish needs the controller's disk)"
        # The builds queued before the upgrade...
        assert controller.waiting(1) == local_reason
        assert controller.waiting(2) == "no worker has arch=riscv64"
        # ...and new ones of the old pipelines.
        again = await controller.trigger("pub", {})
        assert controller.waiting(again.id) == local_reason
        tree = await controller.trigger("tree", {})
        assert controller.waiting(tree.id) == "no worker has arch=riscv64"


def test_a_start_with_nothing_to_decide_leaves_the_records_unloaded(tmp_path: Path) -> None:
    script = ("import asyncio, sys\n"
              "from pathlib import Path\n"
              "from tests.services import in_process\n"
              "async def main() -> None:\n"
              "    async with in_process(Path(sys.argv[1])):\n"
              "        pass\n"
              "asyncio.run(main())\n"
              "print('ick.runners.catalog' in sys.modules)\n")
    for _ in range(2):  # a new state directory, then the same one opened again
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s")], cwd=REPO,
                              capture_output=True, text=True, check=True)
        assert done.stdout == "False\n"
