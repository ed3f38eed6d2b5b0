"""End to end: matrix jobs of host actions against a real daemon, driven with the `ick` CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon

# Each job says who it is, then waits (bounded) until every job of the build has started:
# were the jobs run one after another, the first would time out and fail.
BARRIER = """
      - python: |
          import json, os, pathlib, time
          here = pathlib.Path(params["barrier"])
          job = os.environ["ICK_JOB"]
          (here / f"start-{job}").write_text(json.dumps({
              "start": time.time(), "a": params["a"], "b": params["b"],
              "workspace": os.environ["ICK_WORKSPACE"]}))
          print(f"job {job} has a={params['a']} b={params['b']}", flush=True)
          pathlib.Path("mine").write_text(job)
          deadline = time.monotonic() + 30
          while len(list(here.glob("start-*"))) < params["jobs"]:
              assert time.monotonic() < deadline, "the other jobs never started"
              time.sleep(0.02)
          (here / f"end-{job}").write_text(str(time.time()))
        where: host
      - shell: test "$(cat mine)" = "$ICK_JOB" && ls | wc -l
        where: host
"""


def matrix_project(name: str, matrix: str, actions: str, params: str = "{}",
                   extra: str = "") -> str:
    return f"""
projects:
  - project: {name}
    parameters: {params}
    matrix: {matrix}
    pipelines: [{name}-p]
{extra}
pipelines:
  - pipeline: {name}-p
    actions:
{actions}
"""


def test_a_2x2_matrix_runs_four_jobs_at_once_each_with_its_values_and_workspace(
    start_daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    daemon = start_daemon(workers=4)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    daemon.apply(matrix_project(
        "grid", "{a: [x, y], b: [1, 2]}", BARRIER,
        params=json.dumps({"barrier": str(barrier), "jobs": 4, "a": "unset"})))
    result = daemon.ick("trigger", "grid", "--wait")
    assert result.returncode == 0, result.stdout + result.stderr
    build_id = int(result.stdout.splitlines()[0])

    starts = {p.name: json.loads(p.read_text()) for p in barrier.glob("start-*")}
    ends = [float(p.read_text()) for p in barrier.glob("end-*")]
    assert sorted((s["a"], s["b"]) for s in starts.values()) == [
        ("x", 1), ("x", 2), ("y", 1), ("y", 2)]  # the matrix wins over the project's a
    assert len({s["workspace"] for s in starts.values()}) == 4
    assert max(s["start"] for s in starts.values()) < min(ends)  # all four overlapped

    doc = daemon.build(build_id)
    assert doc["state"] == "succeeded"
    assert [(j["job"], j["parameters"], j["state"]) for j in doc["jobs"]] == [
        (0, {"a": "x", "b": 1}, "succeeded"), (1, {"a": "x", "b": 2}, "succeeded"),
        (2, {"a": "y", "b": 1}, "succeeded"), (3, {"a": "y", "b": 2}, "succeeded")]
    assert all(j["worker"].startswith("local") for j in doc["jobs"])
    assert len({j["worker"] for j in doc["jobs"]}) == 4
    assert [a["job"] for a in doc["actions"]] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert doc["worker"] in {j["worker"] for j in doc["jobs"]}
    assert doc["parameters"]["a"] == "unset"  # the build's own stay as they were

    one = daemon.ick("log", str(build_id), "--job", "2")
    assert one.returncode == 0
    assert "job 2 has a=y b=1" in one.stdout
    assert "job 0 has" not in one.stdout and "== job" not in one.stdout
    assert "==== [1/2] pipeline grid-p, action 1: python (where: host)" in one.stdout
    assert one.stdout.rstrip().endswith("ick: job 2 succeeded")

    whole = daemon.ick("log", str(build_id)).stdout
    heads = ["== job 0 (a=x, b=1) ==", "== job 1 (a=x, b=2) ==", "== job 2 (a=y, b=1) ==",
             "== job 3 (a=y, b=2) =="]
    places = [whole.index(h) for h in heads]
    assert places == sorted(places)
    for n, head in enumerate(heads):
        part = whole[whole.index(head):]
        assert part.index(f"job {n} has") < part.index(f"ick: job {n} succeeded")
    assert whole.rstrip().endswith(f"ick: build {build_id} succeeded")
    assert daemon.ick("log", str(build_id), "--job", "4").returncode != 0

    shown = daemon.ick("build", str(build_id)).stdout
    assert "4 jobs: 4 succeeded" in shown
    for head in heads:
        assert f"  {head.strip('= ')}: succeeded on local" in shown
    listed = [line for line in daemon.ick("builds").stdout.splitlines() if line.strip()]
    assert len(listed) == 2 and listed[1].endswith("4 jobs: 4 succeeded")  # under a header


FAIL_ONE = """
      - shell: |
          n=$(params | jq -r .n)
          echo "job $ICK_JOB n=$n"
          if [ "$n" = 1 ]; then exit 3; fi
          sleep "$(params | jq -r .sleep)"
          echo "job $ICK_JOB done"
        where: host
