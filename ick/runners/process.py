"""The one way ick runs a child: own process group, output streamed, timeout, always reaped."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ick.errors import ActionError

CHUNK = 64 * 1024
CLONE_NEWPID = 0x20000000
KILL_GRACE = 5.0  # seconds between SIGTERM and SIGKILL on a timeout
DRAIN_LIMIT = 2.0  # seconds to read what is left in the pipe after the group is gone


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    timed_out: bool
    duration: float
    pid: int


class _Child:
    """A started child, awaited through its pidfd (no child watcher, no thread)."""

    def __init__(self, popen: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.popen = popen
        self.pid = popen.pid
        self._loop = loop
        self._exited: asyncio.Future[None] = loop.create_future()
        self._pidfd = os.pidfd_open(popen.pid)
        loop.add_reader(self._pidfd, self._on_exit)

    def _on_exit(self) -> None:
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self.popen.wait()  # it has exited: this reaps it at once
        self._exited.set_result(None)

    async def wait(self) -> None:
        """Until the child has exited and is reaped (cancelling the wait leaves it be)."""
        await asyncio.shield(self._exited)

    def returncode(self) -> int:
        code = self.popen.returncode
        assert code is not None
        return code


@contextlib.contextmanager
def own_pid_namespace() -> Iterator[None]:
    """The next child this thread starts is PID 1 of a new PID namespace.

    When PID 1 ends, the kernel kills whatever is left in its namespace, however it detached
    (setsid, a double fork, env -i), so nothing an action starts outlives it. Only the
    calling thread's next children are affected, and the thread's own namespace for children
    is restored before this returns; nothing may await in between (another task's child
    would land in the new namespace). A PID 1 ignores signals it has no handler for, so the
    shell and python preludes (ick.runners.shell, ick.runners.python) handle SIGTERM.
    """
    unshare, setns = _namespace_calls()
    own = os.open("/proc/thread-self/ns/pid_for_children", os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            unshare(CLONE_NEWPID)
        except OSError as e:
            raise ActionError(
                "where: host runs each action in a PID namespace of its own, which this worker "
                f"cannot make ({e.strerror}): run ick as root") from e
        try:
            yield
        finally:
            setns(own, CLONE_NEWPID)
    finally:
        os.close(own)


@functools.cache
def _namespace_calls() -> tuple[Callable[[int], None], Callable[[int, int], None]]:
    """os.unshare and os.setns (Python 3.12), or the same calls of libc through ctypes."""
    unshare, setns = getattr(os, "unshare", None), getattr(os, "setns", None)
    if unshare is not None and setns is not None:
        return unshare, setns
    import ctypes  # only where a host action runs: the daemon starts without it

    libc = ctypes.CDLL(None, use_errno=True)

    def check(result: int) -> None:
        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))

    return (lambda flags: check(libc.unshare(flags)),
            lambda fd, flags: check(libc.setns(fd, flags)))


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
    pid_namespace: bool = False,
) -> ProcessResult:
    """Run argv in a new session, feeding its stdout and stderr (merged) to `output`.

    On timeout the group gets SIGTERM, then SIGKILL; on cancellation `stop_signal`, by default
    SIGKILL at once (a child that must stop its own children, like systemd-nspawn its
    container, asks for SIGTERM: SIGKILL follows after KILL_GRACE). Either way the child is
    reaped before this returns or raises, and no member of its process group outlives it.
    With `pid_namespace`, the child is PID 1 of a PID namespace of its own (see
    own_pid_namespace): whatever it leaves behind dies with it, even what left the group.
    """
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    # Our own pipe, not asyncio's: asyncio's wait() also waits for its pipes to close, so a
    # process that escaped the group with the pipe open would hang the action forever.
    rfd, wfd = os.pipe()
    inode = os.fstat(rfd).st_ino
    try:
        with own_pid_namespace() if pid_namespace else contextlib.nullcontext():
            popen = subprocess.Popen(
                list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=wfd,
                stderr=wfd, start_new_session=True,
            )
    except BaseException:
        os.close(rfd)
        raise
    finally:
        os.close(wfd)
    try:
        proc = _Child(popen, loop)
    except BaseException:  # no pidfd (out of descriptors): do not leave the child running
        kill_group(popen.pid)
        popen.wait()
        os.close(rfd)
        raise
    if on_start is not None:
        on_start(proc.pid)
    # The pipe is read by a callback of the event loop, straight into `output`: no transport,
    # stream or task of its own (a build's one action is mostly this function's overhead).
    eof: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(rfd, CHUNK)
            if data:
                output(data)
                return
        except BlockingIOError:
            return
        except BaseException as e:  # `output` failed: the action fails with it
            loop.remove_reader(rfd)
            if not eof.done():
                eof.set_exception(e)
            return
        loop.remove_reader(rfd)  # every writer has closed it: the end of the output
        if not eof.done():
            eof.set_result(None)

    try:
        os.set_blocking(rfd, False)
        loop.add_reader(rfd, readable)
    except BaseException:
        kill_group(proc.pid)
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        os.close(rfd)
        raise
    timed_out = False
    try:
        try:
            async with asyncio.timeout(timeout):
                await proc.wait()
        except TimeoutError:
            timed_out = True
            kill_group(proc.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(KILL_GRACE):
                    await proc.wait()
            except TimeoutError:
                kill_group(proc.pid)
                await proc.wait()
        # The leader is gone; whatever it left behind in its group goes too, so the pipe closes.
        kill_group(proc.pid)
        try:
            async with asyncio.timeout(DRAIN_LIMIT):
                await asyncio.shield(eof)
        except TimeoutError:
            # Someone left the group (setsid, a daemon) and still holds the pipe.
            if kill_pipe_holders(inode):
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(DRAIN_LIMIT):
                        await asyncio.shield(eof)
    except BaseException:
        if stop_signal != signal.SIGKILL:
            kill_group(proc.pid, stop_signal)
            with contextlib.suppress(BaseException):
                async with asyncio.timeout(KILL_GRACE):
                    await proc.wait()
        kill_group(proc.pid)
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    finally:
        # A process that left the group may still hold the pipe: stop reading it anyway.
        loop.remove_reader(rfd)
        os.close(rfd)
        if eof.done() and not eof.cancelled():
            eof.exception()  # retrieved: an `output` failure raised above, or not at all
    return ProcessResult(proc.returncode(), timed_out, time.monotonic() - started, proc.pid)
