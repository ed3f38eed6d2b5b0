"""Builds and their actions: creation, each state transition, listings."""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from ick.model import ActionRecord, ActionState, Build, BuildState, JobRecord
from ick.storage.db import Database, Tx

BUILD_COLUMNS = (
    "id, project, number, state, parameters, concurrent, queued_at, started_at, finished_at, "
    "worker, fail_fast"
)
JOB_COLUMNS = "build_id, job, parameters, state, worker, started_at, finished_at"
# For listings, which leave the actions out: the first commit a git action resolved.
RESOLVED_COMMIT = (
    "(SELECT json_extract(a.details, '$.git[0].commit') FROM build_actions AS a "
    "WHERE a.build_id = builds.id AND json_extract(a.details, '$.git[0].commit') IS NOT NULL "
    "ORDER BY a.seq LIMIT 1) AS resolved_commit"
)
ACTION_COLUMNS = (
    "build_id, seq, pipeline, idx, kind, place, spec, state, exit_code, duration, message, "
    "details, job"
)


def _build_from_row(row: sqlite3.Row, actions: Sequence[ActionRecord] = (),
                    jobs: Sequence[JobRecord] = ()) -> Build:
    return Build(
        id=row["id"],
        project=row["project"],
        number=row["number"],
        state=BuildState(row["state"]),
        parameters=json.loads(row["parameters"]),
        concurrent=bool(row["concurrent"]),
        queued_at=row["queued_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        worker=row["worker"],
        fail_fast=bool(row["fail_fast"]),
        # keys(): a Row's own `in` looks at its values.
        resolved_commit=row["resolved_commit"] if "resolved_commit" in row.keys() else None,  # noqa: SIM118
        actions=tuple(actions), jobs=tuple(jobs),
    )


def _action_from_row(row: sqlite3.Row) -> ActionRecord:
    return ActionRecord(
        pipeline=row["pipeline"],
        index=row["idx"],
        kind=row["kind"],
        where=row["place"],
        spec=json.loads(row["spec"]),
        state=ActionState(row["state"]),
        exit_code=row["exit_code"],
        duration=row["duration"],
        message=row["message"],
        details=json.loads(row["details"]),
        job=row["job"],
    )


def _job_from_row(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        job=row["job"], parameters=json.loads(row["parameters"]), state=BuildState(row["state"]),
        worker=row["worker"], started_at=row["started_at"], finished_at=row["finished_at"],
    )


class BuildStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        project: str,
        parameters: dict[str, Any],
        concurrent: bool,
        actions: Sequence[ActionRecord],
        queued_at: str,
        jobs: Sequence[dict[str, Any]] = ({},),
        fail_fast: bool = False,
    ) -> Build:
        """Insert a queued build, its queued jobs (each with its own parameters) and their
        pending actions (job after job) in one transaction."""
        async def insert(tx: Tx) -> tuple[int, int]:
            # The counter outlives pruned rows: a number is never given out twice.
            counted = await tx.fetchone(
                "INSERT INTO build_numbers (project, last) VALUES (?, "
                "(SELECT COALESCE(MAX(number), 0) + 1 FROM builds WHERE project = ?)) "
                "ON CONFLICT (project) DO UPDATE SET last = last + 1 RETURNING last",
                (project, project),
            )
            assert counted is not None
            number = int(counted[0])
            row = await tx.fetchone(
                "INSERT INTO builds (project, number, state, parameters, concurrent, queued_at, "
                "fail_fast) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id, number",
                (project, number, BuildState.QUEUED.value, json.dumps(parameters),
                 int(concurrent), queued_at, int(fail_fast)),
            )
            assert row is not None
            build_id = int(row[0])
            await tx.each(
                tx.executemany(
                    "INSERT INTO build_jobs (build_id, job, parameters, state) VALUES (?, ?, ?, ?)",
                    [(build_id, job, json.dumps(p), BuildState.QUEUED.value)
                     for job, p in enumerate(jobs)],
                ),
                tx.executemany(
                    f"INSERT INTO build_actions ({ACTION_COLUMNS}) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (build_id, seq, a.pipeline, a.index, a.kind, a.where, json.dumps(a.spec),
                         a.state.value, None, None, None, "{}", a.job)
                        for seq, a in enumerate(actions)
                    ],
                ),
            )
            return build_id, int(row[1])

        build_id, number = await self.db.write(insert)
        return Build(
            id=build_id, project=project, number=number, state=BuildState.QUEUED,
            parameters=parameters, queued_at=queued_at, concurrent=concurrent,
            actions=tuple(actions), jobs=tuple(JobRecord(j, dict(p)) for j, p in enumerate(jobs)),
            fail_fast=fail_fast,
        )

    async def _from_rows(self, rows: Sequence[sqlite3.Row],
                         with_actions: bool = False) -> builtins.list[Build]:
        """The builds of these rows, each with its jobs (and actions) from the database."""
        if not rows:
            return []
        ids = tuple(r["id"] for r in rows)
        marks = ",".join("?" * len(ids))
        job_rows = await self.db.fetchall(
            f"SELECT {JOB_COLUMNS} FROM build_jobs WHERE build_id IN ({marks}) "
            "ORDER BY build_id, job", ids)
        found: dict[int, builtins.list[JobRecord]] = {}
        for row in job_rows:
            found.setdefault(row["build_id"], []).append(_job_from_row(row))
        return [_build_from_row(r, await self.actions(r["id"]) if with_actions else (),
                                found.get(r["id"], ()))
                for r in rows]

    async def get(self, build_id: int) -> Build | None:
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE id = ?", (build_id,)
        )
        if not rows:
            return None
        return (await self._from_rows(rows, with_actions=True))[0]

    async def actions(self, build_id: int) -> list[ActionRecord]:
        rows = await self.db.fetchall(
            f"SELECT {ACTION_COLUMNS} FROM build_actions WHERE build_id = ? ORDER BY seq",
            (build_id,),
        )
        return [_action_from_row(r) for r in rows]

    async def list(self, project: str | None = None, limit: int = 100) -> list[Build]:
        """The newest builds first, without their actions."""
        if project is None:
            rows = await self.db.fetchall(
                f"SELECT {BUILD_COLUMNS}, {RESOLVED_COMMIT} FROM builds ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = await self.db.fetchall(
                f"SELECT {BUILD_COLUMNS}, {RESOLVED_COMMIT} FROM builds WHERE project = ? "
                "ORDER BY id DESC LIMIT ?",
                (project, limit),
            )
        return await self._from_rows(rows)

    async def in_state(self, state: BuildState) -> builtins.list[Build]:
        """Builds in one state, oldest first, with their actions."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE state = ? ORDER BY id", (state.value,)
        )
        return await self._from_rows(rows, with_actions=True)

    async def previous_outcome(self, project: str, before_id: int) -> BuildState | None:
        """The state of the project's last finished build before this one."""
        rows = await self.db.fetchall(
            "SELECT state FROM builds WHERE project = ? AND id < ? AND state NOT IN (?, ?) "
            "ORDER BY id DESC LIMIT 1",
            (project, before_id, BuildState.QUEUED.value, BuildState.RUNNING.value),
        )
        return BuildState(rows[0][0]) if rows else None

    async def save(self, build: Build, seqs: Iterable[int] = ()) -> None:
        """Persist the build's row and the given actions' rows in one transaction."""
        actions = [
            (a.state.value, a.exit_code, a.duration, a.message, json.dumps(a.details),
             build.id, seq)
            for seq, a in ((seq, build.actions[seq]) for seq in seqs)
        ]

        async def update(tx: Tx) -> None:
            await tx.each(
                tx.execute(
                    "UPDATE builds SET state = ?, worker = ?, started_at = ?, finished_at = ? "
                    "WHERE id = ?",
                    (build.state.value, build.worker, build.started_at, build.finished_at,
                     build.id),
                ),
                tx.executemany(
                    "UPDATE build_jobs SET state = ?, worker = ?, started_at = ?, "
                    "finished_at = ? WHERE build_id = ? AND job = ?",
                    [(j.state.value, j.worker, j.started_at, j.finished_at, build.id, j.job)
                     for j in build.jobs],
                ),
                tx.executemany(
                    "UPDATE build_actions SET state = ?, exit_code = ?, duration = ?, "
                    "message = ?, details = ? WHERE build_id = ? AND seq = ?",
                    actions,
                ),
            )

        await self.db.write(update)

    async def by_number(self, project: str, number: int) -> Build | None:
        """A project's build by its number, without its actions."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE project = ? AND number = ?",
            (project, number))
        return _build_from_row(rows[0]) if rows else None

    async def any_of(self, project: str) -> bool:
        rows = await self.db.fetchall("SELECT 1 FROM builds WHERE project = ? LIMIT 1",
                                      (project,))
        return bool(rows)

    async def exists(self, build_id: int) -> bool:
        rows = await self.db.fetchall("SELECT 1 FROM builds WHERE id = ?", (build_id,))
        return bool(rows)
