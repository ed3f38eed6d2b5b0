"""Leftover processes of dead builds (ick/worker/leftovers.py): found by their build id and
workspace, or by the process groups their actions started, and only those."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from ick.worker.leftovers import find_leftovers, kill_leftovers
from tests.procs import sleeper


def test_a_builds_processes_under_this_state_dir_and_no_others(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]],
) -> None:
    state, other = tmp_path / "state", tmp_path / "other"
    ours = sleeper(procs, {"ICK_BUILD_ID": "7", "ICK_WORKSPACE": f"{state}/workspaces/7"})
    theirs = sleeper(procs, {"ICK_BUILD_ID": "7", "ICK_WORKSPACE": f"{other}/workspaces/7"})
    another_build = sleeper(procs, {"ICK_BUILD_ID": "8",
                                    "ICK_WORKSPACE": f"{state}/workspaces/8"})
    led = sleeper(procs, {})  # a group an action of build 9 started, by its record alone
    found = find_leftovers([7], state)
    assert ours in found and not {theirs, another_build, led} & found
    assert led not in find_leftovers([9], state, {9: [led]})  # not build 9's: a recycled pid
    assert kill_leftovers([7], state) == 1
    assert procs[0].wait(30) == -signal.SIGKILL
    assert [p.poll() for p in procs[1:]] == [None, None, None]


def test_the_groups_an_actions_record_names_are_found_too(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]],
) -> None:
    leader = sleeper(procs, {"ICK_BUILD_ID": "9"})  # no workspace: a container's, say
    assert leader not in find_leftovers([9], tmp_path)
    assert leader in find_leftovers([9], tmp_path, {9: [leader]})
