"""End to end: builds of host actions, driven with the `ick` CLI against a real daemon."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.polling import poll
from tests.procs import rss_mb, wait_dead, wait_named, wait_none_named


def one_pipeline(project: str, actions: str, params: str = "{}", extra: str = "") -> str:
    return f"""
projects:
  - project: {project}
    parameters: {params}
    pipelines: [{project}-p]
{extra}
pipelines:
  - pipeline: {project}-p
    actions:
{actions}
"""


def test_failing_action_fails_the_build_and_skips_the_rest(daemon: Daemon) -> None:
    daemon.apply(one_pipeline("three", """
      - shell: echo first
        where: host
      - shell: echo second; exit 3
        where: host
      - shell: echo third
        where: host
"""))
    result = daemon.ick("trigger", "three", "--wait")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "1"
    assert "first\n" in result.stdout and "second\n" in result.stdout
    assert "third\n" not in result.stdout
    shown = daemon.ick("build", "1")
    assert shown.returncode == 0
    assert "build 1: three #1, failed" in shown.stdout
    assert "three-p[1] shell (host): failed exit 3" in shown.stdout
    assert "(exit status 3)" in shown.stdout
    assert "three-p[2] shell (host): skipped" in shown.stdout
    doc = json.loads(daemon.ick("build", "1", "--json").stdout)
    assert [a["state"] for a in doc["actions"]] == ["succeeded", "failed", "skipped"]
    assert doc["actions"][1]["exit_code"] == 3
    assert doc["actions"][0]["duration"] >= 0
    assert doc["state"] == "failed"


def test_parameters_stay_data_and_environment_is_set(daemon: Daemon, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    daemon.apply(one_pipeline("params", """
      - shell: |
          params > "$ICK_WORKSPACE/params.json"
          echo "id=$ICK_BUILD_ID project=$ICK_PROJECT number=$BUILD_NUMBER" \
               "ws=$ICK_WORKSPACE pwd=$(pwd)"
        where: host
      - python: |
          import json, os
          print("py", json.dumps(params["evil"]))
          assert os.listdir(".") == ["params.json"]
        where: host
""", params="{evil: none}"))
    evil = f"a'b\"c $(touch {marker}) `touch {marker}` ; touch {marker}\nline2"
    result = daemon.ick("trigger", "params", "-p", f"evil={evil}", "--wait")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists()
    assert "py " + json.dumps(evil) in result.stdout
    ws = daemon.state_dir / "workspaces" / "1"
    assert f"id=1 project=params number=1 ws={ws} pwd={ws}" in result.stdout
    doc = daemon.build(1)
    assert doc["parameters"] == {"evil": evil, "ick_trigger": "api", "ick_event": "manual"}


def test_trigger_parameters_override_project_ones(daemon: Daemon) -> None:
    daemon.apply(one_pipeline("over", """
      - python: print("color", params["color"], "size", params["size"])
        where: host
""", params="{color: red, size: big}"))
    result = daemon.ick("trigger", "over", "-p", "color=blue", "--wait")
    assert result.returncode == 0
    assert "color blue size big" in result.stdout


def test_cancel_running_build_kills_the_whole_process_group(daemon: Daemon, tmp_path: Path) -> None:
    marker = f"ick-test-{tmp_path.name}"
    daemon.apply(one_pipeline("slow", f"""
      - shell: |
          (exec -a {marker} sleep 300) &
          echo started
          sleep 300
        where: host
      - shell: echo never
        where: host
"""))
    build_id = daemon.trigger("slow")
    daemon.wait_log(build_id, "started")
    bg = wait_named(marker)
    result = daemon.ick("cancel", str(build_id))
    assert result.returncode == 0, result.stderr
    doc = daemon.wait_build(build_id, timeout=30)
    assert doc["state"] == "cancelled"
    assert [a["state"] for a in doc["actions"]] == ["cancelled", "skipped"]
    assert wait_dead(bg), "the background child of the cancelled action still runs"
    again = daemon.ick("cancel", str(build_id))
    assert again.returncode == 2
    assert f"build {build_id} has already ended (cancelled)" in again.stderr


def test_cancel_queued_build(daemon: Daemon, tmp_path: Path) -> None:
    daemon.apply(one_pipeline("q", f"""
      - shell: "touch {tmp_path}/ran-$BUILD_NUMBER; sleep 300"
        where: host
