"""Which workers may take a build: its `worker:` requirements against the workers' labels.

Pure: no I/O, no clock. The unit routed is a build today (all its actions run on one worker,
in one workspace); a matrix job can later be routed the same way with its own `Needs`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ick.errors import InputError
from ick.model import ActionTraits

Labels = Mapping[str, tuple[str, ...]]

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VALUE_RE = re.compile(r"^[A-Za-z0-9._:+-]{1,100}$")
REQUIREMENT_RULE = ("a mapping of worker labels to values, like {arch: arm64} (label names and "
                    "values: letters, digits, '.', '_', '-')")


def is_requirement(value: object) -> bool:
    """Whether a `worker:` value is valid: label names to string (or whole number) values."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and LABEL_RE.match(k) is not None
        and not isinstance(v, bool) and isinstance(v, str | int)
        and VALUE_RE.match(str(v)) is not None
        for k, v in value.items())


def label_problem(key: str, value: str) -> str | None:
    """What is wrong with a worker label K=V an operator gives, or None."""
    if not LABEL_RE.match(key):
        return f"bad label name {key!r}: use letters, digits, '.', '_' and '-'"
    if not VALUE_RE.match(value):
        return f"bad value {value!r} of label {key!r}: use letters, digits, '.', '_' and '-'"
    return None


@dataclass(frozen=True)
class WorkerInfo:
    """A registered worker as routing sees it: every label may have several values."""

    id: str
    labels: Labels = field(default_factory=dict)
    local: bool = False
    slots: int = 1


@dataclass(frozen=True)
class Needs:
    """What a build asks of its worker: these label values, and maybe the controller's disk."""

    labels: Mapping[str, str] = field(default_factory=dict)
    local: bool = False
    local_because: str | None = None  # the action type that needs a local worker

    def show(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))


def merge_requirements(*levels: tuple[str, Mapping[str, Any] | None]) -> dict[str, str]:
    """Merge the `worker:` mappings of (where, mapping) levels: each restricts further, so a
    key given twice must have the same value."""
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    for where, mapping in levels:
        for key, value in (mapping or {}).items():
            text = str(value)
            if key in merged and merged[key] != text:
                raise InputError(f"{where} says worker {key}={text} but {origin[key]} says "
                                 f"{key}={merged[key]}: no worker can be both")
            merged[key] = text
            origin.setdefault(key, where)
    return merged


def needs_of(actions: Iterable[tuple[ActionTraits, Mapping[str, Any]]],
             parameters: Mapping[str, Any] | None = None) -> Needs:
    """The needs of a job from its actions' (traits, spec) and parameters: every `worker:`
    pair of every action (the driver has merged the project's and pipeline's into them), the
    `arch` that an action's arch key (else the `debian_arch` parameter) names, and a local
    worker if any action's type needs the controller's disk."""
    labels: dict[str, str] = {}
    local_because = None
    arch = None
    for traits, spec in actions:
        for key, value in (spec.get("worker") or {}).items():
            labels.setdefault(str(key), str(value))
        if traits.local and local_because is None:
            local_because = traits.kind
        arch_key = traits.arch_key
        if arch_key is not None and isinstance(spec.get(arch_key), str) and arch is None:
            arch = spec[arch_key]
    if arch is None and isinstance((parameters or {}).get("debian_arch"), str):
        arch = str((parameters or {})["debian_arch"])
    if arch:
        labels.setdefault("arch", arch)
    return Needs(labels, local_because is not None, local_because)


def can_take(worker: WorkerInfo, needs: Needs) -> bool:
    if needs.local and not worker.local:
        return False
    return all(value in worker.labels.get(key, ()) for key, value in needs.labels.items())


def waiting_reason(needs: Needs, workers: Iterable[WorkerInfo]) -> str | None:
    """Why no registered worker, busy or idle, could ever take a build with these needs; None
    when one could (then the build only waits its turn)."""
    workers = list(workers)
    if any(can_take(w, needs) for w in workers):
        return None
    if needs.local and not any(w.local for w in workers):
        return f"no local worker ({needs.local_because} needs the controller's disk)"
    candidates = [w for w in workers if w.local] if needs.local else workers
    for key, value in sorted(needs.labels.items()):
        if not any(value in w.labels.get(key, ()) for w in candidates):
            where = "local worker" if needs.local else "worker"
            return f"no {where} has {key}={value}"
    if not candidates:
        return "no worker is registered"
    return f"no worker has all of {needs.show()}"