"""


def test_without_fail_fast_the_other_jobs_finish_and_the_build_fails_naming_the_job(
    start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(workers=2)
    daemon.apply(matrix_project("slow", "[{n: 1}, {n: 2}, {n: 3}]", FAIL_ONE,
                                params='{"sleep": 0.3}'))
    result = daemon.ick("trigger", "slow", "--wait")
    assert result.returncode == 1
    doc = daemon.build(int(result.stdout.splitlines()[0]))
    assert doc["state"] == "failed"
    assert [j["state"] for j in doc["jobs"]] == ["failed", "succeeded", "succeeded"]
    assert "job 1 done" in result.stdout and "job 2 done" in result.stdout
    assert "ick: failed: job 0\n" in result.stdout


def test_fail_fast_cancels_the_running_and_queued_jobs_at_the_first_failure(
    start_daemon: Callable[..., Daemon]
) -> None:
    daemon = start_daemon(workers=2)
    daemon.apply(matrix_project("fast", "[{n: 2}, {n: 1}, {n: 3}]", FAIL_ONE,
                                params='{"sleep": 60}', extra="    fail_fast: true"))
    build_id = daemon.trigger("fast")
    doc = daemon.wait_build(build_id, timeout=30)  # well before job 0's sleep ends
    assert doc["state"] == "failed"
    assert [j["state"] for j in doc["jobs"]] == ["cancelled", "failed", "cancelled"]
    states = [(a["job"], a["state"]) for a in doc["actions"]]
    assert states == [(0, "cancelled"), (1, "failed"), (2, "skipped")]
    assert doc["jobs"][2]["worker"] is None  # never started
    log = daemon.ick("log", str(build_id)).stdout
    assert "job 0 done" not in log and "job 2 n=3" not in log
    assert "ick: job 0 cancelled" in log and "ick: failed: job 1\n" in log


def test_a_project_without_matrix_has_one_job_and_its_log_has_no_job_lines(
    daemon: Daemon
) -> None:
    daemon.apply("""
projects:
  - project: plain
    pipelines: [plain-p]
pipelines:
  - pipeline: plain-p
    actions:
      - shell: echo "job=$ICK_JOB"
        where: host
""")
    result = daemon.ick("trigger", "plain", "--wait")
    assert result.returncode == 0
    build_id = int(result.stdout.splitlines()[0])
    doc = daemon.build(build_id)
    assert [(j["job"], j["parameters"], j["state"]) for j in doc["jobs"]] == [
        (0, {}, "succeeded")]
    assert doc["jobs"][0]["worker"] == doc["worker"]
    log = daemon.ick("log", str(build_id)).stdout
    assert "== job" not in log and "job=0" in log
    assert daemon.ick("log", str(build_id), "--job", "0").stdout == log
    status, _ = daemon.api("GET", f"/builds/{build_id}/log?job=1")
    assert status == 404