"""))
    first = daemon.trigger("q")
    second = daemon.trigger("q")
    daemon.wait_build(first, ("running",))
    assert daemon.build(second)["state"] == "queued"
    assert daemon.ick("cancel", str(second)).returncode == 0
    assert daemon.build(second)["state"] == "cancelled"
    assert daemon.ick("cancel", str(first)).returncode == 0
    daemon.wait_build(first)
    assert not (tmp_path / "ran-2").exists()


def test_timeout_ends_a_hung_action(daemon: Daemon) -> None:
    daemon.apply(one_pipeline("hang", """
      - shell: echo going; sleep 300
        where: host
        timeout: 1
      - shell: echo never
        where: host
"""))
    result = daemon.ick("trigger", "hang", "--wait", timeout=60)
    assert result.returncode == 1
    assert "ick: timed out after 1 s" in result.stdout
    doc = daemon.build(1)
    assert doc["state"] == "failed"
    assert doc["actions"][0]["message"] == "timed out after 1 s"
    assert doc["actions"][1]["state"] == "skipped"


def test_one_build_per_project_unless_concurrent(start_daemon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    daemon = start_daemon(workers=2)
    # Each build waits (bounded) for a second build to be running at the same time.
    wait_for_peer = f"""
      - python: |
          import os, time, pathlib
          d = pathlib.Path("{tmp_path}") / os.environ["ICK_PROJECT"]
          d.mkdir(exist_ok=True)
          (d / os.environ["BUILD_NUMBER"]).touch()
          deadline = time.monotonic() + 3
          while len(list(d.iterdir())) < 2 and time.monotonic() < deadline:
              time.sleep(0.02)
          print("peers", len(list(d.iterdir())))
        where: host
"""
    daemon.apply(f"""
projects:
  - project: serial
    pipelines: [wait]
  - project: parallel
    concurrent: true
    pipelines: [wait]
pipelines:
  - pipeline: wait
    actions:
{wait_for_peer}
""")
    serial = [daemon.trigger("serial"), daemon.trigger("serial")]
    docs = [daemon.wait_build(b) for b in serial]
    assert docs[1]["started_at"] >= docs[0]["finished_at"]
    parallel = [daemon.trigger("parallel"), daemon.trigger("parallel")]
    for b in parallel:
        assert daemon.wait_build(b)["state"] == "succeeded"
        assert "peers 2" in daemon.api("GET", f"/builds/{b}/log")[1]


def test_fifo_queue_order(start_daemon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    daemon = start_daemon(workers=1)
    order = tmp_path / "order"
    daemon.apply(f"""
projects:
  - project: a
    pipelines: [p]
  - project: b
    pipelines: [p]
  - project: c
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: echo "$ICK_PROJECT" >> {order}
        where: host
""")
    ids = [daemon.trigger(p) for p in ("c", "a", "b", "a")]
    for b in ids:
        daemon.wait_build(b)
    assert order.read_text().split() == ["c", "a", "b", "a"]


def test_log_offset_follow_and_headers(daemon: Daemon) -> None:
    daemon.apply(one_pipeline("logs", """
      - shell: echo out; echo err >&2
        where: host
      - python: print("two")
        where: host
"""))
    result = daemon.ick("trigger", "logs", "--wait")
    assert result.returncode == 0
    log = daemon.ick("log", "1").stdout
    assert "==== [1/2] pipeline logs-p, action 1: shell (where: host)\nout\nerr\n" in log
    assert "==== [2/2] pipeline logs-p, action 2: python (where: host)\ntwo\n" in log
    assert log.endswith("ick: build 1 succeeded\n")
    assert daemon.ick("log", "1", "--offset", "5").stdout == log[5:]
    assert daemon.ick("log", "1", "-f").stdout == log


def test_big_log_passes_in_bounded_memory(daemon: Daemon) -> None:
    size = 512 * 1024 * 1024
    daemon.apply(one_pipeline("big", f"""
      - shell: head -c {size} /dev/zero | tr '\\0' 'x'; echo; echo done
        where: host
