"""What the `git` and `git_mirror` actions share: fetch through the mirror cache, then a
self-contained clone in the workspace at exactly the resolved commit, recorded in the
action's details.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ick.errors import ActionError
from ick.model import SourceRevision, one_line
from ick.runners.base import ActionContext, Tool
from ick.runners.confine import confine
from ick.runners.gitcache import Git, Mirror, MirrorLocks
from ick.runners.gitcred import redactor, ssh_env, strip_password
from ick.runners.gitmerge import merge
from ick.runners.gitsafe import sanitize_repository
from ick.runners.result import ActionResult
from ick.runners.rules import SECRET_NAME, Rule

DEFAULT_DIR = "src"  # where a repository goes when its URL has no usable last part
PARALLEL_SOURCES = 4  # git_mirror fetches this many repositories at once
# Writing the files of a checkout waits on the disk more than on the CPU: on 2 cores, 20,000
# files took 20 s with 1 worker, 7.5 s with 2 and 6 s with 4 (bench/git.py's repository).
CHECKOUT_WORKERS = max(4, os.cpu_count() or 1)


@dataclass(frozen=True)
class Source:
    """One repository to put in the workspace, and where its place came from (for messages)."""

    url: str
    ref: str | None
    commit: str | None  # the pushed commit (git_commit): it wins over ref
    dir: str
    dir_key: str
    name: str | None = None
    # A gate candidate's build: (target, name): `commit` is merged onto the target's tip.
    gate: tuple[str, str] | None = None


def default_dir(url: str) -> str:
    """A repository's folder when the action names none: the URL's last part, less `.git`."""
    tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    tail = tail.removesuffix(".git")
    return tail if tail and tail not in (".", "..") else DEFAULT_DIR


def inside_workspace(workspace: Path, rel: str, key: str) -> Path:
    """`rel` under the workspace; refused if it is absolute or leads out (by `..` or a link)."""
    return confine(workspace, rel, key)


def _is_repository(dest: Path, source: Source) -> bool:
    """Whether `dest` holds a clone to update (True) or is free for a new one (False)."""
    if not dest.exists():
        return False
    if dest.is_dir():
        if (dest / ".git").exists():
            return True
        if not any(dest.iterdir()):
            return False
    raise ActionError(f"{source.dir_key} {source.dir!r} exists and is not a git repository")


def string_setting(ctx: ActionContext, key: str) -> str | None:
    value = ctx.setting(key)
    if value is None or isinstance(value, str):
        return value
    raise ActionError(f"{key} must be a string, not {value!r}")


def check_url(url: object, key: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ActionError(f"{key} must be a non-empty string")
    if url.startswith("-"):
        raise ActionError(f"{key} must not start with '-'")
    return url


async def fetch_all(ctx: ActionContext, locks: MirrorLocks, sources: list[Source]) -> ActionResult:
    """Every source into the workspace (a few at once), as one action's outcome."""
    hide = redactor([s.url for s in sources])
    env = ctx.base_env()
    secret_dirs = [Path(env["ICK_SECRETS"])] if "ICK_SECRETS" in env else []
    env.update(ssh_env(ctx.setting("ssh_key_secret"), ctx.setting("known_hosts_secret"),
                       [*secret_dirs, ctx.run_dir / "secrets"]))
    env["GIT_TERMINAL_PROMPT"] = "0"  # no tty: a prompt for a password would only hang
    git = Git(env, ctx.output, hide)
    for source in sources:  # refuse a bad place before fetching anything
        _is_repository(inside_workspace(ctx.workspace, source.dir, source.dir_key), source)
    limit = asyncio.Semaphore(PARALLEL_SOURCES)

    async def one(source: Source) -> SourceRevision:
        async with limit:
            return await fetch_source(ctx, locks, git, source)

    try:
        async with asyncio.timeout(ctx.timeout):
            if len(sources) == 1:
                entries = [await one(sources[0])]
            else:
                entries = await _gather(one(s) for s in sources)
    except TimeoutError:
        return ActionResult(None, f"timed out after {ctx.timeout:g} s", timed_out=True)
    except ActionError as e:
        return ActionResult(None, hide(e.message))
    return ActionResult(0, sources=tuple(entries))


