"""What a trigger may choose (DESIGN.md, "Trust boundaries"): a token with `trigger` and not
`write` sets only `git_ref` (to a ref the project builds), `git_commit` and the project's
`trigger_parameters`, so it never redirects where the code comes from or where things go;
`write` sets any parameter."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ick.errors import ForbiddenError
from ick.keepers.tokens import has_scope
from ick.model import GitFacts, Project
from ick.scheduler.refs import ref_problem
from ick.storage.tokens import TokenRecord

ALWAYS = ("git_commit", "git_ref")  # what the hook and polls set (a ref the project builds)


def settable(record: TokenRecord, project: Project) -> frozenset[str] | None:
    """The parameters this token may set on this project; None: any the project knows."""
    if has_scope(record, "write"):
        return None
    return frozenset((*ALWAYS, *project.trigger_parameters))


def _refuse(record: TokenRecord, project: Project, name: str, allowed: frozenset[str]) -> None:
    raise ForbiddenError(
        f"token {record.name!r} may not set parameter {name[:60]!r} of project "
        f"{project.name!r} (a trigger token sets only {', '.join(sorted(allowed))}; "
        "the project's trigger_parameters add more)")


def check_parameters(record: TokenRecord, project: Project, names: Iterable[str]) -> None:
    """403 naming the first parameter the token may not set."""
    allowed = settable(record, project)
    if allowed is None:
        return
    refused = sorted(set(names) - allowed)
    if refused:
        _refuse(record, project, refused[0], allowed)


def check_ref(record: TokenRecord, project: Project, parameters: Mapping[str, Any],
              pushed: bool = False) -> None:
    """403 when a token without `write` sets git_ref to a ref the project does not build
    (neither a branch nor a tag, or not one of `branches:`, `tags:`): it may build only what
    a push of a branch or tag would. `pushed`: the trigger says it reports a push, which the
    controller filters itself (409), so only the kind of ref is checked here."""
    ref = parameters.get("git_ref")
    if not isinstance(ref, str) or not ref or has_scope(record, "write"):
        return
    git = GitFacts.of_ref(ref)
    if git.branch is None and git.tag is None:
        raise ForbiddenError(f"token {record.name!r} may set git_ref only to a branch or tag "
                             f"the project builds, not {ref[:60]!r}")
    problem = None if pushed else ref_problem(project, git)
    if problem is not None:
        raise ForbiddenError(f"token {record.name!r} may set git_ref only to a ref the project "
                             f"builds: {problem}")


def check_rebuild(record: TokenRecord, project: Project, parameters: Mapping[str, Any]) -> None:
    """A rebuild replays the old build's parameters: a trigger-only token may rebuild only
    a build whose parameters differ from the project's own just in what it may set (else a
    build once triggered with `write`, or the project's old `git_url`, would come back)."""
    allowed = settable(record, project)
    if allowed is None:
        return
    for name, value in sorted(parameters.items()):
        if name in ("ick_trigger", "ick_event") or name in allowed:
            continue
        if name not in project.parameters or project.parameters[name] != value:
            _refuse(record, project, name, allowed)
