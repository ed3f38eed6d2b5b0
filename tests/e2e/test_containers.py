"""End to end: systrees from artifacts, and actions in systemd-nspawn containers and chroots.

One daemon for the module, with the session's bookworm tree (tests/conftest.py) stored in it
as bookworm_systree. Everything here runs as root; elsewhere it skips and says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.polling import wait_for

PROJECTS = """
projects:
  - project: hello
    parameters: {systree_name: bookworm_systree, greeting: hi}
    pipelines: [prepare_container, hello]
  - project: net
    parameters: {systree_name: bookworm_systree, port: none}
    pipelines: [prepare_container, net]
  - project: writer
    parameters: {systree_name: bookworm_systree}
    pipelines: [prepare_container, writer]
  - project: reader
    parameters: {systree_name: bookworm_systree}
    pipelines: [prepare_container, reader]
  - project: sleeper
    parameters: {systree_name: bookworm_systree, marker: none}
    pipelines: [prepare_container, sleeper]
  - project: sleeper_timeout
    parameters: {systree_name: bookworm_systree, marker: none}
    pipelines: [prepare_container, sleeper_timeout]
  - project: chroot
    parameters: {workspace_artifact: bookworm_systree, marker: none}
    pipelines: [prepare_workspace, chroot]
  - project: chroot_ends
    parameters: {workspace_artifact: bookworm_systree, marker: none}
    pipelines: [prepare_workspace, chroot_ends]
  - project: no_systree
    pipelines: [hello]
    parameters: {greeting: hi}
  - project: missing_systree
    parameters: {systree_name: no_such_systree, greeting: hi}
    pipelines: [prepare_container, hello]
  - project: respin
    parameters: {systree_name: bookworm_systree, artifact_name: respun_systree}
    pipelines: [prepare_container, respin]
  - project: missing_workspace
    parameters: {workspace_artifact: no_such_artifact}
    pipelines: [prepare_workspace]
  - project: envs
    parameters: {systree_name: bookworm_systree, workspace_artifact: bookworm_systree}
    pipelines: [prepare_workspace, prepare_container, envs]
pipelines:
  - pipeline: envs
    actions:
      - shell: |
          echo "host: $GREETING|$PATH|$ICK_EVENT $ICK_GIT_REF" \\
              "[$ICK_GIT_BRANCH] $ICK_GIT_TAG $ICK_GIT_COMMIT"
        where: host
        env: {GREETING: '$HOME `id` "q"', PATH: /usr/bin:/bin}
      - shell: |
          echo "chroot: $GREETING|$PATH|$ICK_EVENT $ICK_GIT_REF" \\
              "[$ICK_GIT_BRANCH] $ICK_GIT_TAG $ICK_GIT_COMMIT"
        where: chroot
        env: {GREETING: '$HOME `id` "q"', PATH: /usr/bin:/bin}
      - shell: |
          echo "container: $GREETING|$PATH|$ICK_EVENT $ICK_GIT_REF" \\
              "[$ICK_GIT_BRANCH] $ICK_GIT_TAG $ICK_GIT_COMMIT"
        where: container
        env: {GREETING: '$HOME `id` "q"', PATH: /usr/bin:/bin}
  - pipeline: prepare_container
    actions:
      - action: populate_systree
        where: host
  - pipeline: prepare_workspace
    actions:
      - action: populate_workspace
        where: host
  - pipeline: hello
    parameters: [greeting]
    actions:
      - shell: |
          echo "params: $(params)"
          echo "pwd: $(pwd)"
          echo "ids: $ICK_BUILD_ID $ICK_PROJECT $BUILD_NUMBER $ICK_WORKSPACE $ICK_PARAMS"
          echo "os: $(. /etc/os-release; echo $VERSION_CODENAME)"
          echo made > /workspace/made-inside
        where: container
      - shell: |
          echo "host sees: $(cat made-inside)"
        where: host
  - pipeline: net
    actions:
      - shell: |
          echo "private: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | xargs)"
        where: container
      - shell: |
          [[ $(params) =~ \\"port\\":\\ \\"([0-9]+)\\" ]]
          exec 3<>"/dev/tcp/127.0.0.1/${BASH_REMATCH[1]}" && echo "reached the daemon"
        where: container
        network: true
  - pipeline: writer
    actions:
      - shell: |
          echo mine > /etc/ick-marker
          rm /usr/bin/tail
          echo wrote
          sleep 60
        where: container
  - pipeline: reader
    actions:
      - shell: |
          test ! -e /etc/ick-marker
          test -x /usr/bin/tail
          echo clean
        where: container
  - pipeline: sleeper
    actions:
      - shell: |
