"""A deployment's run starts with the deployed build's outputs (every job's) in its
workspace, at their paths: put there before its first action, through the worker's services."""

from __future__ import annotations

from pathlib import Path

from ick.errors import ActionError, IckError
from ick.runners.base import ActionContext
from ick.storage.outputs import output_path_problem

DEPLOY_BUILD = "ick_deploy_build"  # the parameter naming the build a deployment ships


def deployed_build(ctx: ActionContext) -> int | None:
    """The build whose outputs the action's run ships, or None (not a deployment's run)."""
    if ctx.event != "deploy":
        return None
    value = ctx.parameters.get(DEPLOY_BUILD)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def fill_workspace(ctx: ActionContext) -> None:
    """Put the deployed build's outputs into the (new) workspace; a failure fails the action."""
    build = deployed_build(ctx)
    if build is None:
        return
    if ctx.services is None:
        raise ActionError("this worker cannot fetch a deployed build's outputs")
    try:
        count = await ctx.services.deployed_outputs(ctx, build)
    except IckError as e:
        raise ActionError(f"cannot put build {build}'s outputs in the workspace: "
                          f"{e.message}") from None
    except OSError as e:
        raise ActionError(f"cannot put build {build}'s outputs in the workspace: "
                          f"{e.strerror or e}") from None
    ctx.output(f"ick: the workspace holds build {build}'s {count} outputs\n".encode())


def place(workspace: Path, path: str) -> Path:
    """Where output `path` goes in the workspace, its folders made; refused if the path is
    not one an output can have, or would leave the workspace."""
    problem = output_path_problem(path)
    if problem is not None:
        raise ActionError(problem)
    target = workspace / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(workspace.resolve()):
        raise ActionError(f"output {path} would leave the workspace")
    if target.is_symlink():
        target.unlink()
    return target
