"""Archives as ick makes and unpacks them: GNU tar with zstd, owners kept by number (a
systree's /etc/passwd is not the host's), modes, device nodes, hard links and file
capabilities intact.
"""

from __future__ import annotations

from pathlib import Path

from ick.errors import ActionError
from ick.runners.base import ActionContext, Tool
from ick.runners.process import run_process
from ick.runners.tools import require_tool

TAR_TOOLS = (Tool("zstd", "zstd", "archive and populate actions"),
             Tool("tar", "tar", "archive and populate actions"))
KEEP = ["--numeric-owner", "--xattrs", "--xattrs-include=security.capability"]


def _tools() -> str:
    """tar's path, once every tool of TAR_TOOLS is found (zstd is what tar runs)."""
    paths = {t.command: require_tool(t.command, t.package) for t in TAR_TOOLS}
    return paths["tar"]


async def create_archive(ctx: ActionContext, root: Path, dest: Path,
                         members: list[str] | None = None) -> None:
    """Write `root` (or only `members`, paths relative to it) to `dest` as .tar.zst."""
    argv = [_tools(), "--create", "--file", str(dest), "--use-compress-program", "zstd -T0",
            *KEEP, "--directory", str(root)]
    if members is None:
        argv.append(".")
    else:
        # Names go through a file, NUL-separated and verbatim: any name is taken as a name.
        listing = ctx.run_dir / f"archive-{ctx.seq}.list"
        listing.write_bytes(b"".join(m.encode() + b"\0" for m in members))
        argv += ["--null", "--verbatim-files-from", "--files-from", str(listing)]
    result = await run_process(argv, cwd=None, env=ctx.base_env(), output=ctx.output,
                               timeout=ctx.timeout)
    if result.timed_out:
        raise ActionError(f"timed out after {ctx.timeout:g} s")
    if result.exit_code != 0:
        raise ActionError(f"could not archive {root}: tar exit status {result.exit_code}")


async def extract_archive(ctx: ActionContext, archive: Path, dest: Path, what: str) -> None:
    """Unpack a .tar.zst into `dest` (which exists); `what` names it in an error."""
    argv = [_tools(), "--extract", "--file", str(archive), "--use-compress-program", "zstd",
            *KEEP, "--directory", str(dest)]
    result = await run_process(argv, cwd=None, env=ctx.base_env(), output=ctx.output,
                               timeout=ctx.timeout)
    if result.timed_out:
        raise ActionError(f"timed out after {ctx.timeout:g} s")
    if result.exit_code != 0:
        raise ActionError(f"could not unpack {what}: tar exit status {result.exit_code}")
