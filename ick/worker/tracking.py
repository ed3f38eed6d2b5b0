"""What a remote worker runs, in files, so that after it is killed its next start can kill
whatever those actions left running (ick.worker.leftovers, as the daemon's recovery does).

The files are in the worker's run root (ick.worker.rundir: a tmpfs where there is one): they
need to outlive the worker's process, not the machine (after a reboot nothing is left
running), and creating and deleting two files per action on this ext4 took a seventh of a
remote worker's time. Records in STATE/actions, where earlier versions kept them, are read
too."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ick.worker.leftovers import kill_leftovers

log = logging.getLogger(__name__)


class ActionTracker:
    def __init__(self, state_dir: Path, root: Path | None = None) -> None:
        self.state_dir = state_dir
        self.root = root or state_dir / "actions"
        self.root.mkdir(parents=True, exist_ok=True)
        self._legacy = state_dir / "actions"  # where records were kept before

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
        places = [self.root] if self._legacy == self.root else [self.root, self._legacy]
        records = [path for place in places for path in sorted(place.glob("*.json"))]
        for path in records:
            try:
                record = json.loads(path.read_text())
                build_id, pids = int(record["build"]), [int(p) for p in record["pids"]]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            builds.setdefault(build_id, []).extend(pids)
            log.warning("build %d: action %s was running when this worker last stopped",
                        build_id, record.get("seq"))
        killed = kill_leftovers(builds, self.state_dir, builds) if builds else 0
        for path in records:
            path.unlink(missing_ok=True)
        return killed