async def _gather(coros: Any) -> list[SourceRevision]:
    """Run the coroutines together; the first failure stops the rest and is raised as is."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    except BaseExceptionGroup as failed:
        errors = [e for e in failed.exceptions if isinstance(e, ActionError)]
        if errors and len(errors) == len(failed.exceptions):
            raise errors[0] from None
        raise
    return [t.result() for t in tasks]


async def fetch_source(ctx: ActionContext, locks: MirrorLocks, git: Git,
                       source: Source) -> SourceRevision:
    """Update the source's mirror, resolve its commit, and check that out in the workspace."""
    shown = git.hide(source.url)
    dest = inside_workspace(ctx.workspace, source.dir, source.dir_key)
    update = _is_repository(dest, source)
    mirror = Mirror(ctx.host.state_dir / "git", source.url, shown)

    def waiting() -> None:
        ctx.say(f"git: waiting for another build to finish with the mirror of {shown}")

    started = time.monotonic()
    async with locks.hold(mirror.lock_file, waiting):
        head = None
        if source.commit is None and source.ref is None:
            head = await mirror.remote_head(git)
        verb = "updating the mirror of" if mirror.exists else "cloning a new mirror of"
        ctx.say(f"git: {verb} {shown}")
        await mirror.update(git)
        ref, sha = await _resolve(git, mirror, source, head)
        base = None
        if source.gate is not None:
            found = await mirror.resolve(git, f"refs/heads/{source.gate[0]}")
            if found is None:
                raise ActionError(f"the gate's target {source.gate[0]!r} is not a branch of "
                                  f"{shown}")
            base = found[1]
        # The workspace's copy is made inside the lock: a fetch's gc could repack under it.
        if update:
            await sanitize_repository(dest, git.env, f"{source.dir_key} {source.dir!r}")
            await _fetch_into(git, mirror, dest, sha, source)
        else:
            await _clone_into(git, mirror, dest, source)
    if source.gate is not None and base is not None:
        ref, sha = await _merge_candidate(ctx, git, dest, base, sha, source.gate)
    fetched = time.monotonic()
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    args = ["-B", branch, sha, "--"] if branch else ["--detach", sha, "--"]
    code, out = await git.run(["-c", f"checkout.workers={CHECKOUT_WORKERS}", "checkout",
                               "--quiet", *args], cwd=dest)
    if code != 0:
        raise ActionError(f"cannot check out {sha} in {source.dir}: {out.reason()}")
    what = f"commit {sha}" if ref == sha else f"{ref} is {sha}"
    ctx.say(f"git: {shown} {what}, checked out in {source.dir} (fetch and clone "
            f"{fetched - started:.2f} s, checkout {time.monotonic() - fetched:.2f} s)")
    subject, author = await commit_line(git, dest, sha)
    return SourceRevision(shown, ref, sha, source.dir, source.name, subject, author, base)


async def _merge_candidate(ctx: ActionContext, git: Git, dest: Path, base: str, candidate: str,
                           gate: tuple[str, str]) -> tuple[str, str]:
    """Merge a gate candidate onto the target's tip in the workspace's clone; the target's
    ref and the merge (a conflict fails the action, naming the files)."""
    target, name = gate
    if await merge_base_is(git, dest, candidate, base):
        ctx.say(f"git: gate/{target}/{name} ({candidate[:12]}) has nothing {target} lacks")
    done = await merge(git, dest, base, candidate, target, name)
    if done.commit is None:
        raise ActionError(f"merge conflict in {', '.join(done.conflicts) or 'the tree'}")
    ctx.say(f"git: merged gate/{target}/{name} ({candidate[:12]}) onto {target} "
            f"({base[:12]}): {done.commit}")
    return f"refs/heads/{target}", done.commit


