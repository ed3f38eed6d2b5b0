"""The artifact store on a real SQLite file: names, blobs, replacing, collecting, crashes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ick.errors import InputError
from ick.storage.artifacts import ArtifactStore, artifact_name_problem
from ick.storage.sqlite import SqliteDatabase


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ArtifactStore]:
    db = await SqliteDatabase.open(tmp_path / "ick.db")
    store = ArtifactStore(db, tmp_path / "artifacts")
    await store.open()
    yield store
    await db.close()


def blobs(store: ArtifactStore) -> list[str]:
    return sorted(p.name for p in store.blobs.glob("*/*"))


@pytest.mark.parametrize(("name", "problem"), [
    ("", "an artifact name must not be empty"),
    ("a\0b", "bad artifact name 'a\\x00b': it contains a NUL byte"),
    ("/etc/passwd", "bad artifact name '/etc/passwd': it must not be an absolute path"),
    ("../x", "bad artifact name '../x': '.' and '..' are not allowed as parts"),
    ("a/../../x", "bad artifact name 'a/../../x': '.' and '..' are not allowed as parts"),
    ("a//b", "bad artifact name 'a//b': it has an empty part ('//' or a trailing '/')"),
    ("a/", "bad artifact name 'a/': it has an empty part ('//' or a trailing '/')"),
    ("a\nb", "bad artifact name 'a\\nb': it contains a control character"),
])
def test_bad_names_say_why(name: str, problem: str) -> None:
    assert artifact_name_problem(name) == problem


@pytest.mark.parametrize("name", ["bookworm_systree", "liw/site.tar", "a..b", "x.tar.zst"])
def test_good_names(name: str) -> None:
    assert artifact_name_problem(name) is None


async def test_put_get_list_and_stream_in_many_chunks(store: ArtifactStore) -> None:
    parts = [bytes([i]) * 300_000 for i in range(10)]
    artifact, created = await store.put("liw/site.tar", chunks(*parts))
    data = b"".join(parts)
    assert created
    assert artifact.digest == sha(data)
    assert artifact.size == len(data)
    assert store.blob_path(artifact.digest).read_bytes() == data
    assert [a.name for a in await store.list()] == ["liw/site.tar"]
    assert await store.get("liw/site.tar") == artifact
    assert list(store.tmp.iterdir()) == []


async def test_same_bytes_are_stored_once(store: ArtifactStore) -> None:
    await store.put("a", chunks(b"same"))
    await store.put("b", chunks(b"same"))
    assert blobs(store) == [sha(b"same")[7:]]
    assert await store.delete("a")
    assert blobs(store) == [sha(b"same")[7:]]
    assert await store.delete("b")
    assert blobs(store) == []
    assert not await store.delete("b")


async def test_replacing_drops_the_old_blob_and_tells_listeners(store: ArtifactStore) -> None:
    dropped: list[str] = []

    async def listener(digest: str) -> None:
        dropped.append(digest)

    store.watch_drops(listener)
    _, created = await store.put("x", chunks(b"one"))
    assert created
    _, created = await store.put("x", chunks(b"two"))
    assert not created
    assert blobs(store) == [sha(b"two")[7:]]
    assert dropped == [sha(b"one")]


async def test_a_wrong_digest_stores_nothing(store: ArtifactStore) -> None:
    await store.put("x", chunks(b"old"))
    with pytest.raises(InputError) as e:
        await store.put("x", chunks(b"new"), expected=sha(b"other"))
    assert e.value.message == (f"artifact 'x' not stored: its digest is {sha(b'new')}, "
                               f"not {sha(b'other')} as the upload said")
    assert (await store.get("x")) is not None
    assert blobs(store) == [sha(b"old")[7:]]
    assert list(store.tmp.iterdir()) == []


async def test_a_malformed_digest_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(InputError) as e:
        await store.put("x", chunks(b"data"), expected="md5:abc")
    assert e.value.message == "bad digest 'md5:abc': expected sha256:<64 lowercase hex digits>"


async def test_an_upload_cut_short_leaves_nothing(store: ArtifactStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 2_000_000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.put("x", broken())
    assert await store.get("x") is None
    assert list(store.tmp.iterdir()) == []
    assert blobs(store) == []


async def test_open_sweeps_what_a_crash_left(tmp_path: Path, store: ArtifactStore) -> None:
    await store.put("kept", chunks(b"kept"))
    (store.tmp / "upload-half").write_bytes(b"half an upload")
    orphan = store.blob_path(sha(b"orphan"))
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"orphan")  # renamed into place, but the crash came before the table
    again = ArtifactStore(store.db, store.root)
    await again.open()
    assert list(store.tmp.iterdir()) == []
    assert blobs(store) == [sha(b"kept")[7:]]


async def test_put_file_moves_a_local_file_in(store: ArtifactStore) -> None:
    path = store.temp_path(".tar.zst")
    path.write_bytes(b"archive")
    artifact, _ = await store.put_file("w", path)
    assert not path.exists()
    assert artifact.digest == sha(b"archive")
    assert store.blob_path(artifact.digest).read_bytes() == b"archive"
