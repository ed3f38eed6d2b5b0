"""`action: git`: one repository (git_url) at the pushed commit, else git_ref, else the
remote's HEAD, cloned into the workspace through the mirror cache (ick.runners.gitfetch)."""

from __future__ import annotations

from ick.errors import ActionError
from ick.gate.config import branch_ok
from ick.model import GATE_PARAMETER
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
        source = Source(url, string_setting(ctx, "git_ref"), commit, directory, "git_dir",
                        gate=_gate(ctx, commit))
        return await fetch_all(ctx, ctx.shared.mirror_locks, [source])


def _gate(ctx: ActionContext, commit: object) -> tuple[str, str] | None:
    """A gate candidate's build (parameter ick_gate, the target): (target, name)."""
    target = ctx.parameters.get(GATE_PARAMETER)
    if target is None:
        return None
    ref = ctx.parameters.get("git_ref")
    prefix = f"refs/heads/gate/{target}/"
    if not (isinstance(target, str) and branch_ok(target) and isinstance(ref, str)
            and ref.startswith(prefix) and len(ref) > len(prefix) and commit is not None):
        raise ActionError(f"a gate build needs git_ref gate/{target}/NAME and git_commit")
    return target, ref[len(prefix):]


GIT = ActionType(
    "git", ("host",), GitRunner,
    settings={"git_url": STRING, "git_dir": STRING, "git_ref": STRING, **SECRET_KEYS},
    tools=GIT_TOOLS,
)
