"""What a notification says: the facts document, the mail subject and body, the log tail."""

from __future__ import annotations

from dataclasses import replace

from ick.model import ActionRecord, ActionState, Build, BuildState
from ick.notify.message import body, facts, log_tail, subject

GIT = {"url": "https://git.test/r", "ref": "refs/heads/main", "commit": "9f1c2d", "dir": "src"}


def failed_build() -> Build:
    return Build(
        id=17, project="liw/hello", number=3, state=BuildState.FAILED,
        parameters={"git_commit": "9f1c2d", "greeting": "hi", "list": [1, 2]},
        queued_at="2024-05-01T10:00:00.000Z", started_at="2024-05-01T10:00:01.000Z",
        finished_at="2024-05-01T10:00:43.500Z",
        actions=[
            ActionRecord("get", 0, "git", "host", {}, ActionState.SUCCEEDED, 0, 1.0,
                         details={"git": [GIT]}),
            ActionRecord("hello", 0, "shell", "container", {}, ActionState.FAILED, 2, 0.4,
                         "exit status 2"),
            ActionRecord("hello", 1, "shell", "container", {}, ActionState.SKIPPED),
        ],
    )


def test_facts_say_outcome_duration_parameters_failing_action_and_link() -> None:
    doc = facts(failed_build(), "end", "line 1\nline 2", "http://ci.test:4250/",
                BuildState.SUCCEEDED)
    assert doc["event"] == "end"
    assert (doc["project"], doc["build"], doc["number"]) == ("liw/hello", 17, 3)
    assert doc["state"] == "failed"
    assert doc["change"] == "broken"
    assert doc["previous_state"] == "succeeded"
    assert doc["duration"] == 42.5
    assert doc["git_commit"] == "9f1c2d"
    assert doc["git"] == [GIT]
    assert doc["failed_action"] == {"pipeline": "hello", "index": 0, "kind": "shell",
                                    "where": "container", "state": "failed", "exit_code": 2,
                                    "message": "exit status 2"}
    assert doc["url"] == "http://ci.test:4250/ui/builds/17"
    assert doc["log_tail"] == "line 1\nline 2"


def test_without_git_commit_the_commit_a_git_action_resolved_is_named() -> None:
    build = failed_build()
    del build.parameters["git_commit"]
    assert facts(build, "end", "", "http://x", None)["git_commit"] == "9f1c2d"
    build = replace(build, actions=[replace(build.actions[0], details={}),
                                    *build.actions[1:]])
    assert facts(build, "end", "", "http://x", None)["git_commit"] is None
    assert "Git" not in body(facts(build, "end", "", "http://x", None))


def test_a_start_has_no_outcome_yet() -> None:
    build = failed_build()
    build = replace(build, state=BuildState.RUNNING, finished_at=None)
    doc = facts(build, "start", "ignored", "http://ci.test", None)
    assert doc["state"] == "running"
    assert doc["failed_action"] is None and doc["duration"] is None and doc["change"] is None
    assert doc["log_tail"] == ""
    assert subject(doc) == "[ick] liw/hello #3 started"
    assert "Outcome: started, still running" in body(doc)
    assert "log" not in body(doc)


def test_subject_names_project_number_outcome_and_change() -> None:
    build = failed_build()
    assert subject(facts(build, "end", "", "http://x", None)) == \
        "[ick] liw/hello #3 failed (broken)"
    assert subject(facts(build, "end", "", "http://x", BuildState.FAILED)) == \
        "[ick] liw/hello #3 failed"
    build = replace(build, state=BuildState.SUCCEEDED)
    assert subject(facts(build, "end", "", "http://x", BuildState.FAILED)) == \
        "[ick] liw/hello #3 succeeded (fixed)"


def test_body_reads_well() -> None:
    text = body(facts(failed_build(), "end", "compiling\nerror: oops", "http://ci.test",
                      BuildState.SUCCEEDED))
    assert text == """\
Build: liw/hello #3 (build 17)
Outcome: failed (broken; the previous build succeeded)
Duration: 42.5 s
Link: http://ci.test/ui/builds/17
Git commit: 9f1c2d
Git: https://git.test/r refs/heads/main at 9f1c2d in src

Parameters:
  git_commit: 9f1c2d
  greeting: hi
  list: [1, 2]

Failed action: pipeline hello, action 1 (shell, where: container): exit status 2

The end of the log (at most 200 lines):

  compiling
  error: oops
"""


def test_log_tail_keeps_the_last_lines_only() -> None:
    data = "".join(f"line {i}\n" for i in range(1, 501)).encode()
    tail = log_tail(data, from_start=True)
    assert tail.splitlines() == [f"line {i}" for i in range(301, 501)]
    assert log_tail(b"one\ntwo\n", from_start=True, lines=5) == "one\ntwo"


def test_log_tail_drops_a_cut_first_line_and_bad_bytes() -> None:
    assert log_tail(b"ne 7\nline 8\n\xff line 9\n", from_start=False) == "line 8\n\ufffd line 9"
    assert log_tail(b"", from_start=False) == ""


def test_a_matrix_build_names_its_failed_jobs_and_the_failed_action_first() -> None:
    from ick.model import JobRecord

    build = Build(
        id=18, project="multi", number=1, state=BuildState.FAILED, parameters={},
        queued_at="2024-05-01T10:00:00.000Z", started_at="2024-05-01T10:00:01.000Z",
        finished_at="2024-05-01T10:00:02.000Z",
        jobs=[JobRecord(0, {"debian_arch": "amd64"}, BuildState.CANCELLED),
              JobRecord(1, {"debian_arch": "arm64"}, BuildState.FAILED),
              JobRecord(2, {"debian_arch": "armhf"}, BuildState.FAILED)],
        actions=[ActionRecord("p", 0, "shell", "host", {}, ActionState.CANCELLED, job=0),
                 ActionRecord("p", 0, "shell", "host", {}, ActionState.FAILED, 1,
                              message="exit status 1", job=1),
                 ActionRecord("p", 0, "shell", "host", {}, ActionState.FAILED, 2, job=2)],
    )
    doc = facts(build, "end", "", "http://ci.test", None)
    assert [j["job"] for j in doc["failed_jobs"]] == [1, 2]
    assert doc["failed_action"]["job"] == 1
    text = body(doc)
    assert ("Failed jobs (2 of 3): job 1 (debian_arch=arm64); job 2 (debian_arch=armhf)"
            in text)
    assert "Failed action: pipeline p, action 1 (shell, where: host): exit status 1" in text
