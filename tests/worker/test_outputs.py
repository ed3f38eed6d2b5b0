"""`outputs:` as a worker keeps them: the files the globs match (a folder brings its files),
confined to the workspace (a symbolic link out fails the action, naming the path), kept when
the action fails too, and the build's cap (`max_outputs_mb`) failing the action that passes
it. The daemon's services run in this process, with one local worker running host actions.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ick.daemon import Daemon
from ick.errors import ActionError
from ick.model import Build, Project
from ick.worker.outputs import named_by, output_files
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process


def test_output_files_are_the_matches_and_the_files_in_matched_folders(tmp_path: Path) -> None:
    (tmp_path / "dist" / "sub").mkdir(parents=True)
    (tmp_path / "dist" / "a.deb").write_bytes(b"a")
    (tmp_path / "dist" / "sub" / ".hidden").write_bytes(b"h")
    (tmp_path / "report.xml").write_bytes(b"r")
    (tmp_path / "notes.txt").write_bytes(b"n")
    (tmp_path / "inside").symlink_to("report.xml")
    found = output_files(tmp_path, ["dist", "*.xml", "inside", "missing/*"])
    assert [rel for rel, _ in found] == ["dist/a.deb", "dist/sub/.hidden", "inside",
                                         "report.xml"]
    assert dict(found)["inside"] == (tmp_path / "report.xml").resolve()


@pytest.mark.parametrize(("link", "pattern", "named"), [
    ("leak", "leak", "leak"),
    ("leak", "*", "leak"),
    ("dist/leak", "dist", "dist/leak"),
    ("dist/outside", "dist", "dist/outside"),
])
def test_a_symbolic_link_out_of_the_workspace_is_an_error_naming_it(
        tmp_path: Path, link: str, pattern: str, named: str) -> None:
    workspace = tmp_path / "ws"
    (workspace / "dist").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("s3cret")
    (workspace / link).symlink_to(secret / "key" if link.endswith("leak") else secret)
    with pytest.raises(ActionError) as caught:
        output_files(workspace, [pattern])
    assert caught.value.message == (
        f"outputs: {named} leads out of the workspace (through a symbolic link)")


def test_a_glob_with_dot_dot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ActionError) as caught:
        output_files(tmp_path / "ws", ["../secret"])
    assert "must stay inside the workspace" in caught.value.message


@pytest.mark.parametrize(("patterns", "path", "named"), [
    (["dist/*.deb"], "dist/a.deb", True),
    (["dist"], "dist/sub/a.deb", True),
    (["**/*.xml"], "a/b/c.xml", True),
    (["**/*.xml"], "c.xml", True),
    (["./out/*"], "out/x", True),
    (["*.deb"], "dist/a.deb", False),
    (["dist/*.deb"], "dist2/a.deb", False),
])
def test_named_by_matches_as_the_worker_finds_files(patterns: list[str], path: str,
                                                    named: bool) -> None:
    assert named_by(patterns, path) is named


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with (in_process(tmp_path / "state", workers=1, max_outputs_mb=1) as daemon,
                asyncio.TaskGroup() as group):
        running = group.create_task(daemon.workers[0].run())
        yield daemon
        running.cancel()


async def build_of(svc: Daemon, actions: list[dict[str, Any]]) -> Build:
    await svc.resources.put_pipeline(checked("p", [], actions))
    await svc.resources.put_project(Project("outs", {}, ["p"]))
    build = await svc.controller.trigger("outs", {})

    async def get() -> Build | None:
        return await svc.builds.get(build.id)

    ended = await apoll(get, lambda b: b is not None and b.state.finished, 60,
                        lambda b: f"build did not end: {b}")
    assert ended is not None
    return ended


def log_of(svc: Daemon, build: Build) -> str:
    return b"".join(p.read_bytes() for p in sorted(
        (svc.settings.state_dir / "logs").glob(f"{build.id}*.log"))).decode()


async def test_outputs_are_kept_when_the_action_succeeds_or_fails(svc: Daemon) -> None:
    build = await build_of(svc, [
        {"shell": "mkdir -p dist && printf deb > dist/a.deb && printf r > r.xml",
         "where": "host", "outputs": ["dist/*.deb"]},
        {"shell": "printf '<fail/>' > report.xml; exit 3", "where": "host",
         "outputs": ["report.xml", "nothing/*"]},
    ])
    assert build.state.value == "failed"
    assert [(a.state.value, a.message) for a in build.actions] == [
        ("succeeded", None), ("failed", "exit status 3")]
    kept = {o.path: svc.outputs.blob_path(o).read_bytes() for o in await svc.outputs.list(
        build.id)}
    assert kept == {"dist/a.deb": b"deb", "report.xml": b"<fail/>"}
    assert "ick: outputs: kept 1 file (3 bytes)\n" in log_of(svc, build)


async def test_a_symbolic_link_out_fails_the_action_naming_it(svc: Daemon) -> None:
    build = await build_of(svc, [
        {"shell": "ln -s /etc/passwd leak", "where": "host", "outputs": ["leak"]},
    ])
    assert [(a.state.value, a.message) for a in build.actions] == [
        ("failed", "outputs: leak leads out of the workspace (through a symbolic link)")]
    assert await svc.outputs.list(build.id) == []


async def test_passing_max_outputs_mb_fails_the_action_naming_the_cap(svc: Daemon) -> None:
    build = await build_of(svc, [
        {"shell": "head -c 700000 /dev/zero > a.bin", "where": "host", "outputs": ["a.bin"]},
        {"shell": "head -c 700000 /dev/zero > b.bin", "where": "host", "outputs": ["b.bin"]},
    ])
    assert [(a.state.value, a.message) for a in build.actions] == [
        ("succeeded", None),
        ("failed", f"output b.bin: build {build.id}'s outputs would pass max_outputs_mb "
                   "(1 MiB); not stored")]
    assert [o.path for o in await svc.outputs.list(build.id)] == ["a.bin"]
    assert list(svc.artifacts.tmp.iterdir()) == []


def test_a_file_name_the_daemon_cannot_keep_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "bad\nname").write_bytes(b"x")
    with pytest.raises(ActionError) as caught:
        output_files(tmp_path, ["*"])
    assert caught.value.message == (
        "outputs: bad output path 'bad\\nname': it contains a control character")
    (tmp_path / "bad\nname").unlink()
    os.close(os.open(os.fsencode(tmp_path) + b"/latin\xe9", os.O_CREAT | os.O_WRONLY))
    with pytest.raises(ActionError) as caught:
        output_files(tmp_path, ["*"])
    assert caught.value.message == (
        "outputs: 'latin\\udce9': a file name that is not UTF-8 cannot be kept")
