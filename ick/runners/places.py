"""Where an action's command runs: on the host, in a chroot, or in a container.

A place gets the command with host paths (the run directory, the workspace) and maps them to
what the command sees where it runs.
"""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.base import ActionContext
from ick.runners.process import ProcessResult, run_process


async def run_host(ctx: ActionContext, argv: list[str], env: dict[str, str]) -> ProcessResult:
    return await run_process(argv, cwd=ctx.workspace, env=env, output=ctx.output,
                             timeout=ctx.timeout)


async def run_in_place(ctx: ActionContext, argv: list[str], env: dict[str, str]) -> ProcessResult:
    where = ctx.action.get("where", "host")
    if where == "host":
        return await run_host(ctx, argv, env)
    raise ActionError(f"where: {where} is not supported by this worker")
