"""The `shell:` action: a bash snippet of the user's, parameters as data."""

from __future__ import annotations

from ick.model import WHERES
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.places import run_in_place
from ick.runners.result import ActionResult
from ick.runners.rules import Rule, is_str

# The snippet is sourced from its own file so its line numbers in errors are its own;
# `params` reads the parameters file, so no value is ever spliced into shell text. The snippet
# is PID 1 of its own PID namespace (ick.runners.process), where SIGTERM (a timeout) counts
# only with a handler: the trap makes it end the snippet as it would anywhere else.
SHELL_PRELUDE = ("trap 'exit 143' TERM; params() { cat -- \"$ICK_PARAMS\"; }; export -f params; "
                 '. "$0"')


class ShellRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        script = ctx.run_dir / f"action-{ctx.seq}.sh"
        script.write_text(ctx.action["shell"])
        argv = ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", SHELL_PRELUDE,
                str(script)]
        return ActionResult.of_process(await run_in_place(ctx, argv, ctx.base_env()),
                                       ctx.timeout)


SHELL = ActionType(
    "shell", WHERES, ShellRunner, value=Rule(is_str, "a string (a bash snippet)"),
    tools=(Tool("bash", "bash", "shell actions"),),
    untrusted="code",
)
