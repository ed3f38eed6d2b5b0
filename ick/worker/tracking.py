"""What a remote worker runs, on disk (STATE/actions), so that after it is killed its next
start can kill whatever those actions left running."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)


class ActionTracker:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.root = state_dir / "actions"
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, build_id: int, seq: int) -> Path:
        return self.root / f"{build_id}-{seq}.json"

    def _write(self, build_id: int, seq: int, pids: list[int]) -> None:
        path = self._path(build_id, seq)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"build": build_id, "seq": seq, "pids": pids}))
        os.replace(tmp, path)

    @contextlib.contextmanager
    def track(self, build_id: int, seq: int) -> Iterator[None]:
        """Recorded while the action runs; the record goes when it ends, however it ends."""
        self._write(build_id, seq, [])
        try:
            yield
        finally:
            self._path(build_id, seq).unlink(missing_ok=True)

    def started(self, build_id: int, seq: int) -> Callable[[int], None]:
        """A callback for each process the action starts: its pid joins the record."""
        pids: list[int] = []

        def add(pid: int) -> None:
            pids.append(pid)
            self._write(build_id, seq, pids)

        return add

    def kill_leftovers(self) -> int:
        """Kill what the actions recorded here left running, then forget the records: the
        process groups they started, every process that carries one of their build ids and a
        workspace of this worker, and every process whose root is in this worker's state dir
        (chroots, containers). Returns how many processes were killed."""
        builds: dict[int, list[int]] = {}
        for path in sorted(self.root.glob("*.json")):
            try:
                record = json.loads(path.read_text())
                build_id, pids = int(record["build"]), [int(p) for p in record["pids"]]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            builds.setdefault(build_id, []).extend(pids)
            log.warning("build %d: action %s was running when this worker last stopped",
                        build_id, record.get("seq"))
        doomed = _leftovers(builds, self.state_dir) if builds else set()
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for path in self.root.glob("*.json"):
            path.unlink(missing_ok=True)
        return len(doomed)


def _leftovers(builds: dict[int, list[int]], state_dir: Path) -> set[int]:
    """The processes of these builds (id -> the pids their actions started) still alive."""
    groups = {pid for build_id, pids in builds.items() for pid in pids
              if _runs_for(pid, build_id)}  # the leaders, not recycled pids
    wanted = {f"ICK_BUILD_ID={b}".encode() for b in builds}
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
