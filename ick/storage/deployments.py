"""Deployments at rest (`deployments`): which build goes to which environment of a project,
its run (a build of event deploy), its state and who asked and approved."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from ick.storage.db import Database, Row, Tx


class DeploymentState(enum.StrEnum):
    WAITING = "waiting"  # for approval
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def finished(self) -> bool:
        return self not in (DeploymentState.WAITING, DeploymentState.QUEUED,
                            DeploymentState.RUNNING)


REASONS = ("manual", "auto", "rollback")


@dataclass(frozen=True)
class Deployment:
    id: int
    project: str
    environment: str
    build: int
    run: int | None
    state: DeploymentState
    reason: str
    requested_by: str
    approved_by: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "project": self.project, "environment": self.environment,
                "build": self.build, "run": self.run, "state": self.state.value,
                "reason": self.reason, "requested_by": self.requested_by,
                "approved_by": self.approved_by, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at}


COLUMNS = ("id, project, environment, build, run, state, reason, requested_by, approved_by, "
           "created_at, started_at, finished_at")


def _deployment(row: Row) -> Deployment:
    return Deployment(int(row[0]), str(row[1]), str(row[2]), int(row[3]),
                      None if row[4] is None else int(row[4]), DeploymentState(row[5]),
                      str(row[6]), str(row[7]), row[8], str(row[9]), row[10], row[11])


class DeploymentStore:
    """Every SQL statement about deployments."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, project: str, environment: str, build: int, state: DeploymentState,
                     reason: str, requested_by: str, now: str) -> Deployment:
        async def insert(tx: Tx) -> int:
            row = await tx.fetchone(
                "INSERT INTO deployments (project, environment, build, state, reason, "
                "requested_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (project, environment, build, state.value, reason, requested_by, now))
            assert row is not None
            return int(row[0])

        new_id = await self.db.write(insert)
        return Deployment(new_id, project, environment, build, None, state, reason,
                          requested_by, None, now, None, None)

    async def save(self, deployment: Deployment) -> Deployment:
        """Write the deployment's changing fields (run, state, who approved, times)."""
        await self.db.execute(
            "UPDATE deployments SET run = ?, state = ?, approved_by = ?, started_at = ?, "
            "finished_at = ? WHERE id = ?",
            (deployment.run, deployment.state.value, deployment.approved_by,
             deployment.started_at, deployment.finished_at, deployment.id))
        return deployment

    async def update(self, deployment: Deployment, **changes: Any) -> Deployment:
        return await self.save(replace(deployment, **changes))

    async def get(self, deployment_id: int) -> Deployment | None:
        rows = await self.db.fetchall(f"SELECT {COLUMNS} FROM deployments WHERE id = ?",
                                      (deployment_id,))
        return _deployment(rows[0]) if rows else None

    async def of_run(self, run: int) -> Deployment | None:
        rows = await self.db.fetchall(f"SELECT {COLUMNS} FROM deployments WHERE run = ?", (run,))
        return _deployment(rows[0]) if rows else None

    async def find(self, project: str | None = None, environment: str | None = None,
                   limit: int = 100, states: tuple[DeploymentState, ...] = (),
                   ascending: bool = False) -> list[Deployment]:
        """Deployments, newest first (or oldest first), filtered."""
        where, params = [], []
        if project is not None:
            where.append("project = ?")
            params.append(project)
        if environment is not None:
            where.append("environment = ?")
            params.append(environment)
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(s.value for s in states)
        sql = f"SELECT {COLUMNS} FROM deployments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?"
        rows = await self.db.fetchall(sql, (*params, limit))
        return [_deployment(r) for r in rows]

    async def unfinished(self) -> list[Deployment]:
        """Every waiting, queued or running deployment, oldest first."""
        return await self.find(states=(DeploymentState.WAITING, DeploymentState.QUEUED,
                                       DeploymentState.RUNNING), limit=-1, ascending=True)

    async def succeeded(self, project: str, environment: str,
                        limit: int = -1) -> list[Deployment]:
        """The environment's succeeded deployments, newest first."""
        return await self.find(project, environment, limit, (DeploymentState.SUCCEEDED,))

    async def kept_builds(self, keep: dict[tuple[str, str], int], default: int) -> set[int]:
        """The builds live somewhere and those of each environment's last `keep` (by
        (project, environment), else `default`) succeeded deployments: never pruned."""
        rows = await self.db.fetchall(
            "SELECT project, environment, build FROM deployments WHERE state = ? "
            "ORDER BY id DESC", (DeploymentState.SUCCEEDED.value,))
        seen: dict[tuple[str, str], int] = {}
        builds: set[int] = set()
        for project, environment, build in rows:
            key = (str(project), str(environment))
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= max(1, keep.get(key, default)):
                builds.add(int(build))
        return builds
