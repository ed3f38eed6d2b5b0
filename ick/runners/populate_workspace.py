"""`action: populate_workspace`: a workspace artifact unpacked into the build's workspace,
if it exists (a cache from an earlier build, say)."""

from __future__ import annotations

from ick.runners.base import ActionContext, ActionType
from ick.runners.result import ActionResult
from ick.runners.rules import STRING
from ick.runners.tarball import TAR_TOOLS, extract_archive


class PopulateWorkspaceRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        services = ctx.worker_services()
        name = ctx.required("workspace_artifact")
        artifact = await services.artifact(ctx, name)
        if artifact is None:
            ctx.say(f"no artifact {name}: the workspace stays as it is")
            return ActionResult.ok(artifact=name, missing=True)
        async with services.blob(ctx, artifact) as blob:
            await extract_archive(ctx, blob, ctx.workspace, f"artifact {name!r}")
        ctx.say(f"unpacked artifact {name} ({artifact.digest[:19]}) into the workspace")
        return ActionResult.ok(artifact=name, digest=artifact.digest)


POPULATE_WORKSPACE = ActionType(
    "populate_workspace", ("host",), PopulateWorkspaceRunner,
    settings={"workspace_artifact": STRING}, tools=TAR_TOOLS,
    reads=("workspace_artifact",),
)
