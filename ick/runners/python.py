"""The `python:` action: a python snippet of the user's, with the parameters as `params`."""

from __future__ import annotations

from ick.errors import ActionError
from ick.model import WHERES
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.places import in_tree, run_in_place, tree_of
from ick.runners.result import ActionResult
from ick.runners.rules import Rule, is_str

# The snippet runs from its own file (its line numbers in tracebacks are its own); as PID 1
# of its own PID namespace (ick.runners.process) it needs a SIGTERM handler to end on one.
PYTHON_PRELUDE = (
    "import json, os, signal, sys\n"
    "signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signum))\n"
    "path = sys.argv[1]\n"
    "with open(os.environ['ICK_PARAMS']) as f:\n"
    "    params = json.load(f)\n"
    "code = compile(open(path).read(), path, 'exec')\n"
    "sys.argv = sys.argv[1:]\n"
    "exec(code, {'__name__': '__main__', '__file__': path, 'params': params})\n"
)


class PythonRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        # A minbase tree has no python3: say so, not chroot's "No such file or directory".
        tree = tree_of(ctx)
        if tree is not None and not in_tree(tree, "python3"):
            raise ActionError("python: needs python3 in the tree (install it in the systree, "
                              "e.g. apt-get install python3)")
        script = ctx.run_dir / f"action-{ctx.seq}.py"
        script.write_text(ctx.action["python"])
        argv = ["python3", "-c", PYTHON_PRELUDE, str(script)]
        return ActionResult.of_process(await run_in_place(ctx, argv, ctx.base_env()),
                                       ctx.timeout)


PYTHON = ActionType(
    "python", WHERES, PythonRunner, value=Rule(is_str, "a string (a python snippet)"),
    tools=(Tool("python3", "python3", "python actions"),),
    untrusted="code",
)
