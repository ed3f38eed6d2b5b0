"""How builds, their jobs and their actions are read back from rows: the columns each query
names and the mapping of a row to the model's objects. Shared by BuildStore and BuildOverview.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ick.model import (
    NO_GIT,
    ActionRecord,
    ActionState,
    Build,
    BuildState,
    GateFacts,
    GitFacts,
    JobRecord,
)
from ick.storage.db import Dialect, Row

BUILD_COLUMNS = (
    "id, project, number, state, parameters, concurrent, queued_at, started_at, finished_at, "
    "worker, fail_fast, event, triggered_by, git, gate"
)
JOB_COLUMNS = "build_id, job, parameters, state, worker, started_at, finished_at"
ACTION_COLUMNS = (
    "build_id, seq, pipeline, idx, kind, place, spec, state, exit_code, duration, message, "
    "details, job, local, arch_key"
)


def resolved_commit(dialect: Dialect) -> str:
    """A column for listings, which leave the actions out: the first commit a git action
    resolved (after BUILD_COLUMNS, as `build_from_row` expects it)."""
    commit = dialect.json_value("a.details", ("git", 0, "commit"))
    return (f"(SELECT {commit} FROM build_actions AS a WHERE a.build_id = builds.id "
            f"AND {commit} IS NOT NULL ORDER BY a.seq LIMIT 1) AS resolved_commit")


def build_from_row(row: Row, actions: Sequence[ActionRecord] = (),
                   jobs: Sequence[JobRecord] = ()) -> Build:
    """A build from BUILD_COLUMNS (and perhaps `resolved_commit` after them)."""
    (build_id, project, number, state, parameters, concurrent, queued_at, started_at,
     finished_at, worker, fail_fast, event, triggered_by, git, gate) = row[:15]
    return Build(
        id=build_id,
        project=project,
        number=number,
        state=BuildState(state),
        parameters=json.loads(parameters),
        concurrent=bool(concurrent),
        queued_at=queued_at,
        started_at=started_at,
        finished_at=finished_at,
        worker=worker,
        actions=tuple(actions),
        jobs=tuple(jobs),
        fail_fast=bool(fail_fast),
        event=event,
        triggered_by=triggered_by,
        git=git_from_json(git),
        gate=GateFacts.from_json(json.loads(gate)) if gate else None,
        resolved_commit=row[15] if len(row) > 15 else None,
    )


def git_to_json(git: GitFacts) -> str | None:
    """A build's git facts as its `git` column holds them (NULL when none is known)."""
    return None if git == NO_GIT else json.dumps(git.to_json())


def gate_to_json(gate: GateFacts | None) -> str | None:
    return None if gate is None else json.dumps(gate.to_json())


def git_from_json(text: str | None) -> GitFacts:
    if not text:
        return NO_GIT
    doc = json.loads(text)
    return GitFacts(**{k: v for k, v in doc.items()
                       if k in GitFacts.__dataclass_fields__ and isinstance(v, str)})


def action_from_row(row: Row) -> ActionRecord:
    """An action from ACTION_COLUMNS."""
    (_, _, pipeline, idx, kind, place, spec, state, exit_code, duration, message, details,
     job, local, arch_key) = row
    return ActionRecord(
        pipeline=pipeline,
        index=idx,
        kind=kind,
        where=place,
        spec=json.loads(spec),
        state=ActionState(state),
        exit_code=exit_code,
        duration=duration,
        message=message,
        details=json.loads(details),
        job=job,
        local=bool(local),
        arch_key=arch_key,
    )


def job_from_row(row: Row) -> JobRecord:
    """A job from JOB_COLUMNS."""
    _, job, parameters, state, worker, started_at, finished_at = row
    return JobRecord(
        job=job, parameters=json.loads(parameters), state=BuildState(state),
        worker=worker, started_at=started_at, finished_at=finished_at,
    )
