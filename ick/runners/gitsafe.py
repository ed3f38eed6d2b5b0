"""A workspace's git repository made safe for ick's own git: its `.git` must be a folder of
its own, and its configuration keeps only what a clone needs, so no command, hook, filter,
include or other work tree it names can run or be reached.
"""

from __future__ import annotations

import os
from pathlib import Path

from ick.errors import ActionError
from ick.runners.process import run_process

# What `git clone` writes, and what a fetch and a checkout read; every other key is dropped.
KEPT = ("core.repositoryformatversion", "core.filemode", "core.bare", "core.logallrefupdates",
        "core.symlinks", "core.ignorecase", "core.precomposeunicode", "extensions.objectformat")
KEPT_SUBSECTIONS = {"remote": ("url", "fetch"), "branch": ("remote", "merge")}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")\
        .replace("\t", "\\t") + '"'


def _kept(key: str) -> tuple[str, str | None, str] | None:
    """(section, subsection, name) of a key to keep, else None."""
    if key in KEPT:
        section, name = key.split(".")
        return section, None, name
    section, _, rest = key.partition(".")
    subsection, _, name = rest.rpartition(".")
    if subsection and name in KEPT_SUBSECTIONS.get(section, ()):
        return section, subsection, name
    return None


def config_text(entries: list[tuple[str, str]]) -> str:
    """A git config file holding `entries` (key, value) that `_kept` keeps."""
    sections: dict[tuple[str, str | None], list[str]] = {}
    for key, value in entries:
        kept = _kept(key)
        if kept is None or "\0" in value:
            continue
        section, subsection, name = kept
        sections.setdefault((section, subsection), []).append(f"\t{name} = {_quoted(value)}\n")
    out = []
    for (section, subsection), lines in sections.items():
        head = section if subsection is None else f"{section} {_quoted(subsection)}"
        out.append(f"[{head}]\n" + "".join(lines))
    return "".join(out)


async def sanitize_repository(repo: Path, env: dict[str, str], what: str) -> None:
    """Make `repo`'s .git safe to run ick's git in; `what` names it in an error."""
    gitdir = repo / ".git"
    if gitdir.is_symlink() or not gitdir.is_dir():
        raise ActionError(f"{what}: its .git is not a folder of its own (a link, or a file "
                          "pointing elsewhere)")
    for elsewhere in ("commondir", "objects/info/alternates"):
        if (gitdir / elsewhere).exists() or (gitdir / elsewhere).is_symlink():
            raise ActionError(f"{what}: its .git/{elsewhere} points at another repository")
    config = gitdir / "config"
    if config.is_symlink():
        raise ActionError(f"{what}: its .git/config is a symbolic link")
    chunks: list[bytes] = []
    result = await run_process(
        ["git", "config", "--file", str(config), "--no-includes", "--list", "-z"],
        cwd=None, env=env, output=chunks.append)
    if result.exit_code != 0:
        raise ActionError(f"{what}: its .git/config cannot be read")
    entries = []
    for item in b"".join(chunks).decode(errors="replace").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            entries.append((key, value))
    tmp = config.with_name("config.ick-tmp")
    tmp.write_text(config_text(entries))
    os.replace(tmp, config)
