"""ick's one way to run a child (ick/runners/process.py): output, exit codes, timeouts and
cancellation, with real processes; nothing it starts outlives it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ick.runners.process import run_process
from tests.procs import alive, wait_dead

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


async def run(script: str, tmp_path: Path, timeout: float | None = None,
              started: list[int] | None = None) -> tuple[int, bool, bytes]:
    chunks: list[bytes] = []
    result = await run_process(["bash", "-c", script], cwd=tmp_path, env=ENV,
                               output=chunks.append, timeout=timeout,
                               on_start=None if started is None else started.append)
    return result.exit_code, result.timed_out, b"".join(chunks)


async def test_stdout_and_stderr_arrive_merged_and_in_order(tmp_path: Path) -> None:
    code, timed_out, out = await run("echo one; echo two >&2; echo three", tmp_path)
    assert (code, timed_out, out) == (0, False, b"one\ntwo\nthree\n")


@pytest.mark.parametrize(("script", "code"), [("exit 7", 7), ("kill -TERM $$", -15),
                                             ("true", 0)])
async def test_exit_status(tmp_path: Path, script: str, code: int) -> None:
    assert (await run(script, tmp_path))[0] == code


async def test_the_child_gets_only_the_environment_and_folder_it_is_given(
        tmp_path: Path) -> None:
    _, _, out = await run("pwd; env | sort | grep -v '^_=\\|^SHLVL=\\|^PWD=\\|^OLDPWD='",
                          tmp_path)
    assert out.decode().splitlines() == [str(tmp_path), f"PATH={ENV['PATH']}"]


async def test_a_timeout_stops_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code, timed_out, _ = await run(f"sleep 300 & echo $! > {pidfile}; wait", tmp_path,
                                   timeout=0.5)
    assert timed_out and code < 0
    assert wait_dead(int(pidfile.read_text()), timeout=10)


async def test_cancelling_reaps_the_child_and_its_children(tmp_path: Path) -> None:
    started: list[int] = []
    pidfile = tmp_path / "pid"
    task = asyncio.ensure_future(run(f"sleep 300 & echo $! > {pidfile}; wait", tmp_path,
                                     started=started))
    async with asyncio.timeout(10):
        while not (pidfile.exists() and pidfile.read_text().strip()):
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alive(started[0])  # reaped: not even a zombie
    assert wait_dead(int(pidfile.read_text()), timeout=10)


async def test_a_child_that_escaped_the_group_with_the_pipe_does_not_hang_the_action(
        tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    async with asyncio.timeout(30):
        code, _, out = await run(f"setsid sleep 300 & echo $! > {pidfile}; echo done",
                                 tmp_path)
    assert code == 0 and out == b"done\n"
    assert wait_dead(int(pidfile.read_text()), timeout=10)


async def test_with_pid_namespace_the_child_is_pid_1_and_the_next_child_is_not(
        tmp_path: Path) -> None:
    chunks: list[bytes] = []
    result = await run_process(["bash", "-c", "echo $$"], cwd=tmp_path, env=ENV,
                               output=chunks.append, pid_namespace=True)
    assert (result.exit_code, b"".join(chunks)) == (0, b"1\n")
    # The daemon's thread is back in its own namespace: a plain child is an ordinary process
    # of it, and sees the same PID namespace as the test.
    _, _, out = await run("echo $$; readlink /proc/self/ns/pid", tmp_path)
    pid, namespace = out.decode().split()
    assert pid != "1" and namespace == os.readlink("/proc/self/ns/pid")
    assert os.readlink("/proc/thread-self/ns/pid_for_children") == namespace
