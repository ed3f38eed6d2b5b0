"""Paths an action names inside its workspace (or systree), resolved on the real file system:
one that leads out of it, by `..`, an absolute path or a symbolic link, is an error naming it.
"""

from __future__ import annotations

import glob
from pathlib import Path, PurePosixPath

from ick.errors import ActionError


def _relative(rel: object, key: str, where: str) -> PurePosixPath:
    if not isinstance(rel, str) or not rel or "\0" in rel:
        raise ActionError(f"{key}: expected a path relative to the {where}, not {rel!r}")
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts:
        raise ActionError(f"{key}: {rel!r} must stay inside the {where} (no '/' at the start, "
                          "no '..')")
    return path


def _inside(root: Path, target: Path) -> bool:
    return target == root or root in target.parents


def confine(root: Path, rel: object, key: str, *, follow: bool = True,
            where: str = "workspace") -> Path:
    """`root/rel`, checked: every folder on the way must resolve inside `root`, and so must
    `rel` itself when `follow` (ick reads it); with `follow=False` a symbolic link at the end
    is taken as the link (tar stores it as one and reads nothing through it)."""
    path = _relative(rel, key, where)
    real_root = root.resolve()
    parent = (real_root / path).parent.resolve()
    if not _inside(real_root, parent):
        raise ActionError(f"{key}: {rel} leads out of the {where} (through a symbolic link)")
    if not follow:
        return parent / path.name
    target = (real_root / path).resolve()
    if not _inside(real_root, target):
        raise ActionError(f"{key}: {rel} leads out of the {where} (through a symbolic link)")
    return target


def confined_glob(root: Path, patterns: list[str], key: str, *, follow: bool = True,
                  where: str = "workspace") -> list[str]:
    """What the globs match under `root` (`**` spans folders), as paths relative to it, each
    checked with `confine`. A pattern that matches nothing is not an error here."""
    found: list[str] = []
    for pattern in patterns:
        _relative(pattern, key, where)
        for match in sorted(glob.glob(pattern, root_dir=root, recursive=True,
                                      include_hidden=True)):
            confine(root, match, key, follow=follow, where=where)
            if match not in found:
                found.append(match)
    return found
