"""The gate's own git: the merge a candidate's build tested made again in ick's mirror of the
repository, the target moved to it by compare and swap (`git push --force-with-lease`, for a
path as over ssh, with the gate's push key), and candidate branches deleted."""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ick.config import passed_env
from ick.errors import ActionError
from ick.runners.gitcache import Git, Mirror, MirrorLocks
from ick.runners.gitcred import redactor, ssh_env
from ick.runners.gitmerge import merge

log = logging.getLogger(__name__)

SecretValue = Callable[[str, str], bytes | None]  # (project, name): a project secret


class Moved(enum.Enum):
    MERGED = "merged"  # the target is at the merge now
    MOVED_ON = "moved on"  # the target is no longer at the base: merge and test again
    FAILED = "failed"  # ick could not move it (see the reason)


@dataclass(frozen=True)
class Move:
    """One candidate's merge to move its target to."""

    project: str
    url: str
    target: str
    name: str
    base: str
    candidate: str
    merge: str
    key_secret: str | None = None
    hosts_secret: str | None = None

    @property
    def candidate_ref(self) -> str:
        return f"refs/heads/gate/{self.target}/{self.name}"


@dataclass(frozen=True)
class Moving:
    """A move ick is pushing now: the pre-receive hook lets exactly this update through."""

    ref: str
    old: str
    new: str


class Mover:
    """Moves gated targets, one push at a time per repository (the mirror's lock)."""

    def __init__(self, git_root: Path, run_root: Path, secret: SecretValue) -> None:
        self._git_root = git_root
        self._run_root = run_root
        self._secret = secret
        self._locks = MirrorLocks()
        self._moving: dict[str, list[Moving]] = {}

    def moving(self, project: str) -> tuple[Moving, ...]:
        return tuple(self._moving.get(project, ()))

    @contextlib.contextmanager
    def _announced(self, project: str, move: Moving) -> Iterator[None]:
        self._moving.setdefault(project, []).append(move)
        try:
            yield
        finally:
            self._moving[project].remove(move)
            if not self._moving[project]:
                del self._moving[project]

    @contextlib.contextmanager
    def _git(self, move: Move, log_line: Callable[[bytes], None] | None) -> Iterator[Git]:
        """A Git for the repository: the push key and known hosts in a private folder."""
        hide = redactor([move.url])
        env = passed_env()
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env["GIT_TERMINAL_PROMPT"] = "0"
        self._run_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="gate-", dir=self._run_root) as folder:
            for name in (move.key_secret, move.hosts_secret):
                if name is None:
                    continue
                value = self._secret(move.project, name)
                if value is None:
                    raise ActionError(f"secret {name} is not set")
                fd = os.open(Path(folder) / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(value if value.endswith(b"\n") else value + b"\n")
            env.update(ssh_env(move.key_secret, move.hosts_secret, [Path(folder)]))
            yield Git(env, log_line, hide)

    async def move(self, move: Move, log_line: Callable[[bytes], None] | None = None
                   ) -> tuple[Moved, str]:
        """Move the target from the base to the merge (made again here; it must be the one
        tested) and delete the candidate branch, both in one atomic push; what happened and
        why."""
        with self._git(move, log_line) as git:
            mirror = Mirror(self._git_root, move.url, git.hide(move.url))
            async with self._locks.hold(mirror.lock_file, lambda: None):
                await mirror.update(git)
                tip = await mirror.commit(git, f"refs/heads/{move.target}")
                if tip == move.merge:  # moved before a restart: only the candidate is left
                    await self._delete(git, mirror, move)
                    return Moved.MERGED, f"{move.target} is at the merge already"
                if tip != move.base:
                    return Moved.MOVED_ON, f"{move.target} moved to {tip} meanwhile"
                made = await merge(git, mirror.path, move.base, move.candidate, move.target,
                                   move.name)
                if made.commit != move.merge:
                    return Moved.FAILED, (f"the merge made again ({made.commit}) is not the one "
                                          f"tested ({move.merge})")
                args = [f"--force-with-lease=refs/heads/{move.target}:{move.base}"]
                refspecs = [f"{move.merge}:refs/heads/{move.target}"]
                if await mirror.commit(git, move.candidate_ref) == move.candidate:
                    args.append(f"--force-with-lease={move.candidate_ref}:{move.candidate}")
                    refspecs.append(f":{move.candidate_ref}")
                with self._announced(move.project, Moving(f"refs/heads/{move.target}",
                                                          move.base, move.merge)):
                    code, out = await git.run(["push", "--atomic", "--quiet", *args, "--",
                                               move.url, *refspecs], cwd=mirror.path)
                if code == 0:
                    return Moved.MERGED, f"{move.target} moved to {move.merge}"
                await mirror.update(git)
                tip = await mirror.commit(git, f"refs/heads/{move.target}")
                if tip != move.base:
                    return Moved.MOVED_ON, f"{move.target} moved to {tip} meanwhile"
                return Moved.FAILED, f"cannot push to {mirror.shown}: {out.reason()}"

    async def delete(self, move: Move, log_line: Callable[[bytes], None] | None = None) -> None:
        """Delete the candidate branch, if it is still at the candidate's commit."""
        with self._git(move, log_line) as git:
            mirror = Mirror(self._git_root, move.url, git.hide(move.url))
            async with self._locks.hold(mirror.lock_file, lambda: None):
                await mirror.update(git)
                await self._delete(git, mirror, move)

    @staticmethod
    async def _delete(git: Git, mirror: Mirror, move: Move) -> None:
        if await mirror.commit(git, move.candidate_ref) != move.candidate:
            return  # gone, or pushed again: a new candidate, not this one's to delete
        code, out = await git.run(["push", "--quiet",
                                   f"--force-with-lease={move.candidate_ref}:{move.candidate}",
                                   "--", move.url, f":{move.candidate_ref}"], cwd=mirror.path)
        if code != 0:
            log.warning("project %s: cannot delete %s: %s", move.project, move.candidate_ref,
                        out.reason())
