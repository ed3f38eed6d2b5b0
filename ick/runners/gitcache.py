"""The mirror cache: one bare mirror per git URL under STATE/git, kept between builds, and
the per-URL lock (asyncio inside a process, flock across processes) that keeps it whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from ick.errors import ActionError
from ick.runners.gitcred import RedactingOutput, git_reason, strip_password
from ick.runners.process import run_process

LOCK_WAIT = 3600.0  # seconds a build waits for another one's use of a mirror, at the most
LOCK_POLL_MIN, LOCK_POLL_MAX = 0.02, 0.5

SHA_RE = re.compile(r"^[0-9a-f]{4,64}$")
FULL_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")

# -c options on every git command: a dangerous transport stays off whatever the host's config
# says (a trigger token may set git_url), and auto-gc runs in the foreground, inside the lock
# and inside the command's process group, instead of detaching into a process nobody reaps.
# A workspace's repository is the build's to change (an action, a container, an artifact):
# none of its hooks runs and no command its configuration names (the rest of what it could
# set is dropped by ick.runners.gitsafe before ick's git touches it).
GIT_OPTIONS = ("-c", "protocol.ext.allow=never", "-c", "gc.autoDetach=false",
               "-c", "maintenance.autoDetach=false",
               "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")


class Git:
    """Runs git for one action: argv lists, one environment, output to the log with secrets
    hidden (through `hide`)."""

    def __init__(self, env: Mapping[str, str], log: Callable[[bytes], None] | None,
                 hide: Callable[[str], str]) -> None:
        self.env = dict(env)
        self.log = log
        self.hide = hide

    async def run(self, args: list[str], cwd: Path | None = None) -> tuple[int, RedactingOutput]:
        """Run `git ARGS` with its output in the build log; its exit code and what it said."""
        out = RedactingOutput(self.log, self.hide)
        result = await run_process(["git", *GIT_OPTIONS, *args], cwd=cwd, env=self.env,
                                   output=out)
        out.flush()
        return result.exit_code, out

    async def query(self, args: list[str], cwd: Path | None = None) -> tuple[int, str]:
        """Run `git ARGS` for its answer, kept out of the log unless git fails and says why;
        its exit code and output."""
        chunks: list[bytes] = []
        result = await run_process(["git", *GIT_OPTIONS, *args], cwd=cwd, env=self.env,
                                   output=chunks.append)
        text = self.hide(b"".join(chunks).decode(errors="replace"))
        if result.exit_code != 0 and text.strip() and self.log is not None:
            self.log(text.encode() if text.endswith("\n") else (text + "\n").encode())
        return result.exit_code, text


class MirrorLocks:
    """The per-URL lock: an asyncio lock so a process's own builds queue without polling,
    then flock on the mirror's lock file so other processes on the same state dir wait too."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, lock_file: Path, on_wait: Callable[[], None],
                   wait: float = LOCK_WAIT) -> AsyncIterator[None]:
        lock = self._locks.setdefault(str(lock_file), asyncio.Lock())
        waited = lock.locked()
        if waited:
            on_wait()
        deadline = time.monotonic() + wait
        try:
            async with asyncio.timeout(wait):
                await lock.acquire()
        except TimeoutError:
            raise ActionError(f"waited {wait:g} s for the mirror lock {lock_file}") from None
        try:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                await _flock(fd, lock_file, deadline, None if waited else on_wait)
                os.utime(fd)  # when the mirror was last used: pruning removes old ones
                yield
            finally:
                os.close(fd)  # closing the file is what releases the flock
        finally:
            lock.release()


async def _flock(fd: int, path: Path, deadline: float, on_wait: Callable[[], None] | None) -> None:
    # Non-blocking and polled: a thread blocked in flock(2) could not be cancelled with its build.
    delay = LOCK_POLL_MIN
    said = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if not said and on_wait is not None:
                on_wait()
            said = True
            if time.monotonic() >= deadline:
                raise ActionError(f"waited too long for the mirror lock {path}") from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, LOCK_POLL_MAX)


class Mirror:
    """The bare mirror of one URL: `STATE/git/<sha256 of the URL without password>.git`."""

    def __init__(self, root: Path, url: str, shown: str) -> None:
        self.url = url
        self.shown = shown
        key = hashlib.sha256(strip_password(url).encode()).hexdigest()
        self.root = root
        self.path = root / f"{key}.git"
        self.lock_file = root / f"{key}.lock"

    @property
    def exists(self) -> bool:
        return (self.path / "HEAD").is_file()

    async def update(self, git: Git) -> None:
        """Fetch everything new from the URL (clone the mirror the first time); hold the lock."""
        if self.exists:
            code, out = await git.run(
                ["fetch", "--quiet", "--prune", "--force", "--no-write-fetch-head",
                 "--", self.url, "+refs/*:refs/*"], cwd=self.path)
            if code != 0:
                raise ActionError(f"cannot fetch {self.shown}: {out.reason()}")
            return
        for leftover in self.root.glob(f"{self.path.name}.tmp-*"):  # from a crash mid-clone
            shutil.rmtree(leftover, ignore_errors=True)
        # Cloned aside and renamed: a crash never leaves a half mirror under the real name.
        tmp = self.root / f"{self.path.name}.tmp-{secrets.token_hex(4)}"
        try:
            code, out = await git.run(["clone", "--mirror", "--quiet", "--", self.url, str(tmp)])
            if code != 0:
                raise ActionError(f"cannot fetch {self.shown}: {out.reason()}")
            # Fetches name the URL each time, so the password is never stored in the mirror.
            code, out = await git.run(["config", "remote.origin.url", strip_password(self.url)],
                                      cwd=tmp)
            if code != 0:
                raise ActionError(f"cannot set up the mirror of {self.shown}: {out.reason()}")
            tmp.rename(self.path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    async def remote_head(self, git: Git) -> tuple[str, str]:
        """The remote's HEAD: the branch it names (or "HEAD" if detached) and its commit."""
        code, text = await git.query(["ls-remote", "--symref", "--", self.url, "HEAD"])
        if code != 0:
            raise ActionError(f"cannot fetch {self.shown}: {git_reason(text.splitlines())}")
        name, sha = "HEAD", ""
        for line in text.splitlines():
            left, _, right = line.partition("\t")
            if right != "HEAD":
                continue
            if left.startswith("ref: "):
                name = left[len("ref: "):]
            else:
                sha = left
        if not sha:
            raise ActionError(f"{self.shown} has no HEAD commit (is it empty?)")
        return name, sha

    async def commit(self, git: Git, rev: str) -> str | None:
        """The full sha of the commit `rev` names in the mirror, or None."""
        code, text = await git.query(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                                     cwd=self.path)
        return text.strip() if code == 0 and text.strip() else None

    async def resolve(self, git: Git, ref: str) -> tuple[str, str] | None:
        """A branch, tag, full ref name or (abbreviated) sha: its full name and commit."""
        if not ref or ref.startswith("-") or any(c.isspace() or c in "^~:?*[\\@{" for c in ref):
            return None  # not a name we look up: no revision expressions, no options
        if ref.startswith("refs/"):
            candidates = [ref]
        else:
            candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
            if SHA_RE.fullmatch(ref):
                candidates.append(ref)
        for candidate in candidates:
            sha = await self.commit(git, candidate)
            if sha is not None:
                return candidate, sha
        return None

