"""The resources users see (projects, pipelines, builds) as plain dataclasses and enums."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

NAME_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")

WHERES = ("host", "chroot", "container")

# Names (projects, pipelines, secrets, artifacts) become file names and URL paths: a limit
# the file system and a request line can always take.
MAX_NAME = 100
MAX_NAME_PART = 64
LENGTH_RULE = f"at most {MAX_NAME} characters, each '/'-separated part at most {MAX_NAME_PART}"


def shown_name(name: str) -> str:
    """A name as a message quotes it: long ones cut short, so the message stays one line."""
    return repr(name) if len(name) <= 40 else repr(name[:37]) + "..."


def length_problem(name: str, what: str = "") -> str | None:
    """Say how a name breaks the length rule, or None; `what` says whose ("secret")."""
    if len(name) > MAX_NAME or any(len(part) > MAX_NAME_PART for part in name.split("/")):
        return f"bad {what + ' ' if what else ''}name {shown_name(name)}: names are {LENGTH_RULE}"
    return None


# A secret becomes the file $ICK_SECRETS/NAME, so its name must not be able to leave that folder.
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
SECRET_NAME_RULE = (f"a secret name (letters, digits, '.', '_' and '-'; at most {MAX_NAME_PART} "
                    "characters)")


def name_problem(name: object) -> str | None:
    """Say what is wrong with a project or pipeline name, or None if it is fine."""
    if not isinstance(name, str) or not name:
        return "a name must be a non-empty string"
    if not NAME_RE.fullmatch(name) or any(part in (".", "..") for part in name.split("/")):
        return f"bad name {shown_name(name)}: use letters, digits, '.', '_', '-' and '/'"
    return length_problem(name)


class BuildState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self not in (BuildState.QUEUED, BuildState.RUNNING)


class ActionState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class ActionTraits:
    """What an action's type is and needs of a worker, decided from its record (ick/runners)
    once, when its pipeline is checked; the scheduler plans and routes with these alone.
    `local`: only a worker on the controller's disk may run it; `arch_key`: the setting whose
    value is the architecture (label `arch`) its worker must have."""

    kind: str
    local: bool = False
    arch_key: str | None = None


@dataclass
class Pipeline:
    name: str
    parameters: list[str] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    worker: dict[str, str] = field(default_factory=dict)  # labels its worker must have
    # One per action, decided when the pipeline was checked; None for one not checked yet.
    # Kept beside the document, never in it: users see what they wrote.
    traits: tuple[ActionTraits, ...] | None = None
    when: dict[str, Any] = field(default_factory=dict)  # `when:` as written ({}: always)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"pipeline": self.name, "parameters": self.parameters,
                               "actions": self.actions}
        if self.worker:
            doc["worker"] = self.worker
        if self.when:
            doc["when"] = self.when
        return doc


@dataclass(frozen=True)
class PipelineEntry:
    """One entry of a project's `pipelines:`: the pipeline's name and the entry's `when:`
    ({}: always), however it was written (a plain name, or {pipeline: NAME, when: {...}})."""

    name: str
    when: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: str | Mapping[str, Any]) -> PipelineEntry:
        if isinstance(entry, str):
            return cls(entry)
        return cls(str(entry["pipeline"]), entry.get("when") or {})


@dataclass
class Project:
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    # As written: pipeline names, or {pipeline: NAME, when: {...}}; read them with
    # pipeline_names() and pipeline_entries().
    pipelines: list[str | dict[str, Any]] = field(default_factory=list)
    notify: list[dict[str, Any]] = field(default_factory=list)
    concurrent: bool = False
    worker: dict[str, str] = field(default_factory=dict)  # labels its workers must have
    matrix: Any = None  # `matrix:` as written (axes, or a list of mappings); ick.matrix
    fail_fast: bool = False
    # Running for months (DESIGN.md): retention, timers, downstream builds, loose parameters.
    keep_builds: int | None = None
    keep_days: float | None = None
    schedule: str | None = None
    poll: float | None = None
    triggers: list[str] = field(default_factory=list)
    extra_parameters: bool = False
    # What a token with `trigger` and not `write` may set beside git_ref and git_commit.
    trigger_parameters: list[str] = field(default_factory=list)
    # Forges (DESIGN.md, "Forges and pipelines in the repository"): `forge:` as checked
    # (ick.forges.config), and whether its pull requests' builds are trusted.
    forge: dict[str, str] | None = None
    trust_changes: bool = False
    # A file of pipelines in the repository, read at each build's commit, and whether its
    # pipelines are trusted as the server's are.
    repository_pipelines: str | None = None
    trust_repository: bool = False

    def pipeline_entries(self) -> list[PipelineEntry]:
        """The entries of `pipelines:` in order, each with its name and condition."""
        return [PipelineEntry.of(entry) for entry in self.pipelines]

    def pipeline_names(self) -> list[str]:
        """The names of the pipelines the project runs, in order, each once."""
        return list(dict.fromkeys(entry.name for entry in self.pipeline_entries()))
    # What was pushed (DESIGN.md): the branches and tags whose pushes build, and whether a
    # new push build of a branch cancels that branch's older ones.
    branches: list[str] = field(default_factory=lambda: ["*"])
    tags: list[str] = field(default_factory=list)
    cancel_superseded: bool = False
    # The gate (DESIGN.md, "Ick does the merging"): {branch, push_key_secret?,
    # known_hosts_secret?} as checked at apply; None: the project has none.
    gate: dict[str, str] | None = None
    # Continuous delivery (DESIGN.md): `environments:` as checked (ick.ickfile), each a
    # mapping with `environment`; read them with environment_list().
    environments: list[dict[str, Any]] = field(default_factory=list)
    keep_deployments: int | None = None  # per environment; an environment's own comes first

    def environment_list(self) -> list[Environment]:
        """The project's environments, in the order written."""
        return [Environment.of(doc) for doc in self.environments]

    def used_pipeline_names(self) -> list[str]:
        """Every pipeline the project names: its builds' and its environments'."""
        return list(dict.fromkeys([*self.pipeline_names(),
                                   *(n for e in self.environment_list() for n in e.pipelines)]))

    def environment(self, name: str) -> Environment | None:
        return next((e for e in self.environment_list() if e.name == name), None)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "project": self.name,
            "parameters": self.parameters,
            "pipelines": self.pipelines,
            "notify": self.notify,
            "concurrent": self.concurrent,
        }
        if self.worker:
            doc["worker"] = self.worker
        if self.matrix is not None:
            doc["matrix"] = self.matrix
        if self.fail_fast:
            doc["fail_fast"] = True
        # Only what is set, so documents from before these keys read back the same.
        for key in OPTIONAL_PROJECT_KEYS:
            value = getattr(self, key)
            if value not in (None, [], False):
                doc[key] = value
        if self.branches != ["*"]:
            doc["branches"] = self.branches
        return doc


