"""The `shell:` and `python:` actions: a snippet of the user's, parameters as data."""

from __future__ import annotations

from ick.model import WHERES
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.places import run_in_place
from ick.runners.process import ProcessResult
from ick.runners.rules import Rule, is_str

# The snippet is sourced from its own file so its line numbers in errors are its own;
# `params` reads the parameters file, so no value is ever spliced into shell text.
SHELL_PRELUDE = 'params() { cat -- "$ICK_PARAMS"; }; export -f params; . "$0"'

PYTHON_PRELUDE = (
    "import json, os, sys\n"
    "path = sys.argv[1]\n"
    "with open(os.environ['ICK_PARAMS']) as f:\n"
    "    params = json.load(f)\n"
    "code = compile(open(path).read(), path, 'exec')\n"
    "sys.argv = sys.argv[1:]\n"
    "exec(code, {'__name__': '__main__', '__file__': path, 'params': params})\n"
)


class ShellRunner:
    async def run(self, ctx: ActionContext) -> ProcessResult:
        script = ctx.run_dir / f"action-{ctx.seq}.sh"
        script.write_text(ctx.action["shell"])
        argv = ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", SHELL_PRELUDE,
                str(script)]
        return await run_in_place(ctx, argv, ctx.base_env())


class PythonRunner:
    async def run(self, ctx: ActionContext) -> ProcessResult:
        script = ctx.run_dir / f"action-{ctx.seq}.py"
        script.write_text(ctx.action["python"])
        argv = ["python3", "-c", PYTHON_PRELUDE, str(script)]
        return await run_in_place(ctx, argv, ctx.base_env())


SHELL = ActionType(
    "shell", WHERES, ShellRunner, value=Rule(is_str, "a string (a bash snippet)"),
    tools=(Tool("bash", "bash", "shell actions"),),
)
PYTHON = ActionType(
    "python", WHERES, PythonRunner, value=Rule(is_str, "a string (a python snippet)"),
    tools=(Tool("python3", "python3", "python actions"),),
)
