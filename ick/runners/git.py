"""`action: git`: one repository (git_url) at the pushed commit, else git_ref, else the
remote's HEAD, cloned into the workspace through the mirror cache (ick.runners.gitfetch)."""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.base import ActionContext, ActionType
from ick.runners.gitcache import SHA_RE
from ick.runners.gitfetch import (
    GIT_TOOLS,
    SECRET_KEYS,
    Source,
    check_url,
    default_dir,
    fetch_all,
    string_setting,
)
from ick.runners.result import ActionResult
from ick.runners.rules import STRING


class GitRunner:
    """`action: git`: git_url at git_commit (if pushed), else git_ref, else the remote's HEAD."""

    async def run(self, ctx: ActionContext) -> ActionResult:
        url = check_url(ctx.required("git_url"), "git_url")
        commit = ctx.parameters.get("git_commit")
        if commit is not None and not (isinstance(commit, str) and SHA_RE.fullmatch(commit)):
            raise ActionError(f"git_commit must be a commit sha, not {commit!r}")
        directory = string_setting(ctx, "git_dir") or default_dir(url)
        source = Source(url, string_setting(ctx, "git_ref"), commit, directory, "git_dir")
        return await fetch_all(ctx, ctx.shared.mirror_locks, [source])


GIT = ActionType(
    "git", ("host",), GitRunner,
    settings={"git_url": STRING, "git_dir": STRING, "git_ref": STRING, **SECRET_KEYS},
    tools=GIT_TOOLS,
)