OPTIONAL_PROJECT_KEYS = ("keep_builds", "keep_days", "schedule", "poll", "triggers",
                         "extra_parameters", "trigger_parameters", "forge", "trust_changes",
                         "repository_pipelines", "trust_repository", "tags",
                         "cancel_superseded", "gate", "environments", "keep_deployments")


@dataclass(frozen=True)
class Environment:
    """Where a project's builds are deployed (DESIGN.md, "Continuous delivery"): what a
    deployment there runs, with which parameters, and what it waits for."""

    name: str
    pipelines: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    auto: Mapping[str, Any] | None = None  # a `when:` condition on succeeded builds
    after: str | None = None
    approval: bool = False
    keep_deployments: int | None = None

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Environment:
        """The environment a checked `environments:` entry describes."""
        return cls(str(doc["environment"]), tuple(doc.get("pipelines") or ()),
                   dict(doc.get("parameters") or {}), doc.get("url"), doc.get("auto"),
                   doc.get("after"), doc.get("approval") is True, doc.get("keep_deployments"))

    def to_json(self) -> dict[str, Any]:
        return {"environment": self.name, "pipelines": list(self.pipelines),
                "parameters": dict(self.parameters), "url": self.url,
                "auto": None if self.auto is None else dict(self.auto), "after": self.after,
                "approval": self.approval, "keep_deployments": self.keep_deployments}


