"""Builds' outputs on the real services: kept content-addressed in the artifact store's blobs,
listed per build, refused on a wrong digest or past the cap, and their blobs collected only
when nothing refers to them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ick.daemon import Daemon
from ick.errors import InputError
from ick.storage.outputs import OutputStore, output_path_problem
from tests.services import queue_one_build


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blobs(svc: Daemon) -> list[str]:
    return sorted(f"sha256:{p.name}" for p in svc.artifacts.blobs.glob("*/*"))


@pytest.fixture
async def svc(services: Daemon) -> Daemon:
    await queue_one_build(services)  # build 1
    return services


@pytest.mark.parametrize(("path", "problem"), [
    ("", "an output's path must not be empty"),
    ("/etc/passwd", "bad output path '/etc/passwd': it must be relative to the workspace"),
    ("a/../../x", "bad output path 'a/../../x': '.', '..' and empty parts are not allowed"),
    ("./x", "bad output path './x': '.', '..' and empty parts are not allowed"),
    ("a//b", "bad output path 'a//b': '.', '..' and empty parts are not allowed"),
    ("a\nb", "bad output path 'a\\nb': it contains a control character"),
])
def test_bad_paths_say_why(path: str, problem: str) -> None:
    assert output_path_problem(path) == problem


async def test_outputs_are_kept_listed_and_share_blobs(svc: Daemon, tmp_path: Path) -> None:
    store = svc.outputs
    report = tmp_path / "report.xml"
    report.write_bytes(b"<tests/>")
    kept = await store.put_file(1, 0, "out/report.xml", report)
    assert (kept.size, kept.digest) == (8, sha(b"<tests/>"))
    await store.put(1, 1, "out/report.xml", chunks(b"<tes", b"ts/>"), sha(b"<tests/>"))
    await store.put(1, 0, "a.deb", chunks(b"deb"))
    assert [o.to_json() for o in await store.list(1)] == [
        {"path": "a.deb", "size": 3, "digest": sha(b"deb"), "job": 0},
        {"path": "out/report.xml", "size": 8, "digest": sha(b"<tests/>"), "job": 0},
        {"path": "out/report.xml", "size": 8, "digest": sha(b"<tests/>"), "job": 1},
    ]
    assert blobs(svc) == sorted([sha(b"deb"), sha(b"<tests/>")])
    found = await store.get(1, "out/report.xml")
    assert found is not None and found.job == 0
    assert store.blob_path(found).read_bytes() == b"<tests/>"
    assert await store.get(1, "out/report.xml", job=2) is None
    assert report.exists()  # copied, not taken

    # Kept again at the same path: the old bytes go, as nothing else refers to them.
    await store.put(1, 0, "a.deb", chunks(b"deb2"))
    assert blobs(svc) == sorted([sha(b"deb2"), sha(b"<tests/>")])
    # An artifact with the same bytes as an output keeps the blob when the output goes.
    await svc.artifacts.put("same", chunks(b"deb2"))
    await store.put(1, 0, "a.deb", chunks(b"deb3"))
    assert sha(b"deb2") in blobs(svc)
    # A restart's sweep and a prune's keep what outputs refer to.
    assert await svc.artifacts.sweep_unreferenced() == []
    assert sha(b"deb3") in blobs(svc)


async def test_a_wrong_digest_keeps_nothing(svc: Daemon) -> None:
    with pytest.raises(InputError) as caught:
        await svc.outputs.put(1, 0, "a.deb", chunks(b"deb"), sha(b"other"))
    assert caught.value.message == (
        f"output a.deb not stored: its digest is {sha(b'deb')}, not {sha(b'other')} as the "
        "upload said")
    assert await svc.outputs.list(1) == []
    assert blobs(svc) == []
    assert list(svc.artifacts.tmp.iterdir()) == []


async def test_the_cap_counts_the_whole_build(svc: Daemon, tmp_path: Path) -> None:
    store = OutputStore(svc.db, svc.artifacts, max_bytes=10)
    await store.put(1, 0, "a", chunks(b"123456"))
    await store.put(1, 1, "b", chunks(b"1234"))
    big = tmp_path / "c"
    big.write_bytes(b"1")
    with pytest.raises(InputError) as caught:
        await store.put_file(1, 0, "c", big)
    assert caught.value.message == (
        "output c: build 1's outputs would pass max_outputs_mb (9.53674e-06 MiB); not stored")
    # The file read is closed as the copy stops, not left to the garbage collector.
    assert str(big) not in [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                            if os.path.exists(f"/proc/self/fd/{fd}")]
    with pytest.raises(InputError):
        await store.put(1, 0, "c", chunks(b"x" * 100_000))
    # Replacing an output counts its new size in place of the old one.
    await store.put(1, 0, "a", chunks(b"12"))
    await store.put(1, 0, "c", chunks(b"1234"))
    assert sum(o.size for o in await store.list(1)) == 10
    assert list(svc.artifacts.tmp.iterdir()) == []
