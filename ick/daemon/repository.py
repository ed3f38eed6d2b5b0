"""Pipelines kept in a project's repository (`repository_pipelines: PATH`), for the
controller: the file read at the build's commit from the git mirror cache (STATE/git; `git
cat-file`, so no code of the repository runs), checked as an .ick file holding only
`pipelines:`. Checking loads every action type's record: only when a build needs it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ick.config import passed_env
from ick.errors import IckError
from ick.model import Pipeline, Project
from ick.runners.gitcache import Git, Mirror, MirrorLocks
from ick.runners.gitcred import redactor
from ick.scheduler.plan import RepositoryPipelines

MAX_FILE = 1024 * 1024  # bytes: pipelines, not a data file


def _env() -> dict[str, str]:
    env = passed_env()
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class RepositoryReader:
    """Reads each build's repository pipelines through the mirror cache under `git_root`."""

    def __init__(self, git_root: Path, locks: MirrorLocks | None = None) -> None:
        self.git_root = git_root
        self.locks = locks or MirrorLocks()

    async def read(self, project: Project, overrides: Mapping[str, Any]) -> RepositoryPipelines:
        """The pipelines in the project's file at the build's commit (git_commit, else
        git_ref, else the remote's HEAD), or the problem that fails the build."""
        path = str(project.repository_pipelines)
        url = _text(overrides.get("git_url")) or _text(project.parameters.get("git_url"))
        if url is None or url.startswith("-"):
            return RepositoryPipelines(f"{path}: the project has no git_url to read it from")
        hide = redactor([url])
        try:
            sha, text = await self._file(url, hide, path, overrides, project)
        except IckError as e:
            return RepositoryPipelines(f"{path}: {hide(e.message)}")
        except OSError as e:  # git could not run at all
            return RepositoryPipelines(f"{path}: cannot run git: {e.strerror or e}")
        if text is None:
            return RepositoryPipelines(f"{path}: no such file at commit {sha[:12]}", commit=sha)
        return self._checked(path, text, sha)

    async def _file(self, url: str, hide: Callable[[str], str], path: str,
                    overrides: Mapping[str, Any],
                    project: Project) -> tuple[str, str | None]:
        git = Git(_env(), None, hide)
        mirror = Mirror(self.git_root, url, hide(url))
        commit = _text(overrides.get("git_commit"))
        ref = _text(overrides.get("git_ref")) or _text(project.parameters.get("git_ref"))
        async with self.locks.hold(mirror.lock_file, lambda: None):
            head = await mirror.remote_head(git) if commit is None and ref is None else None
            known = commit is not None and mirror.exists and \
                await mirror.commit(git, commit) is not None
            if not known:
                await mirror.update(git)
            if commit is not None:
                sha = await mirror.commit(git, commit)
            elif ref is not None:
                found = await mirror.resolve(git, ref)
                sha = found[1] if found else None
            else:
                assert head is not None
                sha = head[1]
            if sha is None:
                raise IckError(f"{hide(url)} has no commit {commit or ref!r}")
            code, size = await git.query(["cat-file", "-s", f"{sha}:{path}"], cwd=mirror.path)
            if code != 0:
                return sha, None
            if int(size.strip() or 0) > MAX_FILE:
                raise IckError(f"the file is over {MAX_FILE} bytes at commit {sha[:12]}")
            code, text = await git.query(["cat-file", "blob", f"{sha}:{path}"], cwd=mirror.path)
            if code != 0:
                return sha, None
            return sha, text

    @staticmethod
    def _checked(path: str, text: str, sha: str) -> RepositoryPipelines:
        from ick.ickfile import read_ick_text

        ickfile, problems = read_ick_text(text, path)
        for (kind, _), line in sorted(ickfile.lines.items(), key=lambda item: item[1]):
            if kind == "project":
                problems.insert(0, f"{path}:{line}: a repository's file holds only "
                                   "'pipelines:', not projects")
                break
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return RepositoryPipelines(problems[0] + more, commit=sha)
        found: dict[str, Pipeline] = {p.name: p for p in ickfile.pipelines}
        return RepositoryPipelines(None, found, sha)