def job_name(build_id: int, job: int | None) -> str:
    """A job's name on disk: `ID` for the build's own (job None), `ID.N` for job N. Its
    workspace and run directory, and its log (`ID.N.log`), are named after it."""
    return str(build_id) if job is None else f"{build_id}.{job}"


def build_of_job_name(name: str) -> int | None:
    """The build whose job name (see job_name) `name` is, or None if it is not one."""
    head, _, job = name.partition(".")
    if not (head.isascii() and head.isdigit()) or (job and not (job.isascii() and job.isdigit())):
        return None
    return int(head)


# What caused a build (DESIGN.md, "What was pushed"): its `"event"` and parameter `ick_event`.
EVENTS = ("push", "tag", "change", "manual", "schedule", "downstream", "deploy")


@dataclass(frozen=True)
class GitFacts:
    """What a build was built from, as far as ick knows (None where unknown): the pushed ref
    and its branch or tag, the commit, its subject line and author."""

    ref: str | None = None
    branch: str | None = None
    tag: str | None = None
    commit: str | None = None
    subject: str | None = None
    author: str | None = None

    @classmethod
    def of_ref(cls, ref: str | None, commit: str | None = None, subject: str | None = None,
               author: str | None = None) -> GitFacts:
        """The facts of a pushed ref: `refs/heads/X` is branch X, `refs/tags/X` tag X, and a
        bare name (as `git_ref: main` is written) a branch."""
        branch = tag = None
        if ref:
            if ref.startswith("refs/tags/"):
                tag = ref.removeprefix("refs/tags/")
            elif ref.startswith("refs/heads/"):
                branch = ref.removeprefix("refs/heads/")
            elif not ref.startswith("refs/"):
                branch = ref
        return cls(ref or None, branch or None, tag or None, commit or None, subject or None,
                   author or None)

    def to_json(self) -> dict[str, str | None]:
        return {"ref": self.ref, "branch": self.branch, "tag": self.tag, "commit": self.commit,
                "subject": self.subject, "author": self.author}

    def checked_out(self, source: SourceRevision) -> GitFacts:
        """These facts with what a checkout found (commit, subject, author) where they are
        unknown; unchanged when the known commit is another (a second repository's). A gate
        candidate's merge (a source with a base) is what the build builds: its commit,
        subject and author replace the candidate's."""
        if source.base is not None:
            return GitFacts(self.ref, self.branch, self.tag, source.commit, source.subject,
                            source.author)
        if self.commit is not None and not source.commit.startswith(self.commit):
            return self
        return GitFacts(self.ref, self.branch, self.tag, source.commit,
                        self.subject or source.subject, self.author or source.author)


NO_GIT = GitFacts()

# A gate candidate build's parameter: its target branch, onto which the git action merges
# the candidate's commit.
GATE_PARAMETER = "ick_gate"

# What became of a gate candidate (None while it waits or is tested).
GATE_RESULTS = ("merged", "rejected")


@dataclass(frozen=True)
class GateFacts:
    """A gate candidate's build: the target branch, the candidate's name (gate/TARGET/NAME)
    and commit, the target's tip it was merged onto (once the git action has), what became
    of it, which attempt this build is (1 to 3) and its place in the target's queue (the id
    of the candidate's first build: a new attempt keeps it, so it is tested next)."""

    target: str
    name: str
    candidate: str
    base: str | None = None
    result: str | None = None
    attempt: int = 1
    order: int | None = None  # None: this build is the candidate's first

    def key(self, build_id: int) -> int:
        return build_id if self.order is None else self.order

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "base": self.base, "candidate": self.candidate,
                "result": self.result, "name": self.name, "attempt": self.attempt,
                "order": self.order}

    @classmethod
    def from_json(cls, doc: object) -> GateFacts | None:
        if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str)
                                                for k in ("target", "name", "candidate")):
            return None
        def text(key: str) -> str | None:
            value = doc.get(key)
            return value if isinstance(value, str) else None
        attempt, order = doc.get("attempt"), doc.get("order")
        return cls(doc["target"], doc["name"], doc["candidate"], text("base"), text("result"),
                   attempt if isinstance(attempt, int) else 1,
                   order if isinstance(order, int) else None)

