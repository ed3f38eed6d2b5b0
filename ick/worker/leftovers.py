"""Finding and killing what the builds of a dead daemon or worker left running: one way for
both (the daemon's recovery, and `ick worker` at its next start through ick.worker.tracking).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Mapping
from pathlib import Path


def find_leftovers(build_ids: Iterable[int], state_dir: Path,
                   leaders: Mapping[int, Iterable[int]] | None = None) -> set[int]:
    """The processes still alive of these builds of the daemon or worker with `state_dir`:
    those in the process groups `leaders` (build id -> pids its actions started) lead, those
    that carry one of the build ids and a workspace under the state dir, and those whose root
    is inside the state dir (chroots, containers). Another ick's processes, or any unrelated
    one, are never among them."""
    build_ids = list(build_ids)
    groups = {pid for build_id, pids in (leaders or {}).items() for pid in pids
              if _runs_for(pid, build_id)}  # the leaders, not recycled pids
    wanted = {f"ICK_BUILD_ID={b}".encode() for b in build_ids}
    workspaces = tuple(f"ICK_WORKSPACE={d / 'workspaces'}/".encode()
                       for d in {state_dir, state_dir.resolve()})
    rooted = str(state_dir.resolve()) + "/"
    found: set[int] = set()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes().split(b"\0")
            pgid = os.getpgid(int(name))
        except (OSError, ProcessLookupError):
            continue
        ours = (pgid in groups
                or (wanted.intersection(environ)
                    and any(v.startswith(workspaces) for v in environ))
                or _rooted_under(name, rooted))
        if ours:
            found.add(int(name))
    return found


def kill_leftovers(build_ids: Iterable[int], state_dir: Path,
                   leaders: Mapping[int, Iterable[int]] | None = None) -> int:
    """SIGKILL what `find_leftovers` finds, with each one's process group unless it is ours;
    how many processes were found."""
    doomed = find_leftovers(build_ids, state_dir, leaders)
    own_group = os.getpgid(0)
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            pgid = os.getpgid(pid)
            if pgid != own_group:
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(doomed)


def _rooted_under(pid: str, prefix: str) -> bool:
    """Whether the process's root is inside the folder `prefix` names: a chroot there, or a
    container whose root is an overlay view there (its mountinfo shows the host paths)."""
    try:
        if os.readlink(f"/proc/{pid}/root").startswith(prefix):
            return True
        with open(f"/proc/{pid}/mountinfo") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 4 and fields[4] == "/" and f"upperdir={prefix}" in line:
                    return True
    except OSError:
        pass
    return False


def kill_rooted_under(folder: Path) -> int:
    """SIGKILL every process whose root is inside `folder` (what chroots and containers of a
    worker with that state dir left); how many."""
    prefix = str(folder.resolve()) + "/"
    killed = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid() and _rooted_under(pid, prefix):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    return killed


def _runs_for(pid: int, build_id: int) -> bool:
    """Whether `pid` is still a process of that build (not a recycled pid)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"ICK_BUILD_ID={build_id}".encode() in environ.split(b"\0")
