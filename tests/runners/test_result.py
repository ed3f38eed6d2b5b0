"""What a runner gives back (ick/runners/result.py), and how the worker reports it."""

from __future__ import annotations

import pytest

from ick.model import SOURCES_KEY, SourceRevision
from ick.runners.process import ProcessResult
from ick.runners.result import ActionResult
from ick.worker.worker import outcome_of


@pytest.mark.parametrize(("process", "expected"), [
    (ProcessResult(0, False, 1.0, 10), ActionResult(0)),
    (ProcessResult(3, False, 1.0, 10), ActionResult(3, "exit status 3")),
    (ProcessResult(-9, False, 1.0, 10), ActionResult(-9, "killed by signal 9")),
    (ProcessResult(-15, True, 1.0, 10), ActionResult(-15, "timed out after 2.5 s", True)),
])
def test_a_process_end_as_a_user_reads_it(process: ProcessResult,
                                          expected: ActionResult) -> None:
    assert ActionResult.of_process(process, 2.5) == expected


def test_the_worker_times_the_result_and_reports_sources_under_their_key() -> None:
    source = SourceRevision("https://h.test/r", "HEAD", "c0ffee", "r")
    result = ActionResult(0, details={"arch": "arm64"}, sources=(source,))
    outcome = outcome_of(result, 4.0)
    assert (outcome.exit_code, outcome.duration, outcome.message, outcome.timed_out) == (
        0, 4.0, None, False)
    assert outcome.details == {"arch": "arm64", SOURCES_KEY: [source.to_json()]}
    assert outcome_of(ActionResult.ok(artifact="a"), 0.5).details == {"artifact": "a"}
