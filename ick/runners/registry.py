"""Which runner runs which action type; a runner's module is imported at its first action.

A daemon that never runs git or reprepro does not keep their modules in memory.
"""

from __future__ import annotations

import importlib
from typing import Any

from ick.errors import ActionError
from ick.runners.base import Runner

# action type -> (module, class); the git runners also get the shared mirror locks.
RUNNERS: dict[str, tuple[str, str]] = {
    "shell": ("ick.runners.script", "ShellRunner"),
    "python": ("ick.runners.script", "PythonRunner"),
    "debootstrap": ("ick.runners.debootstrap", "DebootstrapRunner"),
    "archive": ("ick.runners.artifacts", "ArchiveRunner"),
    "populate_systree": ("ick.runners.artifacts", "PopulateSystreeRunner"),
    "populate_workspace": ("ick.runners.artifacts", "PopulateWorkspaceRunner"),
    "apt_publish": ("ick.runners.apt", "AptPublishRunner"),
    "dput": ("ick.runners.dput", "DputRunner"),
    "rsync": ("ick.runners.rsync", "RsyncRunner"),
    "git": ("ick.runners.git", "GitRunner"),
    "git_mirror": ("ick.runners.git", "GitMirrorRunner"),
}
NEEDS_MIRROR_LOCKS = {"git", "git_mirror"}

_made: dict[str, Runner] = {}
_mirror_locks: list[Any] = []  # one MirrorLocks for both git actions: they share the mirrors


def _mirror_locks_once() -> Any:
    if not _mirror_locks:
        from ick.runners.gitcache import MirrorLocks

        _mirror_locks.append(MirrorLocks())
    return _mirror_locks[0]


def runner_for(kind: str) -> Runner:
    runner = _made.get(kind)
    if runner is not None:
        return runner
    if kind not in RUNNERS:
        raise ActionError(f"action type {kind!r} is not supported by this worker")
    module, name = RUNNERS[kind]
    cls = getattr(importlib.import_module(module), name)
    made: Runner = cls(_mirror_locks_once()) if kind in NEEDS_MIRROR_LOCKS else cls()
    _made[kind] = made
    return made
