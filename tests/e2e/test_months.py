"""End to end, as a user would: rebuild, prune, schedules, polls, downstream builds and the
CLI's rough edges, against a real `ick serve` driven by the real `ick` CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.daemon import Daemon
from tests.gitrepos import Repo
from tests.polling import poll

PROJECTS = """
projects:
  - project: hello
    parameters: {greeting: hi}
    pipelines: [hello]
  - project: systree
    pipelines: [hello]
    parameters: {greeting: tree}
    triggers: [hello]
  - project: loose
    pipelines: [hello]
    parameters: {greeting: any}
    extra_parameters: true
pipelines:
  - pipeline: hello
    parameters: [greeting]
    actions:
      - python: print("greeting", params["greeting"], params["ick_trigger"])
        where: host
"""


def wait_for_builds(daemon: Daemon, project: str, count: int,
                    timeout: float) -> list[dict[str, Any]]:
    """The project's builds, newest first, once there are `count` (bounded in time)."""
    def fetch() -> list[dict[str, Any]]:
        status, builds = daemon.api("GET", f"/builds?project={project}")
        return list(builds) if status == 200 else []

    return poll(fetch, lambda builds: len(builds) >= count, timeout,
                lambda builds: f"{project}: {len(builds)} builds after {timeout} s, "
                               f"not {count}", interval=0.1)


def test_rebuild_prints_the_new_id_and_keeps_the_parameters(daemon: Daemon) -> None:
    daemon.apply(PROJECTS)
    first = daemon.trigger("hello", "greeting=bye")
    assert daemon.wait_build(first)["state"] == "succeeded"
    result = daemon.ick("rebuild", str(first), "--wait")
    assert result.returncode == 0, result.stderr
    again = int(result.stdout.splitlines()[0])
    assert again == first + 1
    assert "greeting bye rebuild" in result.stdout
    doc = daemon.build(again)
    assert doc["parameters"] == {"greeting": "bye", "ick_trigger": "rebuild", "ick_event": "manual"}
    assert doc["number"] == 2
    missing = daemon.ick("rebuild", "999")
    assert (missing.returncode, missing.stderr) == (2, "ick: error: no build 999\n")


def test_a_succeeded_build_triggers_downstream_builds(daemon: Daemon) -> None:
    daemon.apply(PROJECTS)
    up = daemon.trigger("systree")
    assert daemon.wait_build(up)["state"] == "succeeded"
    [down] = wait_for_builds(daemon, "hello", 1, 30)
    assert down["parameters"]["ick_trigger"] == "systree#1"
    assert daemon.wait_build(down["id"])["state"] == "succeeded"
    listing = daemon.ick("builds").stdout.splitlines()
    assert listing[0].split() == ["ID", "PROJECT", "NUMBER", "STATE", "TRIGGER", "QUEUED",
                                  "BRANCH", "COMMIT", "JOBS", "SUBJECT"]
    rows = [line.split() for line in listing[1:]]
    assert [(r[1], r[4]) for r in rows] == [("hello", "systree#1"), ("systree", "api")]
    # aligned: every row's state starts where the header's STATE does
    column = listing[0].index("STATE")
    assert all(line[column:].split()[0] == "succeeded" for line in listing[1:])


