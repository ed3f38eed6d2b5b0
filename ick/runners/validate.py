"""The built-in action types: the keys each takes and where it may run.

Validation only; running an action is the business of ick/runners/.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ick.model import WHERES


@dataclass(frozen=True)
class ActionSpec:
    """One action type, the hosts it may run on, and its settings beyond the common keys."""

    kind: str
    wheres: tuple[str, ...]
    settings: frozenset[str] = frozenset()


_HOST = ("host",)

ACTION_SPECS: dict[str, ActionSpec] = {
    spec.kind: spec
    for spec in (
        ActionSpec("shell", WHERES),
        ActionSpec("python", WHERES),
        ActionSpec("debootstrap", _HOST, frozenset({"mirror", "variant", "debian_codename"})),
        ActionSpec("archive", _HOST, frozenset({"globs", "artifact_name"})),
        ActionSpec("populate_systree", _HOST, frozenset({"systree_name"})),
        ActionSpec("populate_workspace", _HOST, frozenset({"workspace_artifact"})),
        ActionSpec(
            "git",
            _HOST,
            frozenset({"git_url", "git_dir", "git_ref", "ssh_key_secret", "known_hosts_secret"}),
        ),
        ActionSpec("git_mirror", _HOST, frozenset({"sources", "ssh_key_secret",
                                                   "known_hosts_secret"})),
        ActionSpec(
            "rsync",
            _HOST,
            frozenset(
                {"rsync_src", "rsync_target", "ssh_port", "ssh_key_secret", "known_hosts_secret"}
            ),
        ),
        ActionSpec("apt_publish", _HOST, frozenset({"debs", "distribution"})),
        ActionSpec("dput", _HOST, frozenset({"changes", "dput_target"})),
        ActionSpec("deploy", _HOST, frozenset({"environment"})),
    )
}

# These types are spelled `TYPE: VALUE`; every other one is `action: TYPE`.
OWN_KEY_TYPES = ("shell", "python", "debootstrap", "archive")
TYPE_KEYS = (*OWN_KEY_TYPES, "action")
COMMON_KEYS = frozenset({"where", "timeout", "network", "secrets", "name", "env"})
_ACTION_NAMES = tuple(kind for kind in ACTION_SPECS if kind not in OWN_KEY_TYPES)
_ALL_SETTINGS = frozenset().union(*(spec.settings for spec in ACTION_SPECS.values()))

# A secret becomes the file $ICK_SECRETS/NAME, so its name must not be able to leave that folder.
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
SECRET_NAME_RULE = "a secret name (letters, digits, '.', '_' and '-')"

RelPath = tuple[object, ...]
"""Where a problem is inside an action: () for the action itself, (key,) for one of its keys."""


def show_value(value: object) -> str:
    """A value as a message quotes it: YAML's spelling of true/false/null, long values cut short."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_nonempty_str(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_secret_name(value: object) -> bool:
    return isinstance(value, str) and SECRET_NAME_RE.match(value) is not None


def _is_secret_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_secret_name(item) for item in value)


