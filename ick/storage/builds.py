"""Builds and their actions: creation, each state transition, listings."""

from __future__ import annotations

import builtins
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ick.model import (
    NO_GIT,
    ActionRecord,
    ActionTraits,
    Build,
    BuildState,
    GateFacts,
    GitFacts,
    JobRecord,
)
from ick.storage.build_rows import (
    ACTION_COLUMNS,
    BUILD_COLUMNS,
    JOB_COLUMNS,
    action_from_row,
    build_from_row,
    gate_to_json,
    git_to_json,
    job_from_row,
    resolved_commit,
)
from ick.storage.db import Database, Row, Tx

_UNFINISHED = "build_id IN (SELECT id FROM builds WHERE state IN (?, ?))"
_UNFINISHED_STATES = (BuildState.QUEUED.value, BuildState.RUNNING.value)


class IdsTaken(Exception):
    """Another writer of the database gave out the id or number a new build was to have."""


@dataclass(frozen=True)
class BuildWrite:
    """A build's row, its jobs' rows and these actions' rows to store (see BuildStore.save)."""

    build: Build
    seqs: tuple[int, ...] = ()
    git: bool = False
    also: tuple[Callable[[Tx], Awaitable[object]], ...] = ()


class BuildStore:
    """The builds aggregate: a build with its jobs and actions, written and read as one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._resolved_commit = resolved_commit(db.dialect)
        self._last_id: int | None = None  # the highest build id given out (read once)
        self._numbers: dict[str, int] = {}  # each project's last build number given out
        self._put_number = db.dialect.upsert("build_numbers", ("project", "last"), ("project",))

    async def create(
        self,
        project: str,
        parameters: dict[str, Any],
        concurrent: bool,
        actions: Sequence[ActionRecord],
        queued_at: str,
        jobs: Sequence[dict[str, Any]] = ({},),
        fail_fast: bool = False,
        event: str = "manual",
        triggered_by: str = "ick",
        git: GitFacts = NO_GIT,
        gate: GateFacts | None = None,
        then: Callable[[Build], Sequence[BuildWrite]] | None = None,
    ) -> Build:
        """Insert a queued build, its queued jobs (each with its own parameters) and their
        actions (job after job: pending, or skipped with a message where a `when:` condition
        did not hold) in one transaction; `event`, `triggered_by` and `git` say what caused it
        and what it builds. `then`, given the build as it will be stored, says what more to
        write of it in the same transaction (the states it takes at once: one commit, not
        two); it is called once, however often the transaction runs. If another writer gave
        out the build's id or number meanwhile, the write fails with IdsTaken, having written
        nothing: call create again."""
        made: builtins.list[Build] = []
        written: builtins.list[Sequence[BuildWrite]] = []

        async def insert(tx: Tx) -> Build:
            if not made:  # the ids are the same however often the transaction runs
                build_id, number = await self._next_ids(tx, project)
                made.append(Build(
                    id=build_id, project=project, number=number, state=BuildState.QUEUED,
                    parameters=parameters, queued_at=queued_at, concurrent=concurrent,
                    actions=tuple(actions),
                    jobs=tuple(JobRecord(job=j, parameters=dict(p))
                               for j, p in enumerate(jobs)),
                    fail_fast=fail_fast, event=event, triggered_by=triggered_by, git=git,
                    gate=gate,
                ))
                written.append(then(made[0]) if then is not None else ())
            build = made[0]
            await self._save(tx, written[0], before=(
                # The counter outlives pruned rows: a number is never given out twice.
                tx.execute(self._put_number, (project, build.number)),
                tx.execute(
                    "INSERT INTO builds (id, project, number, state, parameters, concurrent, "
                    "queued_at, fail_fast, event, triggered_by, git, gate) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (build.id, project, build.number, BuildState.QUEUED.value,
                     json.dumps(parameters), int(concurrent), queued_at, int(fail_fast), event,
                     triggered_by, git_to_json(git), gate_to_json(gate)),
                ),
                tx.executemany(
                    "INSERT INTO build_jobs (build_id, job, parameters, state) "
                    "VALUES (?, ?, ?, ?)",
                    [(build.id, job, json.dumps(p), BuildState.QUEUED.value)
                     for job, p in enumerate(jobs)],
                ),
                tx.executemany(
                    f"INSERT INTO build_actions ({ACTION_COLUMNS}) "
                    f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [
                        (build.id, seq, a.pipeline, a.index, a.kind, a.where,
                         json.dumps(a.spec), a.state.value, None, None, a.message, "{}", a.job,
                         int(a.local), a.arch_key)
                        for seq, a in enumerate(actions)
                    ],
                ),
            ))
            return build

        try:
            return await self.db.write(insert)
        except Exception:
            if made and await self._ids_taken(made[0]):
                raise IdsTaken(f"build id {made[0].id} or number {made[0].number} of project "
                               f"{project!r} was given out meanwhile") from None
            raise

    async def _next_ids(self, tx: Tx, project: str) -> tuple[int, int]:
        """The next build id, and the project's next number. This store gives them out: it
        reads the database's counters once (once per project), not for every build."""
        if self._last_id is None:
            row = await tx.fetchone(self.db.dialect.top_id("builds"))
            self._last_id = int(row[0]) if row is not None else 0
        if project not in self._numbers:
            row = await tx.fetchone(
                "SELECT COALESCE((SELECT last FROM build_numbers WHERE project = ?), "
                "(SELECT COALESCE(MAX(number), 0) FROM builds WHERE project = ?))",
                (project, project))
            self._numbers[project] = int(row[0]) if row is not None else 0
        # Taken even if the transaction is rolled back: an id or number is never given twice.
        self._last_id += 1
        self._numbers[project] += 1
        return self._last_id, self._numbers[project]

    async def _ids_taken(self, build: Build) -> bool:
        """Did another writer give out the build's id or number (the counters are then
        read again)? A failed write of them changed nothing, so the rows found are theirs."""
        rows = await self.db.fetchall(
            "SELECT 1 FROM builds WHERE id = ? OR (project = ? AND number = ?)",
            (build.id, build.project, build.number))
        if rows:
            self._last_id = None
            self._numbers.clear()
        return bool(rows)

    async def _jobs(self, build_ids: Iterable[int]) -> dict[int, builtins.list[JobRecord]]:
        """The jobs of each of these builds, by build id."""
        ids = tuple(build_ids)
        found: dict[int, builtins.list[JobRecord]] = {}
        if not ids:
            return found
        rows = await self.db.fetchall(
            f"SELECT {JOB_COLUMNS} FROM build_jobs WHERE build_id IN ({','.join('?' * len(ids))}) "
            "ORDER BY build_id, job", ids)
        for row in rows:
            found.setdefault(row[0], []).append(job_from_row(row))
        return found

    async def _builds(self, rows: builtins.list[Row],
                      with_actions: bool) -> builtins.list[Build]:
        """The builds of these rows, each with its jobs (and its actions if asked)."""
        jobs = await self._jobs(row[0] for row in rows)
        return [build_from_row(row, await self.actions(row[0]) if with_actions else (),
                               jobs.get(row[0], ()))
                for row in rows]

    async def get(self, build_id: int) -> Build | None:
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE id = ?", (build_id,)
        )
        return next(iter(await self._builds(rows, with_actions=True)), None)

    async def undecided_kinds(self) -> builtins.list[str]:
        """The kinds of unfinished builds' actions stored before ick kept their traits."""
        rows = await self.db.fetchall(
            f"SELECT DISTINCT kind FROM build_actions WHERE local IS NULL AND {_UNFINISHED} "
            "ORDER BY kind", _UNFINISHED_STATES)
        return [str(row[0]) for row in rows]

    async def decide_actions(self, traits: Iterable[ActionTraits]) -> None:
        """Store these traits on the undecided actions of their kinds (see undecided_kinds)."""
        await self.db.transaction(
            (f"UPDATE build_actions SET local = ?, arch_key = ? WHERE kind = ? "
             f"AND local IS NULL AND {_UNFINISHED}",
             (int(t.local), t.arch_key, t.kind, *_UNFINISHED_STATES)) for t in traits)

    async def actions(self, build_id: int) -> list[ActionRecord]:
        rows = await self.db.fetchall(
            f"SELECT {ACTION_COLUMNS} FROM build_actions WHERE build_id = ? ORDER BY seq",
            (build_id,),
        )
        return [action_from_row(r) for r in rows]

    async def list(self, project: str | None = None, limit: int = 100) -> list[Build]:
        """The newest builds first, without their actions."""
        if project is None:
            rows = await self.db.fetchall(
                f"SELECT {BUILD_COLUMNS}, {self._resolved_commit} FROM builds "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = await self.db.fetchall(
                f"SELECT {BUILD_COLUMNS}, {self._resolved_commit} FROM builds WHERE project = ? "
                "ORDER BY id DESC LIMIT ?",
                (project, limit),
            )
        return await self._builds(rows, with_actions=False)

    async def in_state(self, state: BuildState) -> builtins.list[Build]:
        """Builds in one state, oldest first, with their actions."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE state = ? ORDER BY id", (state.value,)
        )
        return await self._builds(rows, with_actions=True)

    async def of_commit(self, project: str, commit: str, limit: int = 20) -> builtins.list[Build]:
        """The project's newest builds of this pushed commit (its `git_commit` parameter, or
        the commit of its git facts) that are queued, running or succeeded, newest first,
        without their actions."""
        commit_of = self.db.dialect.json_value("parameters", ["git_commit"])
        git_commit_of = self.db.dialect.json_value("git", ["commit"])
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE project = ? "
            f"AND ({commit_of} = ? OR {git_commit_of} = ?) "
            "AND state IN (?, ?, ?) ORDER BY id DESC LIMIT ?",
            (project, commit, commit, BuildState.QUEUED.value, BuildState.RUNNING.value,
             BuildState.SUCCEEDED.value, limit))
        return await self._builds(rows, with_actions=False)

    async def newest_succeeded(self, project: str, besides_event: str) -> Build | None:
        """The project's newest succeeded build of an event other than `besides_event`
        (what a deployment ships by default: never another deployment's run, nor a gate
        candidate the gate has not merged)."""
        result = self.db.dialect.json_value("gate", ["result"])
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE project = ? AND state = ? "
            f"AND event != ? AND (gate IS NULL OR {result} = 'merged') "
            "ORDER BY id DESC LIMIT 1",
            (project, BuildState.SUCCEEDED.value, besides_event))
        return next(iter(await self._builds(rows, with_actions=False)), None)

    async def unfinished(self, project: str) -> builtins.list[Build]:
        """The project's queued and running builds, oldest first, without their actions."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE project = ? AND state IN (?, ?) "
            "ORDER BY id", (project, BuildState.QUEUED.value, BuildState.RUNNING.value))
        return await self._builds(rows, with_actions=False)

    async def previous_outcome(self, project: str, before_id: int,
                               tx: Tx | None = None) -> BuildState | None:
        """The state of the project's last finished build before this one that was not
        cancelled (a cancelled build says nothing of how the project is doing); read in `tx`
        when given, which sees the ends saved before this one's in the same transaction."""
        rows = await (self.db if tx is None else tx).fetchall(
            "SELECT state FROM builds WHERE project = ? AND id < ? AND state NOT IN (?, ?, ?) "
            "ORDER BY id DESC LIMIT 1",
            (project, before_id, BuildState.QUEUED.value, BuildState.RUNNING.value,
             BuildState.CANCELLED.value),
        )
        return BuildState(rows[0][0]) if rows else None

    async def save(self, build: Build, seqs: Iterable[int] = (), git: bool = False,
                   also: Sequence[Callable[[Tx], Awaitable[object]]] = ()) -> None:
        """Persist the build's row and the given actions' rows in one transaction; with
        `git`, the build's git facts too (they change once, when a checkout finds them);
        `also`, more writes of the same transaction (who is told of the build's end)."""
        await self.save_all([BuildWrite(build, tuple(seqs), git, tuple(also))])

    async def save_all(self, writes: Sequence[BuildWrite]) -> None:
        """Persist each of these, in order, in one transaction (see save)."""
        await self.db.write(lambda tx: self._save(tx, writes))

    async def _save(self, tx: Tx, writes: Sequence[BuildWrite],
                    before: Sequence[Awaitable[object]] = ()) -> None:
        """Write `before`, then each write in order: its statements, then its `also` (who is
        told of the build's end, decided from other rows: it may read them)."""
        await tx.each(*before)
        for write in writes:
            await tx.each(*self._statements(tx, write), *(also(tx) for also in write.also))

    def _statements(self, tx: Tx, write: BuildWrite) -> builtins.list[Awaitable[object]]:
        """The statements that store the build's row, its jobs' and the write's actions'."""
        build = write.build
        actions = [
            (a.state.value, a.exit_code, a.duration, a.message, json.dumps(a.details),
             build.id, seq)
            for seq, a in ((seq, build.actions[seq]) for seq in write.seqs)
        ]
        return [
            tx.execute(
                "UPDATE builds SET state = ?, worker = ?, started_at = ?, finished_at = ?, "
                "git = ? WHERE id = ?",
                (build.state.value, build.worker, build.started_at, build.finished_at,
                 git_to_json(build.git), build.id),
            ) if write.git else tx.execute(
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
        ]

    async def set_gate(self, build_id: int, gate: GateFacts, git: GitFacts | None = None) -> None:
        """A gate build's facts as the gate decided them (and its git facts, if given)."""
        if git is None:
            await self.db.transaction([("UPDATE builds SET gate = ? WHERE id = ?",
                                        (gate_to_json(gate), build_id))])
        else:
            await self.db.transaction([("UPDATE builds SET gate = ?, git = ? WHERE id = ?",
                                        (gate_to_json(gate), git_to_json(git), build_id))])

    async def gate_builds(self, project: str | None = None, limit: int = 100,
                          undecided: bool = False) -> builtins.list[Build]:
        """Gate candidates' builds, newest first, with their actions: the project's (None:
        every project's), or only those without a result yet (`undecided`)."""
        where = ["gate IS NOT NULL"]
        args: builtins.list[Any] = []
        if project is not None:
            where.append("project = ?")
            args.append(project)
        if undecided:
            where.append(f"{self.db.dialect.json_value('gate', ['result'])} IS NULL")
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT ?", (*args, limit))
        return await self._builds(rows, with_actions=True)

    async def by_number(self, project: str, number: int) -> Build | None:
        """A project's build by its number, without its actions."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS} FROM builds WHERE project = ? AND number = ?",
            (project, number))
        return build_from_row(rows[0]) if rows else None

    async def in_chain(self, project: str, root: str, after_id: int) -> bool:
        """Whether a build of `project` after `after_id` was queued by the `triggers:` chain
        that `root` (its `ick_chain` parameter) started."""
        rows = await self.db.fetchall(
            "SELECT parameters FROM builds WHERE project = ? AND id > ?", (project, after_id))
        return any(json.loads(row[0]).get("ick_chain") == root for row in rows)

    async def any_of(self, project: str) -> bool:
        rows = await self.db.fetchall("SELECT 1 FROM builds WHERE project = ? LIMIT 1",
                                      (project,))
        return bool(rows)

    async def exists(self, build_id: int) -> bool:
        rows = await self.db.fetchall("SELECT 1 FROM builds WHERE id = ?", (build_id,))
        return bool(rows)
