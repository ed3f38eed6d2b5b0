"""The artifact actions: `archive:`, `action: populate_systree`, `action: populate_workspace`."""

from __future__ import annotations

import glob
import time
from pathlib import Path, PurePosixPath

from ick.errors import ActionError
from ick.runners.arches import tree_arch
from ick.runners.base import ActionContext, ActionType, Tool
from ick.runners.rules import GLOBS, STRING, Rule
from ick.runners.tarball import create_archive, extract_archive
from ick.scheduler.machine import Outcome
from ick.worker.services import services_of


def _since(started: float) -> float:
    return time.monotonic() - started


def matching(root: Path, patterns: list[str]) -> list[str]:
    """Paths under `root` that match the globs (`**` spans folders), without any path whose
    folder is matched too (the folder brings it along)."""
    found: set[str] = set()
    for pattern in patterns:
        parts = PurePosixPath(pattern).parts
        if not pattern or pattern.startswith("/") or ".." in parts:
            raise ActionError(f"bad glob {pattern!r}: it must stay inside the folder")
        found.update(glob.glob(pattern, root_dir=root, recursive=True, include_hidden=True))
    return sorted(
        p for p in found
        if not any(str(parent) in found for parent in PurePosixPath(p).parents)
    )


class ArchiveRunner:
    async def run(self, ctx: ActionContext) -> Outcome:
        started = time.monotonic()
        services = services_of(ctx)
        which = ctx.action["archive"]
        name = ctx.required("artifact_name")
        if which == "systree":
            if ctx.scratch.systree is None:
                raise ActionError("archive: systree needs a systree: put "
                                  "`action: populate_systree` before this action")
            root = ctx.scratch.systree
        else:
            root = ctx.workspace
        members = None
        globs = ctx.setting("globs")
        if globs is not None:
            members = matching(root, list(globs))
            if not members:
                raise ActionError(f"archive: nothing in the {which} matches {globs}")
        # A whole Debian tree keeps its architecture with it (a systree of arm64, say).
        arch = tree_arch(root) if members is None else None
        archive = services.temp_path(".tar.zst")
        try:
            await create_archive(ctx, root, archive, members)
        except BaseException:
            archive.unlink(missing_ok=True)
            raise
        artifact = await services.store(ctx, name, archive, arch)
        of_arch = f" ({arch})" if arch else ""
        ctx.say(f"stored the {which}{of_arch} as artifact {name}: {artifact.size} bytes, "
                f"{artifact.digest}")
        details: dict[str, object] = {
            "artifact": name, "digest": artifact.digest, "size": artifact.size}
        if arch:
            details["arch"] = arch
        return Outcome(0, _since(started), details=details)


class PopulateSystreeRunner:
    async def run(self, ctx: ActionContext) -> Outcome:
        started = time.monotonic()
        services = services_of(ctx)
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
        return Outcome(0, _since(started), details=details)


class PopulateWorkspaceRunner:
    async def run(self, ctx: ActionContext) -> Outcome:
        started = time.monotonic()
        services = services_of(ctx)
        name = ctx.required("workspace_artifact")
        artifact = await services.artifact(ctx, name)
        if artifact is None:
            ctx.say(f"no artifact {name}: the workspace stays as it is")
            return Outcome(0, _since(started), details={"artifact": name, "missing": True})
        async with services.blob(ctx, artifact) as blob:
            await extract_archive(ctx, blob, ctx.workspace, f"artifact {name!r}")
        ctx.say(f"unpacked artifact {name} ({artifact.digest[:19]}) into the workspace")
        return Outcome(0, _since(started), details={
            "artifact": name, "digest": artifact.digest})


_TAR = (Tool("zstd", "zstd", "archive and populate actions"),
        Tool("tar", "tar", "archive and populate actions"))

ARCHIVE = ActionType(
    "archive", ("host",), ArchiveRunner,
    value=Rule(lambda v: v in ("workspace", "systree"), "'workspace' or 'systree'"),
    settings={"globs": GLOBS, "artifact_name": STRING}, tools=_TAR,
)
POPULATE_SYSTREE = ActionType(
    "populate_systree", ("host",), PopulateSystreeRunner, settings={"systree_name": STRING},
    tools=_TAR,
)
POPULATE_WORKSPACE = ActionType(
    "populate_workspace", ("host",), PopulateWorkspaceRunner,
    settings={"workspace_artifact": STRING}, tools=_TAR,
)
