"""A gate candidate's merge (ick/runners/gitmerge.py): `--no-ff`, by ick, the same commit in
a work tree's repository and in a bare mirror; a conflict names the files."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from ick.errors import ActionError
from ick.runners.gitcache import Git
from ick.runners.gitmerge import merge

ENV = {**os.environ, "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org",
       "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.org",
       "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (repo / path).write_text(text)
        git("add", path, cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def test_the_same_merge_anywhere_and_conflicts_named(tmp_path: Path) -> None:
    repo = tmp_path / "work"
    git("init", "-q", "-b", "main", str(repo), cwd=tmp_path)
    base = commit(repo, {"a.txt": "one\n", "b.txt": "bee\n"}, "first")
    git("checkout", "-q", "-b", "change", cwd=repo)
    change = commit(repo, {"c.txt": "sea\n"}, "change")
    git("checkout", "-q", "-b", "clash", base, cwd=repo)
    clash = commit(repo, {"a.txt": "two\n", "b.txt": "wasp\n"}, "clash")
    git("checkout", "-q", "main", cwd=repo)
    moved = commit(repo, {"a.txt": "three\n", "b.txt": "hornet\n"}, "moved")
    mirror = tmp_path / "mirror.git"
    git("clone", "-q", "--mirror", str(repo), str(mirror), cwd=tmp_path)
    runner = Git(ENV, None, lambda text: text)

    made = asyncio.run(merge(runner, repo, base, change, "main", "c"))
    again = asyncio.run(merge(runner, mirror, base, change, "main", "c"))
    assert made.commit is not None and made == again
    assert git("log", "-1", "--format=%P|%an <%ae>|%cn|%s", made.commit, cwd=repo) == \
        f"{base} {change}|ick <ick@localhost>|ick|Merge gate/main/c into main"
    assert git("ls-tree", "--name-only", made.commit, cwd=repo).split() == \
        ["a.txt", "b.txt", "c.txt"]
    assert git("rev-parse", "main", cwd=repo) == moved  # no ref changed

    conflict = asyncio.run(merge(runner, repo, moved, clash, "main", "x"))
    assert conflict.commit is None and conflict.conflicts == ("a.txt", "b.txt")
    with pytest.raises(ActionError):
        asyncio.run(merge(runner, repo, "main", clash, "main", "x"))
