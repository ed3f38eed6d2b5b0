"""Every path an action names stays inside its workspace, on the real file system: globs,
debs, changes, git_dir, rsync_src and the members of an unpacked archive."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from ick.errors import ActionError
from ick.runners.confine import confine, confined_glob
from tests.daemon import Daemon
from tests.gitrepos import Repo, git

OUT = "leads out of the workspace (through a symbolic link)"


def test_confine_resolves_links_on_the_way_and_at_the_end(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "in").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("s")
    (ws / "dir-out").symlink_to(outside)
    (ws / "file-out").symlink_to(outside / "secret")
    (ws / "in" / "up").symlink_to("../..")
    (ws / "ok").symlink_to("in")
    assert confine(ws, "ok", "k") == (ws / "in").resolve()
    assert confine(ws, "file-out", "k", follow=False) == ws.resolve() / "file-out"
    for rel in ("dir-out/secret", "file-out", "in/up/outside", "dir-out"):
        with pytest.raises(ActionError) as e:
            confine(ws, rel, "k")
        assert e.value.message == f"k: {rel} {OUT}"
    assert confined_glob(ws, ["in", "ok"], "k") == ["in", "ok"]
    with pytest.raises(ActionError) as e:
        confined_glob(ws, ["*/secret"], "k")
    assert e.value.message == f"k: dir-out/secret {OUT}"


def pipeline(name: str, actions: list[dict[str, object]], **parameters: object) -> str:
    return yaml.safe_dump({
        "projects": [{"project": name, "pipelines": [name], "parameters": parameters}],
        "pipelines": [{"pipeline": name, "actions": actions}],
    })


def failed_message(daemon: Daemon, project: str) -> tuple[dict[str, object], str]:
    build = daemon.wait_build(daemon.trigger(project))
    assert build["state"] == "failed", build
    failed = [a for a in build["actions"] if a["state"] == "failed"]
    return build, str(failed[0]["message"])


@pytest.mark.parametrize(("glob", "leak"), [
    ("src/dist/*/*", "src/dist/leak/s1"),
    ("src/etclink/shadow", "src/etclink/shadow"),
])
def test_archive_globs_do_not_follow_a_repository_s_links_out(
    daemon: Daemon, tmp_path: Path, glob: str, leak: str,
) -> None:
    repo = Repo(tmp_path, "links")
    (repo.work / "dist").symlink_to(daemon.state_dir / "secrets")
    (repo.work / "etclink").symlink_to("/etc")
    repo.commit("links", {"README": "links\n"})
    repo.push()
    daemon.apply(pipeline("leak", [
        {"action": "git", "where": "host", "git_dir": "src"},
        {"archive": "workspace", "where": "host", "globs": [glob], "artifact_name": "loot"},
    ], git_url=str(repo.bare)))
    assert daemon.ick("secret", "set", "leak", "s1", input="the secret value").returncode == 0
    build, message = failed_message(daemon, "leak")
    assert message == f"globs: {leak} {OUT}"
    assert daemon.api("GET", "/artifacts/loot")[0] == 404
    log = (daemon.state_dir / "logs" / f"{build['id']}.log").read_bytes()
    assert b"the secret value" not in log


@pytest.mark.parametrize(("action", "message"), [
    ({"action": "apt_publish", "where": "host", "distribution": "bookworm",
      "debs": ["out/*.deb"]}, f"debs: out/x.deb {OUT}"),
    ({"action": "dput", "where": "host", "dput_target": "ftp-master", "changes": "x.changes"},
     f"changes: x.changes {OUT}"),
    ({"action": "rsync", "where": "host", "rsync_src": "out", "rsync_target": "u@h:/srv",
      "ssh_key_secret": "k", "known_hosts_secret": "kh"}, f"rsync_src: out {OUT}"),
])
def test_debs_changes_and_rsync_src_do_not_follow_links_out(
    daemon: Daemon, tmp_path: Path, action: dict[str, object], message: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.deb").write_text("not a deb")
    (outside / "x.changes").write_text("not changes")
    daemon.apply(pipeline("links", [
        {"shell": f"ln -s {outside} out; ln -s {outside}/x.changes x.changes", "where": "host"},
        action,
    ]))
    for name in ("k", "kh"):
        daemon.ick("secret", "set", "links", name, input="a value of a secret")
    assert failed_message(daemon, "links")[1] == message


def evil_archive(path: Path, outside: Path) -> None:
    """A .tar.zst whose members try to write outside where it is unpacked."""
    plain = path.with_suffix("")
    with tarfile.open(plain, "w") as tar:
        def add(name: str, data: bytes = b"pwned", **attrs: object) -> None:
            info = tarfile.TarInfo(name)
            for key, value in attrs.items():
                setattr(info, key, value)
            if info.type == tarfile.REGTYPE:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
        add("esc", type=tarfile.SYMTYPE, linkname=str(outside))
        add("esc/through-a-link")
        add("rel", type=tarfile.SYMTYPE, linkname="../../../../../../../../" + str(outside))
        add("rel/through-a-relative-link")
        add("../../../../../../../../" + str(outside) + "/by-dots")
        add(str(outside) + "/absolute")
        add("hard", type=tarfile.LNKTYPE, linkname=str(outside / "victim"))
    subprocess.run(["zstd", "-q", "--rm", str(plain), "-o", str(path)], check=True)


def test_an_archive_s_members_cannot_write_or_link_outside_the_workspace(
    daemon: Daemon, tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("victim")
    archive = tmp_path / "evil.tar.zst"
    evil_archive(archive, outside)
    assert daemon.ick("artifacts", "put", "evil", str(archive)).returncode == 0
    daemon.apply(pipeline("unpack", [
        {"action": "populate_workspace", "where": "host", "workspace_artifact": "evil"},
    ]))
    assert failed_message(daemon, "unpack")[1] == (
        "could not unpack artifact 'evil': tar exit status 2")
    assert sorted(os.listdir(outside)) == ["victim"]
    assert (outside / "victim").read_text() == "victim"
    assert (outside / "victim").stat().st_nlink == 1


def test_git_dir_through_a_link_out_is_refused(daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(tmp_path, "r")
    repo.commit()
    repo.push()
    git("log", "-1", cwd=repo.work)
    daemon.apply(pipeline("gitout", [
        {"shell": f"ln -s {tmp_path} out", "where": "host"},
        {"action": "git", "where": "host", "git_dir": "out/clone"},
    ], git_url=str(repo.bare)))
    assert failed_message(daemon, "gitout")[1] == f"git_dir: out/clone {OUT}"
    assert not (tmp_path / "clone").exists()