# A commit's subject and author as ick keeps and shows them: one line, at most this long.
MAX_GIT_LINE = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(text: str, cap: int = MAX_GIT_LINE) -> str:
    """`text` as one line of at most `cap` characters: control characters and runs of white
    space become one space; a longer text is cut, ending in '…'."""
    line = " ".join(_CONTROL.sub(" ", text).split())
    return line if len(line) <= cap else line[:cap - 1] + "…"


# Build, JobRecord and ActionRecord are frozen snapshots: storage returns them and the state
# machine emits fresh ones, so no listener or HTTP handler can change what the machine holds.


@dataclass(frozen=True)
class JobRecord:
    """One job of a build: its own parameters (on top of the build's), state and worker."""

    job: int
    parameters: dict[str, Any] = field(default_factory=dict)
    state: BuildState = BuildState.QUEUED
    worker: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    def title(self) -> str:
        """`job N (key=value, ...)`, as the build's whole log heads each job's part."""
        values = ", ".join(f"{k}={_show(v)}" for k, v in self.parameters.items())
        return f"job {self.job} ({values})" if values else f"job {self.job}"

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "parameters": self.parameters, "state": self.state.value,
                "worker": self.worker, "started_at": self.started_at,
                "finished_at": self.finished_at}


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class ActionRecord:
    """One action of one build, with its outcome."""

    pipeline: str
    index: int
    kind: str
    where: str
    spec: dict[str, Any]
    state: ActionState = ActionState.PENDING
    exit_code: int | None = None
    duration: float | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    job: int = 0
    # What routing needs of the action's type (see ActionTraits), stored with the action.
    local: bool = False
    arch_key: str | None = None

    @property
    def traits(self) -> ActionTraits:
        return ActionTraits(self.kind, self.local, self.arch_key)

    def sources(self) -> list[SourceRevision]:
        """The source revisions the action reported checking out (under SOURCES_KEY)."""
        entries = self.details.get(SOURCES_KEY)
        found = (SourceRevision.from_json(e) for e in entries) if isinstance(entries, list) \
            else ()
        return [s for s in found if s is not None]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "job": self.job,
            "pipeline": self.pipeline,
            "index": self.index,
            "kind": self.kind,
            "where": self.where,
            "state": self.state.value,
            "exit_code": self.exit_code,
            "duration": self.duration,
            "message": self.message,
        }
        # A worker's details go beside the action's own fields, never over them (the API also
        # refuses them at /work; this keeps rows stored before that honest too).
        out.update((k, v) for k, v in self.details.items() if k not in ACTION_FIELDS)
        return out


