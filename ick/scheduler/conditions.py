"""`when:` conditions (DESIGN.md, "Conditions"): checking one as written, deciding at plan
time whether its event, branch, tag and parameters hold, and the statuses the state machine
runs an action after. Pure: values in, problems or messages out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from ick.model import EVENTS, GitFacts

WHEN_KEYS = ("branch", "event", "parameters", "status", "tag")
STATUSES = ("success", "failure")
# An action runs while no earlier action of its job failed unless its conditions say more.
DEFAULT_STATUS = frozenset({"success"})

RelPath = tuple[object, ...]
"""Where a problem is inside a `when:` value: () for the value itself, ("event",) for a key,
("event", 1) for one item of a list."""

Problem = tuple[RelPath, str]


def _show(value: object) -> str:
    """A value as a message quotes it: strings as 'x', the rest as JSON, long ones cut."""
    text = repr(value) if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _one_or_list(value: object, key: str, rule: str, test: Callable[[object], bool],
                 unknown: str | None = None) -> list[Problem]:
    """A key that takes one value or a non-empty list of values, each passing `test`; with
    `unknown`, a value of the right type that `test` refuses is named as an unknown one."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        return [((key,), f"'{key}' must not be an empty list (it would never hold)")]
    problems: list[Problem] = []
    for index, item in enumerate(items):
        where: RelPath = (key, index) if isinstance(value, list) else (key,)
        if unknown is not None and isinstance(item, str) and not test(item):
            problems.append((where, f"unknown {unknown} {_show(item)} (expected one of: "
                                    f"{rule})"))
        elif not test(item):
            what = f"one of {rule}, or a list of them" if unknown is not None else rule
            problems.append((where, f"'{key}' must be {what}, not {_show(item)}"))
    return problems


def _glob(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _parameters_problems(value: object) -> list[Problem]:
    if not isinstance(value, dict) or not value:
        return [(("parameters",), "'parameters' must be a mapping of parameter names to a "
                                  f"value or a list of values, not {_show(value)}")]
    problems: list[Problem] = []
    for name, wanted in value.items():
        where: RelPath = ("parameters", name)
        if not isinstance(name, str) or not name:
            problems.append((where, f"a parameter name must be a non-empty string, not "
                                    f"{_show(name)}"))
        elif isinstance(wanted, list) and not wanted:
            problems.append((where, f"parameter '{name}' must not be an empty list (it "
                                    "would never hold)"))
        elif not (_is_scalar(wanted) or isinstance(wanted, list)
                  and all(_is_scalar(w) for w in wanted)):
            problems.append((where, f"parameter '{name}' must be a value (string, number, "
                                    "true, false or null) or a list of values, not "
                                    f"{_show(wanted)}"))
    return problems


def when_problems(value: object) -> list[Problem]:
    """Every problem with one `when:` value as written, each with where inside it."""
    if not isinstance(value, dict):
        return [((), f"'when' must be a mapping with keys {', '.join(WHEN_KEYS[:-1])} or "
                     f"{WHEN_KEYS[-1]}, not {_show(value)}")]
    problems: list[Problem] = []
    for key in value:
        if key not in WHEN_KEYS:
            problems.append(((key,), f"'when': unknown key {_show(key)} (expected one of: "
                                     f"{', '.join(WHEN_KEYS)})"))
    checks: dict[str, Callable[[object], list[Problem]]] = {
        "event": lambda v: _one_or_list(v, "event", ", ".join(EVENTS), lambda e: e in EVENTS,
                                        "event"),
        "branch": lambda v: _one_or_list(v, "branch", "a glob or a list of globs", _glob),
        "tag": lambda v: _one_or_list(v, "tag", "a glob or a list of globs", _glob),
        "parameters": _parameters_problems,
        "status": lambda v: _one_or_list(v, "status", ", ".join(STATUSES),
                                         lambda s: s in STATUSES, "status"),
    }
    for key, check in checks.items():
        if key in value:
            problems += [(where, message if message.startswith("'when'")
                          else f"'when': {message}") for where, message in check(value[key])]
    return problems


def _values(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _not(value: object) -> str:
    """What a condition wanted, as its message says it: 'x', or one of 'x', 'y'."""
    shown = ", ".join(_show(v) for v in _values(value))
    return f"one of {shown}" if isinstance(value, list) else shown


def _same(a: object, b: object) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b if _is_scalar(a) and _is_scalar(b) else \
        json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _ref_miss(key: str, have: str | None, wanted: object) -> str | None:
    if have is not None and any(fnmatchcase(have, g) for g in _values(wanted)):
        return None
    shown = "none" if have is None else _show(have)
    return f"when: {key} is {shown}, not {_not(wanted)}"


def plan_miss(when: Mapping[str, Any], event: str, git: GitFacts,
              parameters: Mapping[str, Any]) -> str | None:
    """Why `when` does not hold for a build of `event` built from `git` (a job, with its
    `parameters`), as the skipped action's message says it; None when every key known at
    plan time holds (`status` is the machine's)."""
    if "event" in when and event not in _values(when["event"]):
        return f"when: event is {_show(event)}, not {_not(when['event'])}"
    if "branch" in when and (miss := _ref_miss("branch", git.branch, when["branch"])):
        return miss
    if "tag" in when and (miss := _ref_miss("tag", git.tag, when["tag"])):
        return miss
    for name, wanted in (when.get("parameters") or {}).items():
        if name not in parameters:
            return f"when: parameter {_show(name)} is not set, not {_not(wanted)}"
        have = parameters[name]
        if not any(_same(have, w) for w in _values(wanted)):
            return f"when: parameter {_show(name)} is {_show(have)}, not {_not(wanted)}"
    return None


def statuses(when: object) -> frozenset[str] | None:
    """The statuses `when` lets an action run after, or None when it does not say."""
    if not isinstance(when, Mapping) or "status" not in when:
        return None
    return frozenset(str(s) for s in _values(when["status"]))


def joint_statuses(whens: Sequence[object]) -> frozenset[str]:
    """The statuses every one of these conditions (a project's entry, a pipeline, an action)
    lets an action run after; success alone where none says."""
    given = [s for s in map(statuses, whens) if s is not None]
    if not given:
        return DEFAULT_STATUS
    return frozenset.intersection(*given)


def status_miss(when: object, failed: bool) -> str | None:
    """Why an action with condition `when` (its planned spec's) does not run now that its job
    has `failed` or not, as its message says it; None when it runs."""
    wanted = statuses(when)
    wanted = DEFAULT_STATUS if wanted is None else wanted
    have = "failure" if failed else "success"
    if have in wanted:
        return None
    return f"when: status is {have}, not {' or '.join(s for s in STATUSES if s in wanted)}"