"""))
    assert daemon.proc is not None
    before = rss_mb(daemon.proc.pid)
    build_id = daemon.trigger("big")
    peaks = [before]

    def state() -> str:
        assert daemon.proc is not None
        peaks.append(rss_mb(daemon.proc.pid))
        return str(daemon.build(build_id)["state"])

    poll(state, lambda s: s not in ("queued", "running"), 120, lambda s: f"still {s}")
    peak = max(peaks)
    assert daemon.build(build_id)["state"] == "succeeded"
    assert (daemon.state_dir / "logs" / f"{build_id}.log").stat().st_size > size
    assert peak - before < 50, f"daemon grew from {before:.0f} MB to {peak:.0f} MB"
    tail = daemon.api("GET", f"/builds/{build_id}/log?offset={size}")[1]
    assert "done\n" in tail


def test_listings_and_json(daemon: Daemon) -> None:
    daemon.apply(one_pipeline("list", """
      - shell: "true"
        where: host
"""))
    daemon.ick("trigger", "list", "--wait")
    assert daemon.ick("projects").stdout.split() == ["list"]
    assert daemon.ick("pipelines").stdout.split() == ["list-p"]
    projects = json.loads(daemon.ick("projects", "--json").stdout)
    assert projects[0]["project"] == "list" and projects[0]["pipelines"] == ["list-p"]
    pipelines = json.loads(daemon.ick("pipelines", "--json").stdout)
    assert pipelines[0]["actions"][0]["shell"] == "true"
    builds = json.loads(daemon.ick("builds", "--json").stdout)
    assert [(b["id"], b["project"], b["state"]) for b in builds] == [(1, "list", "succeeded")]
    listed = daemon.ick("builds", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "PROJECT", "NUMBER", "STATE", "TRIGGER", "QUEUED",
                                 "BRANCH", "COMMIT", "JOBS", "SUBJECT"]
    assert listed[1].split()[:5] == ["1", "list", "1", "succeeded", "api"]
    assert "project: list\n" in daemon.ick("projects", "show", "list").stdout
    triggered = daemon.ick("trigger", "list", "--json")
    assert json.loads(triggered.stdout)["number"] == 2


def test_delete_project_and_pipeline(daemon: Daemon) -> None:
    daemon.apply(one_pipeline("gone", """
      - shell: "true"
        where: host
"""))
    used = daemon.ick("pipelines", "delete", "gone-p")
    assert used.returncode == 2
    assert "pipeline 'gone-p' is used by project 'gone'" in used.stderr
    assert daemon.ick("projects", "delete", "gone", "--yes").returncode == 0
    assert daemon.ick("pipelines", "delete", "gone-p").returncode == 0
    assert daemon.ick("projects").stdout == ""
    missing = daemon.ick("projects", "show", "gone")
    assert missing.returncode == 2 and "no project 'gone'" in missing.stderr


def test_invalid_file_changes_nothing_and_says_where(daemon: Daemon, tmp_path: Path) -> None:
    good = one_pipeline("keep", """
      - shell: "true"
        where: host
""")
    daemon.apply(good)
    bad = tmp_path / "bad.ick"
    bad.write_text("""projects:
  - project: keep
    parameters: {}
    pipelines: [keep-p, nothere]
  - project: new
    pipelines: [newp]
pipelines:
  - pipeline: newp
    parameters: [greeting]
    actions:
      - shel: echo hi
        where: host
      - shell: echo hi
      - debootstrap: auto
        where: container
""")
    result = daemon.ick("apply", str(bad))
    assert result.returncode == 2
    errors = result.stderr
    assert f"ick: error: {bad}:11: action 1 of pipeline 'newp': unknown key 'shel'\n" in errors
    assert (f"ick: error: {bad}:13: action 2 of pipeline 'newp': missing 'where' "
            "(one of host, chroot, container)\n") in errors
    assert (f"ick: error: {bad}:15: action 3 of pipeline 'newp': debootstrap cannot run "
            "where: container (only host)\n") in errors
    assert daemon.ick("projects").stdout.split() == ["keep"]
    assert daemon.ick("pipelines").stdout.split() == ["keep-p"]
    missing_param = tmp_path / "param.ick"
    missing_param.write_text("""projects:
  - project: new
    pipelines: [newp]
pipelines:
  - pipeline: newp
    parameters: [greeting]
    actions:
      - shell: echo hi
        where: host
""")
    result = daemon.ick("apply", str(missing_param))
    assert result.returncode == 2
    assert (f"{missing_param}:2: project 'new' does not give parameter 'greeting' that "
            "pipeline 'newp' requires") in result.stderr
    assert daemon.ick("pipelines").stdout.split() == ["keep-p"]
    missing_pipeline = tmp_path / "missing.ick"
    missing_pipeline.write_text("""projects:
  - project: keep
    pipelines: [keep-p, nothere]