@dataclass(frozen=True)
class Build:
    id: int
    project: str
    number: int
    state: BuildState
    parameters: dict[str, Any]
    queued_at: str
    started_at: str | None = None
    finished_at: str | None = None
    concurrent: bool = False
    actions: tuple[ActionRecord, ...] = ()
    worker: str | None = None
    # The first commit a git action resolved, as storage gives it where it lists builds
    # without their actions.
    resolved_commit: str | None = None
    jobs: tuple[JobRecord, ...] = ()  # at least one; job 0 without matrix
    fail_fast: bool = False
    event: str = "manual"  # one of EVENTS
    triggered_by: str = "ick"  # the name of the token that asked, or ick for its own
    git: GitFacts = NO_GIT
    gate: GateFacts | None = None  # a gate candidate's build (DESIGN.md, "the gate")

    def __post_init__(self) -> None:
        # Lists given by callers become tuples: a snapshot shares nothing mutable of its own.
        if type(self.actions) is not tuple:
            object.__setattr__(self, "actions", tuple(self.actions))
        if not self.jobs:
            object.__setattr__(self, "jobs", (JobRecord(
                0, state=self.state, worker=self.worker, started_at=self.started_at,
                finished_at=self.finished_at),))
        elif type(self.jobs) is not tuple:
            object.__setattr__(self, "jobs", tuple(self.jobs))

    def job_parameters(self, job: int) -> dict[str, Any]:
        """What job `job` runs with: the build's parameters, then the job's own."""
        return {**self.parameters, **self.jobs[job].parameters}

    def job_seqs(self, job: int) -> list[int]:
        """The seqs of job `job`'s actions, in order (a build's actions are job after job)."""
        return [seq for seq, a in enumerate(self.actions) if a.job == job]

    @property
    def commit(self) -> str | None:
        """The commit built: the pushed one (git_commit), else the first a git action resolved
        (a gate candidate's build builds its merge, which its git facts hold once made)."""
        if self.gate is not None and self.git.commit not in (None, self.gate.candidate):
            return self.git.commit
        pushed = self.parameters.get("git_commit")
        if isinstance(pushed, str) and pushed:
            return pushed
        for action in self.actions:
            sources = action.sources()
            if sources:
                return sources[0].commit
        return self.resolved_commit

    @property
    def git_facts(self) -> GitFacts:
        """What the build was built from: its stored facts, with the commit, subject and
        author of the first source a git action checked out where the trigger gave none."""
        facts = self.git
        for action in self.actions:
            sources = action.sources()
            if sources:
                facts = facts.checked_out(sources[0])
                break
        commit = self.commit
        if facts.commit is None and commit:
            facts = GitFacts(facts.ref, facts.branch, facts.tag, commit, facts.subject,
                             facts.author)
        return facts

    @property
    def gate_facts(self) -> GateFacts:
        """A gate build's facts, with the base its git action merged onto where they lack it."""
        assert self.gate is not None
        if self.gate.base is not None:
            return self.gate
        for action in self.actions:
            sources = action.sources()
            if sources and sources[0].base is not None:
                return replace(self.gate, base=sources[0].base)
        return self.gate

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "number": self.number,
            "state": self.state.value,
            "parameters": self.parameters,
            "commit": self.commit,
            "queued_at": self.queued_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "worker": self.worker,
            "event": self.event,
            "triggered_by": self.triggered_by,
            "git": self.git_facts.to_json(),
            "gate": None if self.gate is None else self.gate_facts.to_json(),
            "fail_fast": self.fail_fast,
            "jobs": [j.to_json() for j in self.jobs],
            "actions": [a.to_json() for a in self.actions],
        }


# The details key under which an action reports the source revisions it checked out (the git
# actions do), each a SourceRevision's JSON; the action's JSON shows them under it as they are.
SOURCES_KEY = "git"


@dataclass(frozen=True)
class SourceRevision:
    """A repository an action checked out: where from (credentials hidden), which ref, which
    commit, into which folder of the workspace; `name` for one of several (git_mirror)."""

    url: str
    ref: str
    commit: str
    dir: str
    name: str | None = None
    subject: str | None = None  # the commit's subject line and author (one_line), if known
    author: str | None = None
    base: str | None = None  # a gate candidate's merge: the target's tip it was merged onto

    def to_json(self) -> dict[str, str]:
        doc = {"url": self.url, "ref": self.ref, "commit": self.commit, "dir": self.dir}
        if self.base is not None:
            doc["base"] = self.base
        if self.subject is not None:
            doc["subject"] = self.subject
        if self.author is not None:
            doc["author"] = self.author
        return {"name": self.name, **doc} if self.name is not None else doc

    @classmethod
    def from_json(cls, doc: object) -> SourceRevision | None:
        """One reported entry; None unless it names a commit."""
        if not isinstance(doc, dict) or not isinstance(doc.get("commit"), str) \
                or not doc["commit"]:
            return None
        name, subject, author = doc.get("name"), doc.get("subject"), doc.get("author")
        base = doc.get("base")
        return cls(str(doc.get("url", "")), str(doc.get("ref", "")), doc["commit"],
                   str(doc.get("dir", "")), name if isinstance(name, str) else None,
                   one_line(subject) if isinstance(subject, str) else None,
                   one_line(author) if isinstance(author, str) else None,
                   base if isinstance(base, str) else None)


# An action's own fields in its JSON: what its worker reports (`details`) never overwrites them.
ACTION_FIELDS = frozenset({"job", "pipeline", "index", "kind", "where", "state", "exit_code",
                           "duration", "message"})
