"""What every runner gets (`ActionContext`) and gives back (`Outcome`), and the record that
describes one action type (`ActionType`): its keys, where it runs, the tools it needs, its runner.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ick.config import passed_env
from ick.errors import ActionError
from ick.runners.rules import Rule
from ick.scheduler.machine import Outcome

if TYPE_CHECKING:
    from ick.runners.gitcache import MirrorLocks
    from ick.runners.process import ProcessResult
    from ick.worker.services import WorkerServices

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
    started: Callable[[int], None] | None = None  # told each pid the action starts (tracking)
    job: int = 0  # which job of the build (a build with a matrix has several)

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
        })
        if self.secrets_dir is not None:
            env["ICK_SECRETS"] = str(self.secrets_dir)
        return env


def _has_line_break(value: object) -> bool:
    if isinstance(value, str):
        return any(c in value for c in "\n\r\0")
    if isinstance(value, list):
        return any(_has_line_break(item) for item in value)
    if isinstance(value, dict):
        return any(_has_line_break(k) or _has_line_break(v) for k, v in value.items())
    return False


class Runner(Protocol):
    async def run(self, ctx: ActionContext) -> Outcome | ProcessResult:
        """A process's result (the worker says what it means) or an Outcome of its own; the
        worker times the action either way."""


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
    runners and `ick doctor` are derived from that list.

    `value` is the rule for `KIND: VALUE` where the type is spelled so (`shell: SNIPPET`);
    without it the type is spelled `action: KIND`. `settings` are its keys beyond the common
    ones, each with its rule; each may also come from the build parameter of the same name.
    """

    kind: str
    wheres: tuple[str, ...]
    runner: Callable[[], Runner]
    value: Rule | None = None
    settings: Mapping[str, Rule] = field(default_factory=dict)
    tools: tuple[Tool, ...] = ()

    @property
    def type_key(self) -> str:
        return self.kind if self.value is not None else "action"
