"""What every runner gets (`ActionContext`, with the `WorkerServices` its worker offers) and
the record that describes one action type (`ActionType`): its keys, where it runs, the tools
it needs, the artifacts it reads and writes, what it needs of a worker, its runner.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ick.config import passed_env
from ick.errors import ActionError
from ick.model import NO_GIT, ActionTraits, GitFacts
from ick.runners.result import ActionResult
from ick.runners.rules import Rule

if TYPE_CHECKING:
    from ick.runners.gitcache import MirrorLocks

@dataclass
class HostSettings:
    """What the daemon tells its workers about the host (from ick.yaml)."""

    state_dir: Path
    debian_mirror: str | None = None
    run_root: Path | None = None  # where run directories go; default STATE/run


@dataclass
class BuildScratch:
    """Per-build worker state that outlives one action: the systree, things to undo at the end."""

    systree: Path | None = None
    cleanups: list[Callable[[], Any]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


class Shared:
    """What every runner of one worker process shares: one per process (ick.runners.registry).

    Made at first use, so that a worker that never runs git does not load its modules.
    """

    def __init__(self) -> None:
        self._mirror_locks: MirrorLocks | None = None

    @property
    def mirror_locks(self) -> MirrorLocks:
        if self._mirror_locks is None:
            from ick.runners.gitcache import MirrorLocks

            self._mirror_locks = MirrorLocks()
        return self._mirror_locks


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact as a worker knows it: its name and what its bytes are."""

    name: str
    digest: str  # "sha256:<64 hex digits>"
    size: int


@dataclass(frozen=True)
class SystreeView:
    """One build's copy-on-write view of a cached systree."""

    root: Path
    digest: str

    @property
    def merged(self) -> Path:
        return self.root / "merged"


class Systrees(Protocol):
    """The worker's systree cache, as an action uses it."""

    async def open_view(self, artifact: ArtifactRef, ctx: ActionContext) -> tuple[
            SystreeView, bool]:
        """A view of the artifact's tree for this build, and whether the tree was cached."""

    async def close_view(self, view: SystreeView) -> None: ...


class WorkerServices(Protocol):
    """What an action may ask of the worker it runs on: artifacts, the systree cache, secrets.
    The runners define it; the worker implements it (ick.worker.services, ick.worker.remote)."""

    @property
    def systrees(self) -> Systrees: ...

    async def artifact(self, ctx: ActionContext, name: str) -> ArtifactRef | None:
        """The artifact of that name, or None if there is none."""

    def blob(self, ctx: ActionContext, ref: ArtifactRef) -> contextlib.AbstractAsyncContextManager[
            Path]:
        """The artifact's bytes as a file on this worker (digest checked), while in use."""

    async def referenced(self, digest: str) -> bool:
        """Whether an artifact still has this digest (else its cached tree may go)."""

    def temp_path(self, suffix: str) -> Path:
        """Where to write a file that `store` will take."""

    async def store(self, ctx: ActionContext, name: str, path: Path,
                    arch: str | None = None) -> ArtifactRef:
        """Store the file at `path` (from `temp_path`, which it takes) as artifact `name`,
        recording the architecture of the tree it holds, if it holds one."""

    async def secret(self, ctx: ActionContext, name: str) -> bytes | None:
        """The value of a secret of the build's project that the action names, or None."""

    async def store_output(self, ctx: ActionContext, path: str, file: Path) -> tuple[int, str]:
        """Keep `file` (read, not taken) as output `path` (relative to the workspace) of the
        action's build and job: its size and digest."""

    async def deployed_outputs(self, ctx: ActionContext, build_id: int) -> int:
        """Put every output of build `build_id` (the one a deployment's run ships) into the
        action's workspace at its path; how many there were."""


