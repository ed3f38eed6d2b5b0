"""Shared fixtures: a real daemon subprocess per test, the daemon in this process, and a real
database."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.daemon import Daemon
from tests.irc_server import Ngircd, ngircd_missing
from tests.matrix_server import Homeserver
from tests.remote import RemoteWorker

if TYPE_CHECKING:
    from ick.daemon import Daemon as Services
    from ick.storage.sqlite import SqliteDatabase


def mounts_under(root: Path) -> list[Path]:
    """Mount points below `root`, deepest first."""
    with open("/proc/self/mounts") as f:
        points = [Path(line.split()[1].replace("\\040", " ")) for line in f]
    return sorted((p for p in points if p != root and p.is_relative_to(root)),
                  key=lambda p: len(p.parts), reverse=True)


def unmount(points: list[Path]) -> None:
    for point in points:
        subprocess.run(["umount", "--lazy", str(point)], check=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Unmount what an earlier session left mounted under pytest's temporary folders (a test
    killed halfway, a worker killed with SIGKILL), or pytest fails deleting them. A folder a
    running session holds (its .lock) is left alone."""
    root = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
    if os.geteuid() != 0 or not root.is_dir():
        return

    def abandoned(point: Path) -> bool:
        top = root / point.relative_to(root).parts[0]
        return top.name.startswith("garbage-") or not (top / ".lock").exists()

    unmount([p for p in mounts_under(root) if abandoned(p)])


@pytest.fixture(scope="session", autouse=True)
def unmount_at_the_end(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Whatever this session's tests left mounted goes before pytest cleans up."""
    yield
    if os.geteuid() == 0:
        unmount(mounts_under(tmp_path_factory.getbasetemp()))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the `db` fixture keeps its file: open it again there (tests.databases.opened)
    to see what a restart keeps."""
    return tmp_path / "ick.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[SqliteDatabase]:
    """A real SQLite database at `db_path`, migrated, closed after the test."""
    from tests.databases import opened

    async with opened(db_path) as database:
        yield database


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """The daemon's services in this process (tests.services.in_process), over
    tmp_path/state, with no local workers; closed after the test."""
    from tests.services import in_process

    async with in_process(tmp_path / "state") as daemon:
        yield daemon


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Start daemons with settings (as in ick.yaml); all are stopped after the test."""
    started: list[Daemon] = []

    def start(settings: dict[str, Any] | None = None, workers: int = 2,
              name: str = "state", environ: dict[str, str] | None = None) -> Daemon:
        daemon = Daemon(tmp_path / name, settings, workers, environ).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()


@pytest.fixture
def daemon(start_daemon: Callable[..., Daemon]) -> Daemon:
    """A running `ick serve` with default settings and two workers."""
    return start_daemon()


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    """A real Matrix homeserver (Synapse, SQLite, no federation) with a bot user, a reader
    and a room both are in, started once for the whole run (about 3 s here); tests tell
    their messages apart by build id, or use rooms of their own."""
    import importlib.util

    from tests.matrix_server import start, stop

    if importlib.util.find_spec("synapse") is None:
        pytest.skip("matrix-synapse is not installed (pip install -e '.[test]')")
    proc, server = start(tmp_path_factory.mktemp("synapse"))
    yield server
    stop(proc)


@pytest.fixture
def ngircd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ngircd]:
    """A real IRC server (Debian's ngircd) on a free loopback port, of this test alone: a test
    may stop it and start it again."""
    missing = ngircd_missing()
    if missing is not None:
        pytest.skip(missing)
    server = Ngircd(tmp_path_factory.mktemp("ngircd")).start()
    yield server
    server.stop()


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """Mount a small tmpfs at STATE/SUBDIR of the default daemon's state dir, to fill up in a
    test: `small_tmpfs("logs", "1m")`. Mounting needs root; unmounted after the test."""
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a small tmpfs to fill up")
    mounted: list[Path] = []

    def mount(subdir: str, size: str) -> Path:
        path = tmp_path / "state" / subdir
        path.mkdir(parents=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       check=True)
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


@pytest.fixture
def path_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """path_without(*commands): make PATH (for the daemons and CLI started after) hold every
    command but these."""

    def hide(*missing: str) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for folder in os.environ["PATH"].split(os.pathsep):
            if not os.path.isdir(folder):
                continue
            for name in os.listdir(folder):
                link = bin_dir / name
                if name not in missing and not link.exists() and shutil.which(name):
                    link.symlink_to(os.path.join(folder, name))
        monkeypatch.setenv("PATH", str(bin_dir))

    return hide


@pytest.fixture(scope="session")
def bookworm_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bookworm minbase root file system as a .tar.zst, as `archive:` makes one.

    Built by the real debootstrap once per test session at most: it is cached across runs in
    /var/cache/ick-tests/bookworm-minbase.tar.zst (delete it to rebuild). Needs root; tests
    using it skip, with that reason, where the host is not root. Put it into a daemon with
    the `put_bookworm_systree` fixture.
    """
    from tests.bookworm import bookworm_tarball as build
    from tests.bookworm import root_problem

    problem = root_problem()
    if problem:
        pytest.skip(problem)
    return build(tmp_path_factory.mktemp("bookworm"))


@pytest.fixture(scope="session")
def arm64_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bookworm minbase tree for arm64, made on this host by debootstrap --arch=arm64 (its
    second stage emulated by qemu-user-static), once per test session at most: cached in
    /var/cache/ick-tests/bookworm-arm64-minbase.tar.zst. Skips where the host is not root or
    does not emulate arm64."""
    from ick.runners.arches import runnable_arches
    from tests.bookworm import bookworm_tarball as build
    from tests.bookworm import root_problem

    problem = root_problem()
    if problem:
        pytest.skip(problem)
    if "arm64" not in runnable_arches():
        pytest.skip("this host does not run arm64: install qemu-user-static and "
                    "binfmt-support, and mount binfmt_misc")
    return build(tmp_path_factory.mktemp("bookworm-arm64"), arch="arm64")


@pytest.fixture(scope="session")
def put_bookworm_systree(bookworm_tarball: Path) -> Callable[..., None]:
    """put(daemon, name="bookworm_systree"): `ick artifacts put` the bookworm tree into it."""

    def put(daemon: Daemon, name: str = "bookworm_systree") -> None:
        result = daemon.ick("artifacts", "put", name, str(bookworm_tarball))
        assert result.returncode == 0, result.stderr

    return put


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., RemoteWorker]]:
    """start(daemon, name, *args): a started `ick worker`; all are stopped after the test,
    with whatever their actions or containers left running or mounted."""
    from ick.runners.mounts import mounts_under as mounted
    from ick.runners.mounts import umount
    from ick.worker.leftovers import kill_rooted_under

    started: list[RemoteWorker] = []

    def start(daemon: Daemon, name: str, *args: str) -> RemoteWorker:
        worker = RemoteWorker(daemon, tmp_path, name, *args).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc is not None and worker.proc.poll() is None:
            worker.stop(signal.SIGKILL)
    for worker in started:
        kill_rooted_under(worker.state)
    for point in mounted(tmp_path):
        with contextlib.suppress(OSError):
            umount(Path(point))
