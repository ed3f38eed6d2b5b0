"""The git action records the checked-out commit's subject and author (ick/runners/gitfetch.py):
one line each, capped, read with ick's own safe git. A real repository, the runner in this
process."""

from __future__ import annotations

from pathlib import Path

from ick.model import MAX_GIT_LINE
from ick.runners.base import ActionContext, BuildScratch, HostSettings
from ick.runners.git import GitRunner
from tests.gitrepos import Repo, git

AUTHOR = "Tess Ter <tess@example.org>"  # tests.gitrepos commits as her


def context(tmp_path: Path, repo: Repo, **parameters: str) -> ActionContext:
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "run").mkdir(exist_ok=True)
    return ActionContext(
        build_id=5, project="hello", number=1, seq=0,
        action={"action": "git", "where": "host", "git_url": str(repo.bare)},
        parameters=parameters, workspace=tmp_path / "ws", run_dir=tmp_path / "run",
        output=lambda data: None, host=HostSettings(state_dir=tmp_path / "state"),
        scratch=BuildScratch(),
    )


async def test_the_subject_and_author_of_the_checked_out_commit(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repos", "hello")
    first = repo.commit("Fix <script>alert(1)</script> in the README\n\nThe body is not kept.")
    # A .mailmap in the repository does not rename the author ick reports.
    repo.commit("second", {".mailmap": "Someone Else <else@example.org> <tess@example.org>\n"})
    repo.push()
    result = await GitRunner().run(context(tmp_path, repo, git_commit=first))
    assert result.exit_code == 0, result.message
    (source,) = result.sources
    assert (source.commit, source.subject, source.author) == (
        first, "Fix <script>alert(1)</script> in the README", AUTHOR)
    assert source.to_json()["subject"] == source.subject


async def test_a_long_subject_is_cut_to_one_capped_line(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repos", "long")
    # git joins a subject's lines with spaces; a control character becomes a space too.
    sha = repo.commit("a\x1b[31mred\nsecond line of the subject " + "x" * 400)
    repo.push()
    result = await GitRunner().run(context(tmp_path, repo))
    (source,) = result.sources
    assert source.commit == sha
    assert source.subject is not None
    assert len(source.subject) == MAX_GIT_LINE and source.subject.endswith("…")
    assert source.subject.startswith("a [31mred second line of the subject xxx")
    assert "\n" not in source.subject and "\x1b" not in source.subject


async def test_an_existing_clone_s_hooks_and_fsmonitor_never_run(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repos", "kept")
    repo.commit("one")
    repo.push()
    ctx = context(tmp_path, repo)
    assert (await GitRunner().run(ctx)).exit_code == 0
    # The build's code may have changed its clone's configuration between two git actions.
    marker = tmp_path / "ran"
    script = tmp_path / "evil"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    clone = tmp_path / "ws" / "kept"
    git("config", "core.fsmonitor", str(script), cwd=clone)
    git("config", "core.pager", str(script), cwd=clone)
    git("config", "log.showSignature", "true", cwd=clone)
    sha = repo.commit("two")
    repo.push()
    result = await GitRunner().run(ctx)
    assert result.exit_code == 0, result.message
    (source,) = result.sources
    assert (source.commit, source.subject, source.author) == (sha, "two", AUTHOR)
    assert not marker.exists()