def _is_positive_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _is_port(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_RULE = ("a mapping of variable names (letters, digits, '_'; not ICK_*) to strings "
            "without NUL")


def _is_env(value: object) -> bool:
    """`env:`: literal variables; ICK_* stay ick's own, so `params` and the rest keep working."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and ENV_NAME_RE.match(k) is not None and not k.startswith("ICK_")
        and k != "BUILD_NUMBER" and isinstance(v, str) and "\0" not in v
        for k, v in value.items()
    )


def _is_sources(value: object) -> bool:
    keys = {"name", "repo", "ref", "location"}
    return isinstance(value, list) and all(
        isinstance(item, dict)
        and {"name", "repo"} <= item.keys() <= keys
        and all(isinstance(v, str) for v in item.values())
        for item in value
    )


# key -> (test, what the value must be). Settings not named here must be strings.
_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "timeout": (_is_positive_number, "a positive number of seconds"),
    "network": (lambda v: isinstance(v, bool), "true or false"),
    "secrets": (_is_secret_list, "a list of secret names (letters, digits, '.', '_' and '-')"),
    "name": (_is_str, "a string"),
    "env": (_is_env, ENV_RULE),
    "shell": (_is_str, "a string (a bash snippet)"),
    "python": (_is_str, "a string (a python snippet)"),
    "debootstrap": (_is_nonempty_str, "'auto' or a debian codename"),
    "archive": (lambda v: v in ("workspace", "systree"), "'workspace' or 'systree'"),
    "globs": (_is_str_list, "a list of glob patterns"),
    "ssh_port": (_is_port, "a port number from 1 to 65535"),
    "ssh_key_secret": (_is_secret_name, SECRET_NAME_RULE),
    "known_hosts_secret": (_is_secret_name, SECRET_NAME_RULE),
    "sources": (
        _is_sources,
        "a list of mappings with 'name', 'repo' and optionally 'ref' and 'location' (strings)",
    ),
    "debs": (lambda v: isinstance(v, str) or _is_str_list(v), "a glob or a list of globs"),
}


def _spec_of(doc: dict[object, object], problems: list[tuple[RelPath, str]]) -> ActionSpec | None:
    """The action's type, or None after saying why it has none we know."""
    types = [key for key in doc if key in TYPE_KEYS]
    if not types:
        problems.append(((), f"no action type (expected one of: {', '.join(TYPE_KEYS)})"))
        return None
    if len(types) > 1:
        named = ", ".join(repr(key) for key in types)
        problems.append(((types[1],), f"more than one action type: {named}"))
        return None
    if types[0] != "action":
        return ACTION_SPECS[types[0]]
    name = doc["action"]
    if isinstance(name, str) and name in _ACTION_NAMES:
        return ACTION_SPECS[name]
    expected = ", ".join(_ACTION_NAMES)
    problems.append(
        (("action",), f"unknown action {show_value(name)} (expected one of: {expected})")
    )
    return None


def _where_problem(
    doc: dict[object, object], spec: ActionSpec | None
) -> tuple[RelPath, str] | None:
    wheres = spec.wheres if spec else WHERES
    if "where" not in doc:
        if len(wheres) == 1 and spec is not None:
            return (), f"missing 'where' ({spec.kind} runs only where: {wheres[0]})"
        return (), f"missing 'where' (one of {', '.join(wheres)})"
    where = doc["where"]
    if not isinstance(where, str) or where not in WHERES:
        return ("where",), f"'where' must be one of {', '.join(WHERES)}, not {show_value(where)}"
    if spec is not None and where not in spec.wheres:
        return ("where",), f"{spec.kind} cannot run where: {where} (only {', '.join(wheres)})"
    return None


def _keys_of(spec: ActionSpec) -> list[str]:
    type_key = spec.kind if spec.kind in OWN_KEY_TYPES else "action"
    return sorted(COMMON_KEYS | spec.settings | {type_key})


def action_problems(doc: object) -> list[tuple[RelPath, str]]:
    """Every problem with one action document, each with the key it is about."""
    if not isinstance(doc, dict):
        return [((), f"an action must be a mapping, not {show_value(doc)}")]
    problems: list[tuple[RelPath, str]] = []
    spec = _spec_of(doc, problems)
    settings = spec.settings if spec else _ALL_SETTINGS
    known = COMMON_KEYS | set(TYPE_KEYS) | settings
    for key in doc:
        if key not in known:
            # Only a known type can say what it expects; otherwise the list would mislead.
            hint = "" if spec is None else f" (expected one of: {', '.join(_keys_of(spec))})"
            problems.append(((key,), f"unknown key {show_value(key)}{hint}"))
    where = _where_problem(doc, spec)
    if where is not None:
        problems.append(where)
    for key, value in doc.items():
        if key == "action" or key == "where" or key not in known or not isinstance(key, str):
            continue
        test, rule = _RULES.get(key, (_is_str, "a string"))
        if not test(value):
            problems.append(((key,), f"'{key}' must be {rule}, not {show_value(value)}"))
    return problems


def validate_action(doc: object, where: str) -> list[str]:
    """Every problem with one action, each prefixed with `where` ("action 3 of pipeline 'x'")."""
    return [f"{where}: {message}" for _, message in action_problems(doc)]