def test_the_clis_rough_edges(daemon: Daemon, tmp_path: Path) -> None:
    daemon.apply(PROJECTS)
    nosuch = daemon.ick("builds", "nosuch")
    assert (nosuch.returncode, nosuch.stderr, nosuch.stdout) == (
        2, "ick: error: no project 'nosuch'\n", "")
    assert daemon.ick("trigger", "nosuch").returncode == 2
    unknown = daemon.ick("trigger", "hello", "-p", "nosuch=1")
    assert (unknown.returncode, unknown.stderr) == (
        2, "ick: error: project 'hello' has no parameter 'nosuch' (known: git_commit, "
           "git_ref, greeting, ick_trigger; a project with extra_parameters: true takes any)\n")
    assert daemon.api("GET", "/builds")[1] == []
    assert daemon.ick("trigger", "loose", "-p", "nosuch=1").returncode == 0
    claimed = daemon.ick("trigger", "hello", "-p", "ick_trigger=schedule")
    assert claimed.returncode == 2
    assert "ick_trigger must be one of api, hook" in claimed.stderr

    doctor = daemon.ick("doctor", "--json")
    checks = json.loads(doctor.stdout)
    assert {"check", "state", "detail"} == set(checks[0])
    assert {c["check"] for c in checks} >= {"bash", "git", "overlayfs"}
    assert doctor.returncode == (1 if any(c["state"] in ("missing", "warning")
                                          for c in checks) else 0)

    # one trigger token per project, shown again; --new-token replaces it
    first = daemon.ick("hook", "hello")
    second = daemon.ick("hook", "hello")
    assert first.returncode == 0 and first.stdout == second.stdout
    token = next(line for line in first.stdout.splitlines() if line.startswith("TOKEN = "))
    assert daemon.ick("hook", "loose").stdout.count(token) == 0
    renewed = daemon.ick("hook", "hello", "--new-token")
    assert renewed.returncode == 0 and token not in renewed.stdout
    old = json.loads(token.split(" = ", 1)[1])
    assert daemon.api("POST", "/projects/hello/+trigger", token=old)[0] == 401
    listing = daemon.ick("token", "list").stdout.splitlines()
    assert listing[0].split() == ["ID", "SCOPES", "CREATED", "FOR", "PROJECTS"]
    assert sum("hook for hello (ick hook shows it again)" in line for line in listing) == 1
    assert sum("hook for loose" in line for line in listing) == 1
    assert listing[1].split()[3] == "admin"

    # no token to be found: say where the CLI looked and how to tell it
    lost = daemon.ick("projects", env={"ICK_STATE_DIR": str(tmp_path / "elsewhere")})
    assert lost.returncode == 2
    assert lost.stderr == (
        f"ick: error: no API token: none given with --token or ICK_TOKEN, and none readable "
        f"at {tmp_path / 'elsewhere' / 'admin.token'}; set ICK_STATE_DIR to the daemon's "
        "state directory (where admin.token is), or pass --token TOKEN, or set ICK_TOKEN\n")


def test_prune_says_what_it_removed_and_numbers_go_on(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    daemon = start_daemon({"keep_builds": 2})
    daemon.apply(PROJECTS)
    ids = [daemon.trigger("hello") for _ in range(4)]
    for build_id in ids:
        assert daemon.wait_build(build_id)["state"] == "succeeded"
    logs = daemon.state_dir / "logs"
    sizes = {i: (logs / f"{i}.log").stat().st_size for i in ids}
    dry = daemon.ick("prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0] == "would remove 2 builds: hello #1, hello #2"
    assert all((logs / f"{i}.log").exists() for i in ids)
    result = daemon.ick("prune")
    lines = result.stdout.splitlines()
    assert lines[0] == "removed 2 builds: hello #1, hello #2"
    assert lines[1] == f"removed 2 logs ({sizes[1] + sizes[2]} bytes): 1.log, 2.log"
    assert lines[-1].startswith("freed ")
    assert [b["number"] for b in daemon.api("GET", "/builds")[1]] == [4, 3]
    assert not (logs / "1.log").exists() and (logs / "4.log").exists()
    assert daemon.ick("prune").stdout == "freed 0 bytes\n"
    daemon.stop()
    daemon.start()
    assert daemon.build(daemon.trigger("hello"))["number"] == 5  # never 1 again


def test_a_push_made_while_the_daemon_was_down_is_built_at_start(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    repo = Repo(tmp_path / "git", "polled")
    first = repo.commit("one")
    repo.push()
    daemon = start_daemon()
    daemon.apply(f"""
projects:
  - project: polled
    parameters: {{git_url: {json.dumps(str(repo.bare))}}}
    pipelines: [show]
    poll: 3600
pipelines:
  - pipeline: show
    actions:
      - python: print("commit", params["git_commit"])
        where: host
""")
    [build] = wait_for_builds(daemon, "polled", 1, 60)  # a new poll looks within 30 s
    assert (build["parameters"]["git_commit"], build["parameters"]["ick_trigger"]) == (
        first, "poll")
    daemon.wait_build(build["id"])
    daemon.stop()
    second = repo.commit("two")
    repo.push()
    daemon.start()
    builds = wait_for_builds(daemon, "polled", 2, 30)
    assert builds[0]["parameters"]["git_commit"] == second
    daemon.wait_build(builds[0]["id"])
    assert f"commit {second}" in daemon.ick("log", str(builds[0]["id"])).stdout


def test_a_scheduled_build_really_starts(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon()
    daemon.apply(PROJECTS.replace("    triggers: [hello]\n",
                                  "    triggers: [hello]\n    schedule: \"* * * * *\"\n"))
    # the next minute's slot, bounded: at most 60 s away, plus the schedules' recheck
    [build] = wait_for_builds(daemon, "systree", 1, 100)
    assert build["parameters"]["ick_trigger"] == "schedule"
    assert daemon.wait_build(build["id"])["state"] == "succeeded"
