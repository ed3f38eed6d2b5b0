"""`action: populate_systree`: a systree artifact, unpacked once into the cache and seen
through an overlay of the build's own, for the container actions after it."""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.arches import tree_arch
from ick.runners.base import ActionContext, ActionType
from ick.runners.result import ActionResult
from ick.runners.rules import STRING
from ick.runners.tarball import TAR_TOOLS


class PopulateSystreeRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        services = ctx.worker_services()
        name = ctx.required("systree_name")
        artifact = await services.artifact(ctx, name)
        if artifact is None:
            raise ActionError(f"systree artifact {name!r} does not exist: build and archive "
                              "it first, or fix systree_name")
        systrees = services.systrees
        view, cached = await systrees.open_view(artifact, ctx)
        ctx.scratch.cleanups.append(lambda: systrees.close_view(view))
        ctx.scratch.systree = view.merged
        how = "cached" if cached else "unpacked"
        arch = tree_arch(view.merged)
        of_arch = f" for {arch}" if arch else ""
        ctx.say(f"systree {name} ({artifact.digest[:19]}, {how}) ready{of_arch}")
        details: dict[str, object] = {
            "systree": name, "digest": artifact.digest, "cached": cached}
        if arch:
            details["arch"] = arch
        return ActionResult(0, details=details)


POPULATE_SYSTREE = ActionType(
    "populate_systree", ("host",), PopulateSystreeRunner, settings={"systree_name": STRING},
    tools=TAR_TOOLS, reads=("systree_name",),
)
