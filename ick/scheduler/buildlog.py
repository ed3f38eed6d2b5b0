"""The build log writer: every line the controller writes into a build's logs (the `ick:`
lines, each action's header and footer) and its actions' output, each to the right log."""

from __future__ import annotations

import logging

from ick.model import ActionRecord, ActionState, Build, BuildState
from ick.scheduler.machine import Outcome
from ick.storage.logs import LogStore, job_key, log_keys

log = logging.getLogger(__name__)


class BuildLog:
    """Writes the logs of the builds the controller holds.

    Where a job logs is `job_key` of the build's snapshot, kept from when its logs were
    opened to when it ends; a job whose own log has closed writes into the build's.
    """

    def __init__(self, logs: LogStore) -> None:
        self._logs = logs
        self._builds: dict[int, Build] = {}  # the builds whose logs are open
        self._told_skipped: dict[int, set[int]] = {}  # seqs whose skip a log has said

    def open(self, build: Build) -> None:
        """The build is queued (or found after a restart): its logs are live from now on."""
        for key in log_keys(build):
            self._logs.open(build.id, key)
        self._builds[build.id] = build

    def forget(self, build_id: int) -> None:
        """The build could not be stored after all: its logs, never written, are not live."""
        build = self._builds.pop(build_id, None)
        if build is not None:
            for key in log_keys(build):
                self._logs.close(build_id, key)
        self._told_skipped.pop(build_id, None)

    def _key(self, build_id: int, job: int) -> int | None:
        build = self._builds.get(build_id)
        key = None if build is None else job_key(build, job)
        if key is not None and not self._logs.is_live(build_id, key):
            return None  # the job has ended: what comes late goes into the build's log
        return key

    def failure(self, build_id: int, job: int) -> str | None:
        """Why the job's log could not be written, if it could not."""
        return self._logs.failure(build_id, self._key(build_id, job))

    def output(self, build_id: int, job: int, data: bytes) -> None:
        """Output of the job's running action."""
        self._logs.append(build_id, data, stream=True, job=self._key(build_id, job))

    def say(self, build_id: int, job: int, text: str) -> None:
        """An `ick:` line in the job's log."""
        self._logs.append(build_id, f"ick: {text}\n".encode(), job=self._key(build_id, job))

    def say_to_build(self, build_id: int, text: str) -> None:
        """An `ick:` line in the build's own log."""
        self._logs.append(build_id, f"ick: {text}\n".encode())

    def recovered(self, build: Build) -> None:
        """The build was found running after a restart."""
        self.open(build)
        self.say_to_build(build.id, "the daemon stopped while this build ran")

    def handed_back(self, build_id: int, job: int, worker: str, seq: int) -> None:
        whole = "build" if self._key(build_id, job) is None else "job"
        self.say(build_id, job, f"worker {worker} stopped and handed back action {seq + 1}: "
                                f"the {whole} is queued again and runs from its first action "
                                "on another worker")

    def action_starts(self, build: Build, seq: int) -> None:
        """The header of action `seq`, as it is handed to its worker."""
        action = build.actions[seq]
        seqs = build.job_seqs(action.job)
        self._logs.append(build.id, _header(action, seqs.index(seq), len(seqs)),
                          job=self._key(build.id, action.job))

    def skipped(self, build: Build, seqs: tuple[int, ...] | None = None) -> None:
        """A line in its job's log for each of these actions (None: all) that a `when:`
        condition skipped (they have a message; those skipped as a build stops have none),
        once each."""
        told = self._told_skipped.setdefault(build.id, set())
        for seq in range(len(build.actions)) if seqs is None else seqs:
            action = build.actions[seq]
            if action.state is not ActionState.SKIPPED:
                told.discard(seq)  # its job was queued again: it may be skipped again
            elif action.message and seq not in told:
                told.add(seq)
                self.say(build.id, action.job, f"pipeline {action.pipeline}, action "
                                               f"{action.index + 1} skipped: {action.message}")

    def action_ended(self, build_id: int, job: int, outcome: Outcome) -> None:
        """The footer of the job's action that ended with `outcome`."""
        self._logs.append(build_id, _footer(outcome), job=self._key(build_id, job))

    def job_ended(self, build: Build, job: int) -> None:
        """One job of several has ended: its log says how, and closes."""
        state = build.jobs[job].state.value
        log.info("build %d: job %d %s", build.id, job, state)
        key = self._key(build.id, job)
        self.say(build.id, job, f"job {job} {state}")
        if key is not None:
            self._logs.close(build.id, key)

    def finished(self, build: Build) -> None:
        """The build has ended: the jobs' logs that are still open, then the build's, say how
        it ended, and every log of it closes."""
        if len(build.jobs) > 1:
            for job in build.jobs:
                if self._logs.is_live(build.id, job.job):
                    self.job_ended(build, job.job)
            failed = [str(j.job) for j in build.jobs if j.state is BuildState.FAILED]
            if failed:
                self.say_to_build(build.id, f"failed: job{'s' if len(failed) > 1 else ''} "
                                            f"{', '.join(failed)}")
        self.say_to_build(build.id, f"build {build.id} {build.state.value}")
        for key in log_keys(build):
            self._logs.close(build.id, key)
        self._builds.pop(build.id, None)
        self._told_skipped.pop(build.id, None)


def _header(action: ActionRecord, position: int, total: int) -> bytes:
    return (
        f"==== [{position + 1}/{total}] pipeline {action.pipeline}, "
        f"action {action.index + 1}: {action.kind} (where: {action.where})\n"
    ).encode()


def _footer(outcome: Outcome) -> bytes:
    code = "none" if outcome.exit_code is None else str(outcome.exit_code)
    return f"---- exit code {code}, {outcome.duration or 0:.2f} s\n".encode()
