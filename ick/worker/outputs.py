"""An action's `outputs:`: when it ends, the workspace files its globs match (a matched folder
brings the files under it), each confined to the workspace, kept with the build through the
worker's services (the controller's store, or an upload to it).
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
from pathlib import Path, PurePosixPath

from ick.errors import ActionError, IckError
from ick.runners.base import ActionContext
from ick.runners.confine import confine, confined_glob
from ick.runners.result import ActionResult
from ick.storage.outputs import output_path_problem

KEY = "outputs"


def output_files(root: Path, patterns: list[str]) -> list[tuple[str, Path]]:
    """The files the globs match under `root`, as (path relative to it, real file). A path
    that leads out of `root` (by a symbolic link) is an ActionError naming it."""
    found: dict[str, Path] = {}
    for match in confined_glob(root, patterns, KEY):
        rel = str(PurePosixPath(match))
        real = confine(root, rel, KEY)
        if real.is_dir():
            for sub, real_sub in _files_under(root, rel):
                found.setdefault(sub, real_sub)
        elif real.is_file():
            found.setdefault(rel, real)
    for rel in found:
        _check_name(rel)
    return sorted(found.items())


def may_match(root: Path, pattern: str) -> bool:
    """Whether the glob's fixed leading part (before its first wildcard) exists under `root`:
    where it does not, the glob matches nothing."""
    fixed: list[str] = []
    for part in PurePosixPath(pattern).parts:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return not fixed or os.path.lexists(root.joinpath(*fixed))


def _check_name(rel: str) -> None:
    """A path the daemon can keep (it goes into the database, URLs and pages)."""
    try:
        rel.encode()
    except UnicodeEncodeError:
        raise ActionError(f"outputs: {rel!r}: a file name that is not UTF-8 cannot be "
                          "kept") from None
    problem = output_path_problem(rel)
    if problem is not None:
        raise ActionError(f"outputs: {problem}")


def _files_under(root: Path, folder: str) -> list[tuple[str, Path]]:
    files = []
    for top, dirs, names in os.walk(root / folder):
        rel_top = PurePosixPath(os.path.relpath(top, root))
        for name in sorted(dirs):
            # A link to a folder is not walked into, but one out of the workspace is an error.
            if os.path.islink(os.path.join(top, name)):
                confine(root, str(rel_top / name), KEY)
        for name in sorted(names):
            rel = str(rel_top / name)
            real = confine(root, rel, KEY)
            if real.is_file():
                files.append((rel, real))
    return files


async def keep_outputs(ctx: ActionContext) -> None:
    """Keep the files the action's `outputs:` names; an ActionError says what went wrong."""
    patterns = ctx.action.get(KEY)
    if not isinstance(patterns, list) or not patterns:
        return
    globs = [str(p) for p in patterns]
    if any(may_match(ctx.workspace, g) for g in globs):  # a search may be long: not on the loop
        files = await asyncio.to_thread(output_files, ctx.workspace, globs)
    else:  # each glob fails at its first folder: the checks alone, without a thread's hop
        files = output_files(ctx.workspace, globs)
    if not files:
        ctx.say(f"outputs: nothing in the workspace matches {', '.join(map(str, patterns))}")
        return
    services = ctx.worker_services()
    total = 0
    for rel, real in files:
        size, _ = await services.store_output(ctx, rel, real)
        total += size
    ctx.say(f"outputs: kept {len(files)} file{'s' if len(files) != 1 else ''} "
            f"({total} bytes)")


async def with_outputs(ctx: ActionContext, result: ActionResult) -> ActionResult:
    """The action's result once its outputs are kept: a failure to keep them fails an action
    that succeeded, and is said in the log of one that failed already."""
    try:
        await keep_outputs(ctx)
    except IckError as e:
        if result.exit_code != 0:
            ctx.say(f"outputs: {e.message}")
            return result
        return ActionResult(None, e.message, details=result.details, sources=result.sources)
    except OSError as e:
        message = f"outputs: cannot read {e.filename or 'the workspace'}: {e.strerror or e}"
        if result.exit_code != 0:
            ctx.say(message)
            return result
        return ActionResult(None, message, details=result.details, sources=result.sources)
    return result



def _segments_match(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_segments_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pattern[0]) and _segments_match(
        pattern[1:], path[1:])


def named_by(patterns: list[str], path: str) -> bool:
    """Whether `outputs:` globs name this path, as `output_files` finds it: matched itself,
    or in a folder a glob matches. (The controller checks a remote worker's uploads so.)"""
    parts = path.split("/")
    return any(
        _segments_match([p for p in str(pattern).split("/") if p not in ("", ".")],
                        parts[:end])
        for pattern in patterns for end in range(1, len(parts) + 1))
