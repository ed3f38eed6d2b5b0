"""The gate's own git (ick/gate/move.py) against a real bare repository given as a path:
the target moves by compare and swap and the candidate branch goes in the same push; a
target that moved is left alone; a move made before a restart is found done; a merge that is
not the one tested is refused."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from ick.gate.move import Move, Moved, Mover
from ick.runners.gitcache import Git
from ick.runners.gitmerge import merge

ENV = {**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
       "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org",
       "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def commit(work: Path, name: str) -> str:
    (work / name).write_text(name + "\n")
    git("add", name, cwd=work)
    git("commit", "-q", "-m", name, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def setup(tmp_path: Path) -> tuple[Path, Path, Move]:
    """A bare repository with main and gate/main/c, and the Move of c's merge onto main."""
    bare, work = tmp_path / "r.git", tmp_path / "w"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    base = commit(work, "a")
    git("checkout", "-q", "-b", "c", cwd=work)
    candidate = commit(work, "b")
    git("push", "-q", str(bare), "main", "c:gate/main/c", cwd=work)
    made = asyncio.run(merge(Git(ENV, None, str), work, base, candidate, "main", "c"))
    assert made.commit is not None
    return bare, work, Move("p", str(bare), "main", "c", base, candidate, made.commit)


def refs(bare: Path) -> dict[str, str]:
    lines = git("for-each-ref", "--format=%(refname) %(objectname)", cwd=bare).splitlines()
    return dict(line.split() for line in lines)


def mover(tmp_path: Path) -> Mover:
    return Mover(tmp_path / "state" / "git", tmp_path / "state" / "run", lambda p, n: None)


def test_the_target_moves_and_the_candidate_goes(tmp_path: Path) -> None:
    bare, _, move = setup(tmp_path)
    gate = mover(tmp_path)
    assert asyncio.run(gate.move(move))[0] is Moved.MERGED
    assert refs(bare) == {"refs/heads/main": move.merge}
    assert gate.moving("p") == ()
    # again (a restart after the push): found done
    assert asyncio.run(gate.move(move)) == (Moved.MERGED, "main is at the merge already")


def test_a_target_that_moved_is_left_alone(tmp_path: Path) -> None:
    bare, work, move = setup(tmp_path)
    git("checkout", "-q", "main", cwd=work)
    moved = commit(work, "m")
    git("push", "-q", str(bare), "main", cwd=work)
    assert asyncio.run(mover(tmp_path).move(move)) == \
        (Moved.MOVED_ON, f"main moved to {moved} meanwhile")
    assert refs(bare) == {"refs/heads/main": moved, "refs/heads/gate/main/c": move.candidate}


def test_a_merge_not_the_one_tested_is_refused_and_delete_takes_only_the_candidate(
        tmp_path: Path) -> None:
    bare, _, move = setup(tmp_path)
    other = Move(move.project, move.url, move.target, "other-name", move.base, move.candidate,
                 move.merge)
    moved, why = asyncio.run(mover(tmp_path).move(other))
    assert moved is Moved.FAILED and why.startswith("the merge made again (")
    asyncio.run(mover(tmp_path).delete(move))
    assert refs(bare) == {"refs/heads/main": move.base}
