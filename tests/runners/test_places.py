"""Where commands run: host paths mapped to what a chroot or container sees, the nspawn
command line, and the one-line errors for missing host tools."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ick.runners.base import ActionContext, BuildScratch, HostSettings
from ick.runners.places import Bind, inside_env, nspawn_command, translate
from tests.daemon import Daemon


def context(tmp_path: Path, action: dict[str, object]) -> ActionContext:
    return ActionContext(
        build_id=17, project="hello", number=3, seq=2, action=action, parameters={"a": 1},
        workspace=tmp_path / "ws", run_dir=tmp_path / "run", output=lambda data: None,
        host=HostSettings(state_dir=tmp_path), scratch=BuildScratch(),
    )


def test_translate_maps_leading_host_paths_only() -> None:
    binds = [Bind(Path("/r/run/17"), "/run/ick"), Bind(Path("/s/ws/17"), "/")]
    assert translate("/r/run/17/action-1.sh", binds) == "/run/ick/action-1.sh"
    assert translate("/r/run/17", binds) == "/run/ick"
    assert translate("/s/ws/17", binds) == "/"
    assert translate("/s/ws/17/src/x", binds) == "/src/x"
    assert translate("/s/ws/170/x", binds) == "/s/ws/170/x"
    assert translate("bash", binds) == "bash"


def test_the_inside_environment(tmp_path: Path) -> None:
    ctx = context(tmp_path, {"shell": "true", "where": "container"})
    (tmp_path / "run").mkdir()
    env = {**ctx.base_env(), "PATH": "/host/bin", "HOME": "/home/x", "ICK_SECRETS":
           str(tmp_path / "run" / "secrets")}
    binds = [Bind(ctx.run_dir, "/run/ick"), Bind(ctx.workspace, "/workspace")]
    inside = inside_env(env, binds, "/workspace")
    assert inside["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert inside["HOME"] == "/root"
    assert inside["ICK_WORKSPACE"] == "/workspace"
    assert inside["ICK_PARAMS"] == "/run/ick/params.json"
    assert inside["ICK_SECRETS"] == "/run/ick/secrets"
    assert (inside["ICK_BUILD_ID"], inside["ICK_PROJECT"], inside["BUILD_NUMBER"]) == (
        "17", "hello", "3")
    assert inside["DEBIAN_FRONTEND"] == "noninteractive"


@pytest.mark.parametrize(("network", "private"), [(None, True), (False, True), (True, False)])
def test_the_nspawn_command(tmp_path: Path, network: bool | None, private: bool) -> None:
    action: dict[str, object] = {"shell": "true", "where": "container"}
    if network is not None:
        action["network"] = network
    ctx = context(tmp_path, action)
    (tmp_path / "run").mkdir()
    tree = tmp_path / "tree"
    (tree / "usr" / "bin").mkdir(parents=True)
    (tree / "usr" / "bin" / "setpriv").touch()
    argv = ["bash", "-c", "x", str(ctx.run_dir / "action-2.sh")]
    command = nspawn_command("/usr/bin/systemd-nspawn", ctx, tree, argv, ctx.base_env())
    assert command[:6] == ["/usr/bin/systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
                           "--console=pipe", "--link-journal=no"]
    assert f"--directory={tree}" in command
    assert f"--bind={ctx.workspace}:/workspace" in command
    assert f"--bind-ro={ctx.run_dir}:/run/ick" in command
    assert "--machine=ick-17-2" in command
    assert "--chdir=/workspace" in command
    assert ("--private-network" in command) is private
    assert "--setenv=ICK_WORKSPACE=/workspace" in command
    tail = command[command.index("--") + 1:]
    assert tail == ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "bash", "-c", "x",
                    "/run/ick/action-2.sh"]


MISSING_TOOLS = """
projects:
  - project: boot
    parameters: {debian_codename: bookworm}
    pipelines: [boot]
  - project: contained
    pipelines: [contained]
  - project: rootless
    pipelines: [rootless]
pipelines:
  - pipeline: rootless
    actions:
      - shell: "true"
        where: chroot
  - pipeline: boot
    actions:
      - debootstrap: auto
        where: host
  - pipeline: contained
    actions:
      - shell: "true"
        where: container
"""


def test_missing_host_tools_and_trees_fail_the_action_saying_how_to_fix(
        path_without: Callable[..., None], start_daemon: Callable[..., Daemon]) -> None:
    path_without("debootstrap", "systemd-nspawn")
    daemon = start_daemon()
    daemon.apply(MISSING_TOOLS)
    for project, message in [
        ("boot", "debootstrap is not installed on this worker: install the Debian package "
                 "debootstrap (`ick doctor` checks the host)"),
        ("contained", "systemd-nspawn is not installed on this worker: install the Debian "
                      "package systemd-container (`ick doctor` checks the host)"),
        ("rootless", "where: chroot needs a root file system in the workspace, and it has "
                     "no /proc: run debootstrap (or populate_workspace) first"),
    ]:
        build = daemon.wait_build(daemon.trigger(project))
        assert build["state"] == "failed"
        assert build["actions"][0]["message"] == message
        assert message in daemon.wait_log(build["id"], message)