SLEEP
        where: container
  - pipeline: respin
    actions:
      - shell: echo respun > /etc/ick-respun
        where: container
      - archive: systree
        where: host
  - pipeline: sleeper_timeout
    actions:
      - shell: |
SLEEP
        where: container
        timeout: 2
  - pipeline: chroot_ends
    actions:
      - shell: |
          [[ $(params) =~ \\"marker\\":\\ \\"([a-z0-9-]+)\\" ]]
          m=${BASH_REMATCH[1]}
          setsid env -i /bin/bash -c "touch /tmp/$m-1; exec -a $m-envi /bin/sleep 1000" \\
              >/dev/null 2>&1 </dev/null &
          ( ( /bin/bash -c "touch /tmp/$m-2; exec -a $m-double /bin/sleep 1000" & ) & )
          while [ ! -e /tmp/$m-1 ] || [ ! -e /tmp/$m-2 ]; do sleep 0.01; done
          echo started
        where: chroot
  - pipeline: chroot
    actions:
      - shell: |
          test -r /proc/self/status && test -d /sys/kernel && test -c /dev/null
          echo "chroot: $(params) $ICK_WORKSPACE $(pwd)"
SLEEP
        where: chroot
"""
# Two processes named after the build's `marker` parameter, one in a session of its own.
SLEEP = """\
          [[ $(params) =~ \\"marker\\":\\ \\"([a-z0-9-]+)\\" ]]
          setsid bash -c "exec -a ${BASH_REMATCH[1]}-detached sleep 1000" &
          echo started
          exec -a "${BASH_REMATCH[1]}-main" sleep 1000"""
PROJECTS = PROJECTS.replace("SLEEP", SLEEP)


def mounts_under(path: Path) -> list[str]:
    with open("/proc/mounts") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p.startswith(str(path) + "/")]


def view_mounts(daemon: Daemon) -> list[str]:
    return mounts_under(daemon.state_dir / "systrees" / "views")


def processes_named(prefix: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if cmdline.startswith(prefix.encode()) and state != "Z":
            found.append(int(pid))
    return found


def action_messages(build: dict[str, object]) -> list[object]:
    actions = build["actions"]
    assert isinstance(actions, list)
    return [a["message"] for a in actions]


@pytest.fixture(scope="module")
def ctr(tmp_path_factory: pytest.TempPathFactory,
        put_bookworm_systree: Callable[..., None]) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("containers") / "state").start()
    try:
        put_bookworm_systree(daemon)
        daemon.apply(PROJECTS)
        yield daemon
    finally:
        daemon.stop()
    assert mounts_under(daemon.state_dir) == []


def test_a_container_action_runs_in_the_systree_with_the_workspace(ctr: Daemon) -> None:
    build = ctr.wait_build(ctr.trigger("hello"))
    log = ctr.wait_log(build["id"], "host sees")
    assert build["state"] == "succeeded", log
    number = build["number"]
    assert ('params: {"systree_name": "bookworm_systree", "greeting": "hi", '
            '"ick_trigger": "api", "ick_event": "manual"}') in log
    assert "pwd: /workspace\n" in log
    assert f"ids: {build['id']} hello {number} /workspace /run/ick/params.json\n" in log
    assert "os: bookworm\n" in log
    assert "host sees: made\n" in log
    populate = build["actions"][0]
    assert populate["systree"] == "bookworm_systree"
    assert populate["digest"].startswith("sha256:")
    wait_for(lambda: view_mounts(ctr) == [], "unmounted")
    # The tree was unpacked once: the next build finds it cached.
    again = ctr.wait_build(ctr.trigger("hello"))
    assert again["state"] == "succeeded"
    assert again["actions"][0]["cached"] is True
    assert len(list((ctr.state_dir / "systrees" / "cache").iterdir())) == 1


def test_env_reaches_host_chroot_and_container_actions_as_written(ctr: Daemon) -> None:
    # ... and so do the build's event and git facts (ICK_EVENT, ICK_GIT_*)
    commit = "f" * 40
    build = ctr.wait_build(ctr.trigger("envs", "git_ref=refs/tags/v9", f"git_commit={commit}"))
    log = ctr.wait_log(build["id"], "container:")
    assert build["state"] == "succeeded", log
    for where in ("host", "chroot", "container"):
        assert f'{where}: $HOME `id` "q"|/usr/bin:/bin|manual refs/tags/v9 [] v9 {commit}\n' in log


def test_the_network_is_private_unless_the_action_asks(ctr: Daemon) -> None:
    port = ctr.url.rsplit(":", 1)[1]
    build = ctr.wait_build(ctr.trigger("net", f"port={port}"))
    log = ctr.wait_log(build["id"], "reached")
    assert build["state"] == "succeeded", log
    assert "private: lo\n" in log
    assert "reached the daemon\n" in log


def test_builds_cannot_change_the_cached_tree_or_each_other(ctr: Daemon) -> None:
    writer = ctr.trigger("writer")
    ctr.wait_log(writer, "wrote")
    reader = ctr.wait_build(ctr.trigger("reader"))
    assert reader["state"] == "succeeded", ctr.wait_log(reader["id"], "")
    assert "clean" in ctr.wait_log(reader["id"], "clean")
    (tree,) = (ctr.state_dir / "systrees" / "cache").iterdir()
    assert not (tree / "etc" / "ick-marker").exists()
    assert (tree / "usr" / "bin" / "tail").exists()
    ctr.ick("cancel", str(writer))
    assert ctr.wait_build(writer)["state"] == "cancelled"


def run_and_stop_sleeper(ctr: Daemon, project: str, marker: str, stop: Callable[[int], object]
                         ) -> dict[str, object]:
    build_id = ctr.trigger(project, f"marker={marker}")
    ctr.wait_log(build_id, "started")
    wait_for(lambda: len(processes_named(marker)) == 2, "sleeping twice")
    stop(build_id)
    build = ctr.wait_build(build_id)
    wait_for(lambda: processes_named(marker) == [], "gone: no process of the build is left")
    wait_for(lambda: view_mounts(ctr) == [], "unmounted")
    return build


def test_cancelling_kills_the_whole_container(ctr: Daemon) -> None:
    build = run_and_stop_sleeper(ctr, "sleeper", "ick-test-cancel",
                                 lambda b: ctr.ick("cancel", str(b)))
    assert build["state"] == "cancelled"


def test_a_timeout_kills_the_whole_container(ctr: Daemon) -> None:
    build = run_and_stop_sleeper(ctr, "sleeper_timeout", "ick-test-timeout", lambda b: None)
    assert build["state"] == "failed"
    assert action_messages(build) == [None, "timed out after 2 s"]


def test_a_chroot_has_proc_sys_dev_and_dies_whole(ctr: Daemon) -> None:
    build = run_and_stop_sleeper(ctr, "chroot", "ick-test-chroot",
                                 lambda b: ctr.ick("cancel", str(b)))
    log = ctr.wait_log(int(str(build["id"])), "chroot:")
    params = ('{"workspace_artifact": "bookworm_systree", "marker": "ick-test-chroot", '
              '"ick_trigger": "api", "ick_event": "manual"}')
    assert f"chroot: {params} / /\n" in log
    assert build["state"] == "cancelled"
    assert mounts_under(ctr.state_dir / "workspaces") == []


def test_nothing_a_chroot_action_detaches_outlives_it(ctr: Daemon) -> None:
    build = ctr.wait_build(ctr.trigger("chroot_ends", "marker=ick-test-chroot-ends"))
    assert build["state"] == "succeeded"
    assert "started\n" in ctr.wait_log(int(str(build["id"])), "started")
    wait_for(lambda: processes_named("ick-test-chroot-ends") == [],
             "gone: env -i and a double fork died with the action")


def test_a_container_action_without_its_systree_fails_saying_why(ctr: Daemon) -> None:
    for project, message in [
        ("no_systree", "where: container needs a systree: put `action: populate_systree` "
                       "(with systree_name) before this action"),
        ("missing_systree", "systree artifact 'no_such_systree' does not exist: build and "
                            "archive it first, or fix systree_name"),
    ]:
        build = ctr.wait_build(ctr.trigger(project))
        assert build["state"] == "failed"
        assert action_messages(build)[0] == message


def test_a_missing_workspace_artifact_is_not_an_error(ctr: Daemon) -> None:
    build = ctr.wait_build(ctr.trigger("missing_workspace"))
    assert build["state"] == "succeeded"
    log = ctr.wait_log(build["id"], "no artifact")
    assert "ick: no artifact no_such_artifact: the workspace stays as it is\n" in log


def test_a_cached_tree_goes_when_its_artifact_is_replaced_or_removed(
        ctr: Daemon, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    tarballs = []
    for version in ("one", "two"):
        (tree / "etc" / "version").write_text(version)
        tarball = tmp_path / f"{version}.tar.zst"
        assert os.system(f"tar -C {tree} -I zstd -cf {tarball} .") == 0
        tarballs.append(tarball)
    cache = ctr.state_dir / "systrees" / "cache"
    ctr.apply("projects:\n  - project: tiny\n    parameters: {systree_name: tiny_tree}\n"
              "    pipelines: [prepare_container]\n", name="tiny.ick")

    def cached_digest() -> str:
        assert ctr.ick("artifacts", "put", "tiny_tree", str(tarballs[0])).returncode == 0
        build = ctr.wait_build(ctr.trigger("tiny"))
        assert build["state"] == "succeeded"
        digest = str(build["actions"][0]["digest"])
        assert (cache / digest[7:] / "etc" / "version").read_text() == "one"
        return digest

    first = cached_digest()
    assert ctr.ick("artifacts", "put", "tiny_tree", str(tarballs[1])).returncode == 0
    wait_for(lambda: not (cache / first[7:]).exists(), "gone after the artifact was replaced")
    again = cached_digest()
    assert ctr.ick("artifacts", "rm", "tiny_tree").returncode == 0
    wait_for(lambda: not (cache / again[7:]).exists(), "gone after the artifact was removed")


def test_archive_systree_stores_the_builds_view(ctr: Daemon, tmp_path: Path) -> None:
    build = ctr.wait_build(ctr.trigger("respin"))
    assert build["state"] == "succeeded", ctr.wait_log(build["id"], "")
    assert build["actions"][2]["artifact"] == "respun_systree"
    tarball = tmp_path / "respun.tar.zst"
    assert ctr.ick("artifacts", "get", "respun_systree", "-o", str(tarball)).returncode == 0
    listing = subprocess.run(["tar", "-I", "zstd", "-xOf", str(tarball), "./etc/ick-respun",
                              "./etc/debian_version"], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    lines = sorted(listing.stdout.splitlines())  # in the archive's order
    assert lines[0].startswith("12.")
    assert lines[1:] == ["respun"]
    assert ctr.ick("artifacts", "rm", "respun_systree").returncode == 0


def test_a_daemon_killed_mid_build_leaves_nothing_running_or_mounted(
        start_daemon: Callable[..., Daemon], put_bookworm_systree: Callable[..., None]) -> None:
    daemon = start_daemon()
    put_bookworm_systree(daemon)
    daemon.apply(PROJECTS)
    marker = "ick-test-crash"
    build_id = daemon.trigger("sleeper", f"marker={marker}")
    daemon.wait_log(build_id, "started")
    wait_for(lambda: len(processes_named(marker)) == 2, "sleeping twice")
    assert view_mounts(daemon) != []
    daemon.stop(signal.SIGKILL)
    again = start_daemon()  # the same state directory: it cleans up after the dead one
    assert again.wait_build(build_id)["state"] == "interrupted"
    wait_for(lambda: processes_named(marker) == [], "gone: no process of the build is left")
    assert mounts_under(again.state_dir) == []
    again.stop()
