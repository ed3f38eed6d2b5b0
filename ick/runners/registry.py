"""Which runner runs which action type."""

from __future__ import annotations

from ick.errors import ActionError
from ick.runners.apt import AptPublishRunner
from ick.runners.artifacts import ArchiveRunner, PopulateSystreeRunner, PopulateWorkspaceRunner
from ick.runners.base import Runner
from ick.runners.debootstrap import DebootstrapRunner
from ick.runners.dput import DputRunner
from ick.runners.git import GitMirrorRunner, GitRunner
from ick.runners.gitcache import MirrorLocks
from ick.runners.rsync import RsyncRunner
from ick.runners.script import PythonRunner, ShellRunner

# One set of mirror locks for both git actions: they share the mirrors.
_mirror_locks = MirrorLocks()

RUNNERS: dict[str, Runner] = {
    "shell": ShellRunner(),
    "python": PythonRunner(),
    "debootstrap": DebootstrapRunner(),
    "archive": ArchiveRunner(),
    "populate_systree": PopulateSystreeRunner(),
    "populate_workspace": PopulateWorkspaceRunner(),
    "apt_publish": AptPublishRunner(),
    "dput": DputRunner(),
    "rsync": RsyncRunner(),
    "git": GitRunner(_mirror_locks),
    "git_mirror": GitMirrorRunner(_mirror_locks),
}


def runner_for(kind: str) -> Runner:
    try:
        return RUNNERS[kind]
    except KeyError:
        raise ActionError(f"action type {kind!r} is not supported by this worker") from None
