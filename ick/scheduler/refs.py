"""Pure: which pushed refs a project builds (`branches:`, `tags:`), and when two builds are of
the same ref (DESIGN.md, "What was pushed")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase

from ick.model import GitFacts, Project

DEFAULT_BRANCHES = ("*",)


def matches(globs: Sequence[str], name: str) -> bool:
    """Does `name` match one of `globs`? `*` matches `/` too, so `*` is every branch and
    `release/*` every branch under release/."""
    return any(fnmatchcase(name, glob) for glob in globs)


def ref_problem(project: Project, git: GitFacts) -> str | None:
    """Why the project does not build this pushed ref, or None if it does (or the ref is
    neither a branch nor a tag, such as a poll of the remote's HEAD)."""
    if git.tag is not None and not matches(project.tags, git.tag):
        return (f"project {project.name!r} does not build tag {git.tag!r} "
                f"(tags: {', '.join(project.tags) or 'none'})")
    if git.branch is not None and not matches(project.branches, git.branch):
        return (f"project {project.name!r} does not build branch {git.branch!r} "
                f"(branches: {', '.join(project.branches) or 'none'})")
    return None


def same_ref(built: GitFacts, pushed: GitFacts) -> bool:
    """Are two builds' refs the same? `main` and `refs/heads/main` are; a tag and a branch
    of one name are not; a build without a ref (a poll of the remote's HEAD) matches any,
    as it built whatever HEAD was."""
    if built.ref is None or pushed.ref is None:
        return True
    if (built.branch, built.tag) != (None, None) or (pushed.branch, pushed.tag) != (None, None):
        return (built.branch, built.tag) == (pushed.branch, pushed.tag)
    return built.ref == pushed.ref


GATE_PREFIX = "gate/"
# A candidate's name reaches a merge's message, log lines and git's command lines: plain.
_GATE_NAME = re.compile(r"^[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$")


def gate_ref(project: Project, git: GitFacts) -> tuple[str, str] | None:
    """(target, name) if the pushed ref is a candidate of the project's gate: branch
    `gate/<target>/<name>` of a gated project, <target> its gate's branch. Else None."""
    if project.gate is None or git.branch is None or not git.branch.startswith(GATE_PREFIX):
        return None
    target = project.gate["branch"]
    rest = git.branch[len(GATE_PREFIX):]
    name = rest[len(target) + 1:]
    if not rest.startswith(target + "/") or not _GATE_NAME.fullmatch(name) or ".." in name \
            or len(name) > 200:
        return None
    return target, name
