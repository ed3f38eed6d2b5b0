"""Finding and killing processes that a dead daemon's builds left running."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)


def _environ(pid: str) -> dict[bytes, bytes]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    out: dict[bytes, bytes] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            out[key] = value
    return out


def kill_leftovers(build_ids: list[int], state_dir: Path) -> int:
    """Kill every process (and its process group) that runs for one of these builds.

    A build's processes carry ICK_BUILD_ID and an ICK_WORKSPACE under this state dir, so
    processes of another ick instance, or any unrelated one, are never touched.
    """
    wanted = {str(b).encode() for b in build_ids}
    prefix = str(state_dir / "workspaces").encode() + b"/"
    killed = 0
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        env = _environ(pid)
        if env.get(b"ICK_BUILD_ID") in wanted and env.get(b"ICK_WORKSPACE", b"").startswith(prefix):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                pgid = os.getpgid(int(pid))
                if pgid != os.getpgid(0):
                    os.killpg(pgid, signal.SIGKILL)
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    return killed
