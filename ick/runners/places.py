"""Where an action's command runs: on the host, in a chroot, or in a container.

A place gets the command with host paths (the run directory with the scripts, params.json
and secrets; the workspace) and maps them to what the command sees where it runs: the run
directory read-only at /run/ick, the workspace at /workspace (at / in a chroot).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ick.errors import ActionError
from ick.runners.arches import host_arch, runnable_arches, tree_arch
from ick.runners.base import ActionContext, Tool
from ick.runners.process import ProcessResult, run_process
from ick.runners.tools import require_tool

RUN_INSIDE = "/run/ick"
WORKSPACE_INSIDE = "/workspace"
INSIDE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The host's values of these mean nothing inside; the rest of the environment is kept.
HOST_ONLY_ENV = frozenset({"PATH", "HOME", "USER", "LOGNAME", "TMPDIR"})

# Runs in a private mount and PID namespace (unshare), so whatever it mounts goes away with
# the last process in it, and killing unshare kills everything inside (--kill-child).
# The host's /dev/shm is covered: the run directories of other builds live there.
CHROOT_SETUP = """set -e
root=$1 run=$2
shift 2
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mkdir -m 1777 "$root/run/lock"
mkdir "$root/run/ick"
mount --bind -o ro "$run" "$root/run/ick"
cd "$root"
exec "$@"
"""

# The host programs each `where:` other than host needs (ick doctor lists them).
PLACE_TOOLS = (
    Tool("systemd-nspawn", "systemd-container", "where: container"),
    Tool("unshare", "util-linux", "where: chroot"),
    Tool("chroot", "coreutils", "where: chroot"),
    Tool("mount", "mount", "where: chroot"),
)


@dataclass(frozen=True)
class Bind:
    """A host directory and where the command sees it."""

    host: Path
    inside: str


def translate(value: str, binds: Sequence[Bind]) -> str:
    """`value` with a leading host path of one of the binds replaced by its inside path."""
    for bind in binds:
        host = str(bind.host)
        if value == host:
            return bind.inside
        if value.startswith(host + "/"):
            return bind.inside.rstrip("/") + value[len(host):]
    return value


def inside_env(env: Mapping[str, str], binds: Sequence[Bind], workspace: str) -> dict[str, str]:
    inside = {k: translate(v, binds) for k, v in env.items() if k not in HOST_ONLY_ENV}
    inside.update(PATH=INSIDE_PATH, HOME="/root", ICK_WORKSPACE=workspace)
    # Nobody answers debconf's questions in a build.
    inside.setdefault("DEBIAN_FRONTEND", "noninteractive")
    return inside


def check_runnable(ctx: ActionContext, root: Path) -> None:
    """A tree of an architecture this host neither is nor emulates cannot run: say so,
    rather than let the kernel say "exec format error". Checked once per tree and build."""
    key = f"arch-checked:{root}"
    if key in ctx.scratch.values:
        return
    arch = tree_arch(root)
    if arch is not None and arch not in runnable_arches():
        raise ActionError(
            f"the tree is for {arch}, which this {host_arch()} host does not emulate: install "
            "qemu-user-static and binfmt-support (ick doctor says what this host runs)")
    ctx.scratch.values[key] = arch


async def run_host(ctx: ActionContext, argv: list[str], env: dict[str, str]) -> ProcessResult:
    """Run on the host, as PID 1 of a PID namespace of its own (ick.runners.process)."""
    return await run_process(argv, cwd=ctx.workspace, env=env, output=ctx.output,
                             timeout=ctx.timeout, on_start=ctx.started, pid_namespace=True)


async def run_chroot(ctx: ActionContext, argv: list[str], env: dict[str, str]) -> ProcessResult:
    """Run with the workspace as the root file system, with /proc, /sys and /dev."""
    root = ctx.workspace
    lacking = [d for d in ("proc", "sys", "dev", "run") if not (root / d).is_dir()]
    if lacking:
        raise ActionError(f"where: chroot needs a root file system in the workspace, and it "
                          f"has no /{lacking[0]}: run debootstrap (or populate_workspace) first")
    check_runnable(ctx, root)
    unshare = require_tool("unshare", "util-linux")
    require_tool("mount", "mount")
    binds = [Bind(ctx.run_dir, RUN_INSIDE), Bind(root, "/")]
    inner = {**inside_env(env, binds, "/"), **ctx.action_env()}  # env: as written, untranslated
    # unshare keeps the host's ICK_BUILD_ID and ICK_WORKSPACE, by which ick.worker.leftovers finds
    # it after a crash; `env -i` gives the command inside its own environment.
    command = [
        unshare, "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child",
        "--", "/bin/sh", "-c", CHROOT_SETUP, "ick-chroot", str(root), str(ctx.run_dir),
        require_tool("env", "coreutils"), "-i", *(f"{k}={v}" for k, v in inner.items()),
        require_tool("chroot", "coreutils"), str(root), *(translate(a, binds) for a in argv),
    ]
    return await run_process(command, cwd=root, env=env, output=ctx.output, timeout=ctx.timeout,
                             on_start=ctx.started)


def nspawn_command(nspawn: str, ctx: ActionContext, systree: Path, argv: list[str],
                   env: Mapping[str, str]) -> list[str]:
    """The systemd-nspawn command line that runs `argv` in a container made from `systree`."""
    binds = [Bind(ctx.run_dir, RUN_INSIDE), Bind(ctx.workspace, WORKSPACE_INSIDE)]
    for bind in binds:
        if ":" in str(bind.host):
            raise ActionError(f"systemd-nspawn cannot bind {bind.host}: its path has a ':'")
    command = [
        nspawn, "--quiet",
        # No system bus or systemd as PID 1 is needed: nspawn neither registers the machine
        # nor makes a scope unit for it.
        "--register=no", "--keep-unit",
        "--console=pipe", "--link-journal=no",
        f"--machine=ick-{ctx.build_id}-{ctx.seq}",
        f"--directory={systree}",
        f"--bind={ctx.workspace}:{WORKSPACE_INSIDE}",
        f"--bind-ro={ctx.run_dir}:{RUN_INSIDE}",
        f"--chdir={WORKSPACE_INSIDE}",
    ]
    if ctx.action.get("network") is not True:
        command.append("--private-network")
    inner = {**inside_env(env, binds, WORKSPACE_INSIDE), **ctx.action_env()}  # env: as written
    command += [f"--setenv={k}={v}" for k, v in inner.items()]
    command.append("--")
    # nspawn stops its container when it gets SIGTERM, not when SIGKILL takes it; with
    # setpriv the container's PID 1 dies with nspawn, and with it everything inside.
    if (systree / "usr/bin/setpriv").exists():
        command += ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"]
    return command + [translate(a, binds) for a in argv]


async def run_container(ctx: ActionContext, argv: list[str],
                        env: dict[str, str]) -> ProcessResult:
    nspawn = require_tool("systemd-nspawn", "systemd-container")
    systree = ctx.scratch.systree
    if systree is None:
        raise ActionError("where: container needs a systree: put `action: populate_systree` "
                          "(with systree_name) before this action")
    check_runnable(ctx, systree)
    command = nspawn_command(nspawn, ctx, systree, argv, env)
    return await run_process(command, cwd=ctx.workspace, env=env, output=ctx.output,
                             timeout=ctx.timeout, stop_signal=signal.SIGTERM,
                             on_start=ctx.started)


def tree_of(ctx: ActionContext) -> Path | None:
    """The root file system the action's command runs in, if it has one yet: the workspace
    in a chroot, the systree in a container; None on the host (and where the place's own
    checks will fail the action, saying why)."""
    where = ctx.action.get("where", "host")
    if where == "chroot" and (ctx.workspace / "proc").is_dir():
        return ctx.workspace
    if where == "container":
        return ctx.scratch.systree
    return None


def in_tree(root: Path, program: str) -> bool:
    """Whether `program` is on the PATH a command in the tree gets (a symlink counts, also
    one that points at an absolute path inside the tree)."""
    return any(os.path.lexists(root / d.lstrip("/") / program) for d in INSIDE_PATH.split(":"))


async def run_in_place(ctx: ActionContext, argv: list[str], env: dict[str, str]) -> ProcessResult:
    where = ctx.action.get("where", "host")
    if where == "host":
        return await run_host(ctx, argv, env)
    if where == "chroot":
        return await run_chroot(ctx, argv, env)
    if where == "container":
        return await run_container(ctx, argv, env)
    raise ActionError(f"where: {where} is not supported by this worker")
