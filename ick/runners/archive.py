"""The `archive:` action: the workspace or the systree, or what globs pick of it, stored as
a named artifact (tar + zstd)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from ick.errors import ActionError
from ick.runners.arches import tree_arch
from ick.runners.base import ActionContext, ActionType
from ick.runners.confine import confined_glob
from ick.runners.result import ActionResult
from ick.runners.rules import GLOBS, STRING, Rule
from ick.runners.tarball import TAR_TOOLS, create_archive


def matching(root: Path, patterns: list[str], where: str = "workspace") -> list[str]:
    """Paths under `root` that match the globs (`**` spans folders), without any path whose
    folder is matched too (the folder brings it along). None may lead out of `root`."""
    found = set(confined_glob(root, patterns, "globs", follow=False, where=where))
    return sorted(
        p for p in found
        if not any(str(parent) in found for parent in PurePosixPath(p).parents)
    )


class ArchiveRunner:
    async def run(self, ctx: ActionContext) -> ActionResult:
        services = ctx.worker_services()
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
            members = matching(root, list(globs), which)
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
        return ActionResult(0, details=details)


ARCHIVE = ActionType(
    "archive", ("host",), ArchiveRunner,
    value=Rule(lambda v: v in ("workspace", "systree"), "'workspace' or 'systree'"),
    settings={"globs": GLOBS, "artifact_name": STRING}, tools=TAR_TOOLS,
    writes=("artifact_name",),
)
