"""`action: apt_publish`: add the workspace's .debs to ick's own APT repository."""

from __future__ import annotations

from pathlib import Path

from ick.errors import ActionError
from ick.runners.aptrepo import AptRepo
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.confine import confined_glob
from ick.runners.result import ActionResult
from ick.runners.rules import STRING, Rule, is_str_list


def workspace_globs(workspace: Path, patterns: list[str], key: str) -> list[Path]:
    """The files that globs relative to the workspace match; none may lead out of it."""
    found: list[Path] = []
    for pattern in patterns:
        matches = [workspace / m for m in confined_glob(workspace, [pattern], key)]
        matches = [p for p in matches if p.is_file()]
        if not matches:
            raise ActionError(f"{key}: nothing in the workspace matches {pattern!r}")
        found += [p for p in matches if p not in found]
    return found


class AptPublishRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        dist = ctx.required("distribution")
        debs = ctx.required("debs")
        patterns = [debs] if isinstance(debs, str) else debs
        if not isinstance(dist, str) or not isinstance(patterns, list) or not all(
            isinstance(p, str) for p in patterns
        ):
            raise ActionError("apt_publish needs 'distribution' (a name) and 'debs' (globs)")
        files = workspace_globs(ctx.workspace, patterns, "debs")
        for path in files:
            if path.suffix != ".deb":
                raise ActionError(f"debs: {path.relative_to(ctx.workspace)} is not a .deb file")
        repo = AptRepo(ctx.host.state_dir / "apt", ctx.base_env())
        # A deployment's run makes the suite hold what the deployed build made, even an
        # older version (a roll-back).
        published = await repo.publish(dist, files, ctx.output, replace=ctx.event == "deploy")
        for info in published:
            ctx.say(f"published {info} to {dist}")
        return ActionResult.ok(distribution=dist,
                               published=[str(info) for info in published])


APT_PUBLISH = ActionType(
    "apt_publish", ("host",), AptPublishRunner,
    settings={"debs": Rule(lambda v: isinstance(v, str) or is_str_list(v),
                           "a glob or a list of globs"),
              "distribution": STRING},
    tools=(Tool("reprepro", "reprepro", "the apt_publish action"),
           Tool("gpg", "gnupg", "signing ick's APT repository")),
    local=True,  # ick's APT repository is on the controller's disk,
    untrusted="delivery",
)
