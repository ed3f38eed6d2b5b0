"""`action: dput`: upload a .changes file to a target in the host's dput configuration."""

from __future__ import annotations

import re

from ick.errors import ActionError
from ick.runners.apt import workspace_globs
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.process import run_process
from ick.runners.result import ActionResult
from ick.runners.rules import STRING
from ick.runners.tools import require_tool

TARGET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class DputRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        target = ctx.required("dput_target")
        if not isinstance(target, str) or not TARGET_RE.fullmatch(target):
            raise ActionError(f"dput_target must be the name of a dput target, not {target!r}")
        changes = ctx.required("changes")
        if not isinstance(changes, str):
            raise ActionError(f"changes must be a .changes file in the workspace, not {changes!r}")
        files = workspace_globs(ctx.workspace, [changes], "changes")
        if len(files) != 1 or files[0].suffix != ".changes":
            names = ", ".join(str(f.relative_to(ctx.workspace)) for f in files)
            raise ActionError(f"changes: {changes!r} must match one .changes file, not: {names}")
        path = files[0]
        ctx.say(f"dput {path.relative_to(ctx.workspace)} to {target}")
        # --no-upload-log: the log of record is the build's, and the workspace stays as built.
        argv = [require_tool("dput", "dput-ng"), "--no-upload-log", target, str(path)]
        result = await run_process(argv, cwd=path.parent, env=ctx.base_env(), output=ctx.output,
                                   timeout=ctx.timeout, on_start=ctx.started)
        if result.exit_code != 0 and not result.timed_out:
            return ActionResult(result.exit_code,
                                f"dput could not upload {path.name} to {target} "
                           f"(exit status {result.exit_code})")
        return ActionResult.of_process(result, ctx.timeout)


DPUT = ActionType(
    "dput", ("host",), DputRunner, settings={"changes": STRING, "dput_target": STRING},
    tools=(Tool("dput", "dput-ng", "the dput action"),),
    untrusted="delivery",
)