""")
    result = daemon.ick("apply", str(missing_pipeline))
    assert result.returncode == 2
    assert result.stderr == (f"ick: error: {missing_pipeline}:2: project 'keep' names pipeline "
                             "'nothere', which does not exist\n")
    assert json.loads(daemon.ick("projects", "show", "keep", "--json").stdout)["pipelines"] == [
        "keep-p"]


def test_make_it_so_alias(daemon: Daemon, tmp_path: Path) -> None:
    path = tmp_path / "x.ick"
    path.write_text(one_pipeline("alias", """
      - shell: "true"
        where: host
"""))
    result = daemon.ick("make-it-so", str(path))
    assert result.returncode == 0, result.stderr
    assert daemon.ick("projects").stdout.split() == ["alias"]


def test_unreachable_daemon_exits_3(daemon: Daemon) -> None:
    result = daemon.ick("--url", "http://127.0.0.1:9", "projects")
    assert result.returncode == 3
    assert result.stderr.startswith("ick: error: cannot reach ick at http://127.0.0.1:9")
    assert len(result.stderr.splitlines()) == 1


def test_tokens_via_cli(daemon: Daemon) -> None:
    created = daemon.ick("token", "create", "--scope", "read", "--name", "reader")
    assert created.returncode == 0
    token = created.stdout.strip()
    assert len(created.stdout.splitlines()) == 1 and token.startswith("ick_")
    # What is at rest: the database and its write-ahead log, where a fresh row lives until a
    # checkpoint. The token's public key id is there (so the check sees stored rows), its
    # secret part is not.
    at_rest = b"".join(p.read_bytes() for p in (daemon.state_dir / "ick.db",
                                                daemon.state_dir / "ick.db-wal") if p.exists())
    _, key_id, secret = token.split("_")
    assert key_id.encode() in at_rest
    assert secret.encode() not in at_rest and token.encode() not in at_rest
    listed = daemon.ick("token", "list", "--json")
    names = {t["name"]: t for t in json.loads(listed.stdout)}
    assert set(names) == {"admin", "reader"}
    assert token not in listed.stdout
    as_reader = daemon.ick("--token", token, "projects")
    assert as_reader.returncode == 0
    forbidden = daemon.ick("--token", token, "trigger", "x")
    assert forbidden.returncode == 2
    assert "lacks the 'trigger' scope" in forbidden.stderr
    assert daemon.ick("token", "revoke", names["reader"]["id"]).returncode == 0
    revoked = daemon.ick("--token", token, "projects")
    assert revoked.returncode == 2 and "invalid token" in revoked.stderr
    # A token may also be revoked by its own text, as `ick token create` printed it.
    other = daemon.ick("token", "create", "--scope", "read", "--name", "r2").stdout.strip()
    assert daemon.ick("token", "revoke", other).returncode == 0
    assert daemon.ick("--token", other, "projects").returncode == 2


def test_admin_token_file_is_private(daemon: Daemon) -> None:
    mode = (daemon.state_dir / "admin.token").stat().st_mode & 0o777
    assert mode == 0o600


@pytest.fixture(autouse=True)
def _no_stray_env() -> None:
    os.environ.pop("ICK_TOKEN", None)


def test_a_process_that_leaves_the_group_does_not_hang_or_outlive_the_action(
        daemon: Daemon, tmp_path: Path) -> None:
    pidfile = tmp_path / "escaped.started"
    marker = f"ick-test-{tmp_path.name}"
    daemon.apply(one_pipeline("escape", f"""
      - shell: |
          setsid bash -c 'touch {pidfile}; exec -a {marker} sleep 300' &
          for i in $(seq 500); do [ -e {pidfile} ] && break; sleep 0.01; done
          echo "left a process behind"
        where: host
        timeout: 120
      - shell: echo next
        where: host
"""))
    # The escaped process sleeps 300 s: had the action waited for it, the CLI's 60 s would
    # run out. How long the build takes is a figure of bench/stops.py.
    result = daemon.ick("trigger", "escape", "--wait", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left a process behind\n" in result.stdout and "next\n" in result.stdout
    assert pidfile.exists()
    wait_none_named(marker)  # the escaped process does not outlive its action
