"""A gate candidate merged onto its target's tip (`git merge --no-ff`'s merge, made with
merge-tree and commit-tree): the same commit (tree, parents, author, committer, date and
message) wherever it is made, so the daemon makes again in its mirror exactly the commit a
worker built and tested, and moves the target to that."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ick.errors import ActionError
from ick.runners.gitcache import FULL_SHA_RE, Git

MERGER_NAME = "ick"
MERGER_EMAIL = "ick@localhost"


@dataclass(frozen=True)
class Merge:
    """The merge commit, or (commit None) the files whose changes conflict."""

    commit: str | None
    conflicts: tuple[str, ...] = ()


def merge_message(target: str, name: str) -> str:
    return f"Merge gate/{target}/{name} into {target}"


async def _commit_time(git: Git, repo: Path, sha: str) -> int:
    code, out = await git.query(["log", "-1", "--no-show-signature", "--format=%ct", sha, "--"],
                                cwd=repo)
    if code != 0 or not out.strip().isdigit():
        raise ActionError(f"cannot read commit {sha}")
    return int(out.strip())


async def merge(git: Git, repo: Path, base: str, candidate: str, target: str,
                name: str) -> Merge:
    """Merge `candidate` onto `base` in `repo` (bare or not; nothing in it but objects
    changes). Its date is the later of the two commits', so the same two commits always
    make the same merge."""
    for sha in (base, candidate):
        if not FULL_SHA_RE.fullmatch(sha):
            raise ActionError(f"not a full commit sha: {sha!r}")
    code, out = await git.query(["merge-tree", "--write-tree", "--name-only", "--no-messages",
                                 base, candidate], cwd=repo)
    lines = [line for line in out.splitlines() if line.strip()]
    if code == 1 and lines:
        return Merge(None, tuple(dict.fromkeys(lines[1:])))
    if code != 0 or not lines or not FULL_SHA_RE.fullmatch(lines[0]):
        raise ActionError(f"cannot merge {candidate} onto {base}")
    when = max(await _commit_time(git, repo, base), await _commit_time(git, repo, candidate))
    date = f"@{when} +0000"
    merger = Git({**git.env, "GIT_AUTHOR_NAME": MERGER_NAME, "GIT_AUTHOR_EMAIL": MERGER_EMAIL,
                  "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_NAME": MERGER_NAME,
                  "GIT_COMMITTER_EMAIL": MERGER_EMAIL, "GIT_COMMITTER_DATE": date},
                 git.log, git.hide)
    code, out = await merger.query(["-c", "i18n.commitEncoding=UTF-8", "commit-tree",
                                    "--no-gpg-sign", lines[0], "-p", base, "-p", candidate,
                                    "-m", merge_message(target, name)], cwd=repo)
    sha = out.strip()
    if code != 0 or not FULL_SHA_RE.fullmatch(sha):
        raise ActionError(f"cannot make the merge of {candidate} onto {base}")
    return Merge(sha)