async def merge_base_is(git: Git, repo: Path, ancestor: str, descendant: str) -> bool:
    code, _ = await git.query(["merge-base", "--is-ancestor", ancestor, descendant], cwd=repo)
    return code == 0


async def commit_line(git: Git, repo: Path, sha: str) -> tuple[str | None, str | None]:
    """The subject and author (`Name <email>`) of commit `sha` in `repo`, each one line (see
    ick.model.one_line); None, None if git cannot say. `repo` is one ick's git may run in (a
    fresh clone, or sanitized); no mailmap, signature check or pager is asked for."""
    code, out = await git.query(["log", "-1", "--no-show-signature", "--no-mailmap",
                                 "--no-color", "--format=%s%x00%an <%ae>", sha, "--"], cwd=repo)
    subject, sep, author = out.rstrip("\n").partition("\0")
    if code != 0 or not sep:
        return None, None
    return one_line(subject) or None, one_line(author) or None


async def _resolve(git: Git, mirror: Mirror, source: Source,
                   head: tuple[str, str] | None) -> tuple[str, str]:
    """The ref name to record and the commit: the pushed commit, else the ref, else HEAD."""
    if source.commit is not None:
        sha = await mirror.commit(git, source.commit)
        if sha is None:
            raise ActionError(f"commit {source.commit} is not in {mirror.shown} "
                              "(was it force-pushed away?)")
        return source.ref or sha, sha
    if source.ref is not None:
        found = await mirror.resolve(git, source.ref)
        if found is None:
            raise ActionError(f"unknown ref {source.ref!r} in {mirror.shown}")
        return found
    assert head is not None
    name, head_sha = head
    if name != "HEAD":
        found = await mirror.resolve(git, name)
        if found is not None:
            return found
    sha = await mirror.commit(git, head_sha)
    if sha is None:
        raise ActionError(f"the HEAD of {mirror.shown} ({head_sha}) is not in its mirror")
    return "HEAD", sha


async def _clone_into(git: Git, mirror: Mirror, dest: Path, source: Source) -> None:
    # A clone from a local path hardlinks the mirror's objects: fast, and the workspace's
    # repository stands alone (no alternates), so a workspace can be archived and moved.
    code, out = await git.run(["clone", "--quiet", "--no-checkout", "--", str(mirror.path),
                               str(dest)])
    if code != 0:
        raise ActionError(f"cannot clone {mirror.shown} into {source.dir}: {out.reason()}")
    code, out = await git.run(["remote", "set-url", "origin", strip_password(source.url)],
                              cwd=dest)
    if code != 0:
        raise ActionError(f"cannot set the origin of {source.dir}: {out.reason()}")


async def _fetch_into(git: Git, mirror: Mirror, dest: Path, sha: str, source: Source) -> None:
    """Bring an existing clone (say, from a workspace artifact) up to date from the mirror."""
    code, out = await git.run(["fetch", "--quiet", "--force", "--no-write-fetch-head", "--",
                               str(mirror.path), "+refs/heads/*:refs/remotes/origin/*",
                               "+refs/tags/*:refs/tags/*"], cwd=dest)
    if code == 0 and await _has_commit(git, dest, sha):
        return
    if code == 0:  # a commit no branch or tag reaches (a pull request's, say): ask for it
        code, out = await git.run(["fetch", "--quiet", "--no-write-fetch-head", "--",
                                   str(mirror.path), sha], cwd=dest)
    if code != 0:
        raise ActionError(f"cannot update {source.dir} from the mirror of {mirror.shown}: "
                          f"{out.reason()}")


async def _has_commit(git: Git, repo: Path, sha: str) -> bool:
    code, _ = await git.query(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=repo)
    return code == 0


GIT_TOOLS = (Tool("git", "git", "the git actions"),)
# The keys both actions take beyond their own: the secrets an ssh URL needs.
SECRET_KEYS: dict[str, Rule] = {"ssh_key_secret": SECRET_NAME, "known_hosts_secret": SECRET_NAME}