@dataclass
class ActionContext:
    build_id: int
    project: str
    number: int
    seq: int
    action: dict[str, Any]
    parameters: dict[str, Any]
    workspace: Path
    run_dir: Path
    output: Callable[[bytes], None]
    host: HostSettings
    scratch: BuildScratch
    services: WorkerServices | None = None  # artifacts, systrees, secrets: the worker's
    secrets_dir: Path | None = None  # $ICK_SECRETS, while the action has secrets (secretfiles)
    shared: Shared = field(default_factory=Shared)
    kind: str = ""  # the action's type, as its WorkItem says (its runner is that type's)
    started: Callable[[int], None] | None = None  # told each pid the action starts (tracking)
    job: int = 0  # which job of the build (a build with a matrix has several)
    event: str = "manual"  # what caused the build (ick.model.EVENTS)
    git: GitFacts = NO_GIT  # what the build builds, as far as ick knows

    def setting(self, key: str, default: Any = None) -> Any:
        """A built-in action's setting: the action's own key, else the build parameter.

        Settings reach command lines (git, rsync, dput...) and log lines: a value with a
        newline or NUL in it is refused, so it can neither split one nor forge another.
        """
        value = self.action[key] if key in self.action else self.parameters.get(key, default)
        if _has_line_break(value):
            raise ActionError(f"{key}: a value with a newline, a carriage return or a NUL is "
                              "refused")
        return value

    def required(self, key: str) -> Any:
        value = self.setting(key)
        if value is None:
            raise ActionError(f"missing setting {key!r}: give it on the action or as a parameter")
        return value

    def say(self, text: str) -> None:
        """A line of ick's own in the build log."""
        self.output(f"ick: {text}\n".encode())

    @property
    def timeout(self) -> float | None:
        value = self.action.get("timeout")
        return float(value) if value is not None else None

    def params_file(self) -> Path:
        path = self.run_dir / "params.json"
        if not path.exists():
            path.write_text(json.dumps(self.parameters))
        return path

    def action_env(self) -> dict[str, str]:
        """The action's own `env:`: literal strings, never expanded (checked at apply time)."""
        value = self.action.get("env")
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    def base_env(self) -> dict[str, str]:
        env = passed_env()  # only these of the daemon's environment
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
        env.setdefault("LANG", "C.UTF-8")
        env.update(self.action_env())
        env.update({
            "ICK_BUILD_ID": str(self.build_id),
            "ICK_PROJECT": self.project,
            "BUILD_NUMBER": str(self.number),
            "ICK_JOB": str(self.job),
            "ICK_WORKSPACE": str(self.workspace),
            "ICK_PARAMS": str(self.params_file()),
            "ICK_EVENT": self.event,
            # Empty when unknown, so a script can test them without `set -u` failing.
            "ICK_GIT_REF": self.git.ref or "",
            "ICK_GIT_BRANCH": self.git.branch or "",
            "ICK_GIT_TAG": self.git.tag or "",
            "ICK_GIT_COMMIT": self.git.commit or "",
        })
        if self.secrets_dir is not None:
            env["ICK_SECRETS"] = str(self.secrets_dir)
        return env

    def worker_services(self) -> WorkerServices:
        if self.services is None:
            raise ActionError("this worker has no artifact store, systree cache or secrets")
        return self.services


def _has_line_break(value: object) -> bool:
    if isinstance(value, str):
        return any(c in value for c in "\n\r\0")
    if isinstance(value, list):
        return any(_has_line_break(item) for item in value)
    if isinstance(value, dict):
        return any(_has_line_break(k) or _has_line_break(v) for k, v in value.items())
    return False


class Runner(Protocol):
    async def run(self, ctx: ActionContext) -> ActionResult:
        """How the action ended; the worker times it and reports it."""


RunnerFactory = Callable[[], Runner]


@dataclass(frozen=True)
class Tool:
    """A host program an action type runs, the Debian package that has it, and what for."""

    command: str
    package: str
    purpose: str


@dataclass(frozen=True)
class ActionType:
    """One action type, whole: ick/runners/catalog.py lists them, and validation, the workers'
    runners, the work protocol's artifact checks and `ick doctor` are derived from that list.

    `value` is the rule for `KIND: VALUE` where the type is spelled so (`shell: SNIPPET`);
    without it the type is spelled `action: KIND`. `settings` are its keys beyond the common
    ones, each with its rule; each may also come from the build parameter of the same name.
    `reads` and `writes` are the settings that name the artifacts it reads and stores (a
    remote worker may fetch or upload those only); `arch_key` is the setting whose value is
    the architecture its worker must have (label `arch`); `local` says it needs the
    controller's own disk, so only a local worker may run it; `untrusted` what an untrusted
    change may not do with it (ick.runners.untrusted).
    """

    kind: str
    wheres: tuple[str, ...]
    runner: Callable[[], Runner]
    value: Rule | None = None
    settings: Mapping[str, Rule] = field(default_factory=dict)
    tools: tuple[Tool, ...] = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    arch_key: str | None = None
    local: bool = False
    # What an untrusted change (DESIGN.md, "Forges") may not do with it: "code" (it runs the
    # repository's code: only where: container, without network), "delivery" (never).
    untrusted: str | None = None

    @property
    def type_key(self) -> str:
        return self.kind if self.value is not None else "action"

    @property
    def traits(self) -> ActionTraits:
        """What the scheduler keeps of this type: decided once, when a file is checked."""
        return ActionTraits(self.kind, self.local, self.arch_key)

    def artifact_names(self, keys: tuple[str, ...], action: Mapping[str, Any],
                       parameters: Mapping[str, Any]) -> list[str]:
        """The artifacts that `keys` (its `reads` or `writes`) name for this action: each
        from the action, else from the build parameter of the same name."""
        values = (action[key] if key in action else parameters.get(key) for key in keys)
        return [value for value in values if isinstance(value, str)]
