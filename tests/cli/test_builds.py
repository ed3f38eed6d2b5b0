"""`ick log -f` and `ick trigger --wait` (ick/cli/builds.py) end as the build did."""

from __future__ import annotations

from tests.daemon import Daemon

TWO = """
projects:
  - project: good
    pipelines: [good]
  - project: bad
    pipelines: [bad]
  - project: half
    matrix: {side: [left, right]}
    pipelines: [half]
pipelines:
  - pipeline: good
    actions: [{shell: echo fine, where: host}]
  - pipeline: bad
    actions: [{shell: echo broken; exit 3, where: host}]
  - pipeline: half
    parameters: [side]
    actions:
      - shell: test "$(params | jq -r .side)" = left
        where: host
"""


def test_log_follow_exits_as_the_build_ended(daemon: Daemon) -> None:
    daemon.apply(TWO)
    good, bad = daemon.trigger("good"), daemon.trigger("bad")
    ok = daemon.ick("log", "-f", str(good))
    assert ok.returncode == 0, ok.stderr
    assert "fine" in ok.stdout
    failed = daemon.ick("log", "-f", str(bad))
    assert failed.returncode == 1
    assert "broken" in failed.stdout
    assert failed.stderr.strip() == f"build {bad} failed"
    # Without -f the log is printed as it is: that is not a verdict on the build.
    assert daemon.ick("log", str(bad)).returncode == 0


def test_log_follow_of_one_job_exits_as_that_job_ended(daemon: Daemon) -> None:
    daemon.apply(TWO)
    half = daemon.trigger("half")
    assert daemon.ick("log", "-f", "--job", "0", str(half)).returncode == 0
    right = daemon.ick("log", "-f", "--job", "1", str(half))
    assert right.returncode == 1
    assert right.stderr.strip() == f"build {half} job 1 failed"
