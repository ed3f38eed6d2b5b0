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
DRAIN_LIMIT = 2.0  # seconds to read what is left in the pipe after the group is gone


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    timed_out: bool
    duration: float
    pid: int


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_pipe_holders(inode: int) -> int:
    """SIGKILL every process that holds the pipe `inode` open: children that left the group."""
    target = f"pipe:[{inode}]"
    killed = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            holds = any(os.readlink(f"/proc/{pid}/fd/{fd}") == target for fd in fds)
        except OSError:
            continue
        if holds:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
    return killed


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
    loop = asyncio.get_running_loop()
    # Our own pipe, not asyncio's: asyncio's wait() also waits for its pipes to close, so a
    # process that escaped the group with the pipe open would hang the action forever.
    rfd, wfd = os.pipe()
    inode = os.fstat(rfd).st_ino
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=wfd,
            stderr=wfd,
            start_new_session=True,
        )
    except BaseException:
        os.close(rfd)
        raise
    finally:
        os.close(wfd)
    if on_start is not None:
        on_start(proc.pid)
    stream = asyncio.StreamReader(limit=2 * CHUNK)
    try:
        pipe, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stream), os.fdopen(rfd, "rb", buffering=0)
        )
    except BaseException:
        kill_group(proc.pid)
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise

    async def pump() -> None:
        while chunk := await stream.read(CHUNK):
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
            # Someone left the group (setsid, a daemon) and still holds the pipe.
            if kill_pipe_holders(inode):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(reader), DRAIN_LIMIT)
    except BaseException:
        if stop_signal != signal.SIGKILL:
            kill_group(proc.pid, stop_signal)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(proc.wait()), KILL_GRACE)
        kill_group(proc.pid)
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    finally:
        # A process that left the group may still hold the pipe: stop reading it anyway.
        reader.cancel()
        pipe.close()
    code = proc.returncode
    assert code is not None
    return ProcessResult(code, timed_out, time.monotonic() - started, proc.pid)
