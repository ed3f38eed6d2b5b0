"""The one way ick runs a child: own process group, output streamed, timeout, always reaped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL on a timeout
DRAIN_LIMIT = 10.0  # seconds to read what is left in the pipe after the group is gone


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    timed_out: bool
    duration: float
    pid: int


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    output: Callable[[bytes], None],
    timeout: float | None = None,
    on_start: Callable[[int], None] | None = None,
    stop_signal: int = signal.SIGKILL,
) -> ProcessResult:
    """Run argv in a new session, feeding its stdout and stderr (merged) to `output`.

    On timeout the group gets SIGTERM, then SIGKILL; on cancellation `stop_signal`, by default
    SIGKILL at once (a child that must stop its own children, like systemd-nspawn its
    container, asks for SIGTERM: SIGKILL follows after KILL_GRACE). Either way the child is
    reaped before this returns or raises, and no member of its process group outlives it.
    """
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    if on_start is not None:
        on_start(proc.pid)
    assert proc.stdout is not None
    stdout = proc.stdout

    async def pump() -> None:
        while chunk := await stdout.read(CHUNK):
            output(chunk)

    reader = asyncio.ensure_future(pump())
    timed_out = False
    try:
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            timed_out = True
            kill_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), KILL_GRACE)
            except TimeoutError:
                kill_group(proc.pid)
                await proc.wait()
        # The leader is gone; whatever it left behind in its group goes too, so the pipe closes.
        kill_group(proc.pid)
        try:
            await asyncio.wait_for(asyncio.shield(reader), DRAIN_LIMIT)
        except TimeoutError:
            reader.cancel()
    except BaseException:
        if stop_signal != signal.SIGKILL:
            kill_group(proc.pid, stop_signal)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(proc.wait()), KILL_GRACE)
        kill_group(proc.pid)
        reader.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    code = proc.returncode
    assert code is not None
    return ProcessResult(code, timed_out, time.monotonic() - started, proc.pid)
