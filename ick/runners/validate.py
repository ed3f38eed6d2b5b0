"""Validating one action document against the action type records (ick/runners/catalog.py):
its type, where it runs, and every key's value. Pure: documents in, problems out.
"""

from __future__ import annotations

from ick.model import WHERES
from ick.runners.base import ActionType
from ick.runners.catalog import ACTION_TYPES, BY_KIND
from ick.runners.rules import (
    ENV_RULE,
    OUTPUT_GLOBS_RULE,
    Rule,
    is_env,
    is_output_globs,
    is_positive_number,
    is_secret_list,
    is_str,
    show_value,
)
from ick.scheduler.conditions import when_problems
from ick.scheduler.routing import REQUIREMENT_RULE, is_requirement

# The keys every action may have, whatever its type.
COMMON: dict[str, Rule] = {
    "timeout": Rule(is_positive_number, "a positive number of seconds"),
    "network": Rule(lambda v: isinstance(v, bool), "true or false"),
    "secrets": Rule(is_secret_list, "a list of secret names (letters, digits, '.', '_' and '-')"),
    "name": Rule(is_str, "a string"),
    "env": Rule(is_env, ENV_RULE),
    "worker": Rule(is_requirement, REQUIREMENT_RULE),
    # workspace files kept with the build when the action ends (ick.worker.outputs)
    "outputs": Rule(is_output_globs, OUTPUT_GLOBS_RULE),
}
# `when:` (a condition) has its own checks, which say where inside it a problem is.
COMMON_KEYS = frozenset({"where", "when", *COMMON})
OWN_KEY_TYPES = tuple(t.kind for t in ACTION_TYPES if t.value is not None)
TYPE_KEYS = (*OWN_KEY_TYPES, "action")
_ACTION_NAMES = tuple(t.kind for t in ACTION_TYPES if t.value is None)
_ALL_SETTINGS = frozenset(key for t in ACTION_TYPES for key in t.settings)

RelPath = tuple[object, ...]
"""Where a problem is inside an action: () for the action itself, (key,) for one of its keys."""


def _rule(spec: ActionType | None, key: str) -> Rule | None:
    """The rule for `key` of an action of type `spec` (None: a type we do not know)."""
    if key in COMMON:
        return COMMON[key]
    if spec is None:
        own = BY_KIND.get(key)
        if own is not None and own.value is not None:
            return own.value
        return next((t.settings[key] for t in ACTION_TYPES if key in t.settings), None)
    if key == spec.kind and spec.value is not None:
        return spec.value
    return spec.settings.get(key)


def _spec_of(doc: dict[object, object], problems: list[tuple[RelPath, str]]) -> ActionType | None:
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
        return BY_KIND[types[0]]
    name = doc["action"]
    if isinstance(name, str) and name in _ACTION_NAMES:
        return BY_KIND[name]
    expected = ", ".join(_ACTION_NAMES)
    problems.append(
        (("action",), f"unknown action {show_value(name)} (expected one of: {expected})")
    )
    return None


def _where_problem(
    doc: dict[object, object], spec: ActionType | None
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


def _keys_of(spec: ActionType) -> list[str]:
    return sorted(COMMON_KEYS | set(spec.settings) | {spec.type_key})


def action_problems(doc: object) -> list[tuple[RelPath, str]]:
    """Every problem with one action document, each with the key it is about."""
    if not isinstance(doc, dict):
        return [((), f"an action must be a mapping, not {show_value(doc)}")]
    problems: list[tuple[RelPath, str]] = []
    spec = _spec_of(doc, problems)
    settings = frozenset(spec.settings) if spec else _ALL_SETTINGS
    known = COMMON_KEYS | set(TYPE_KEYS) | settings
    for key in doc:
        if key not in known:
            # Only a known type can say what it expects; otherwise the list would mislead.
            hint = "" if spec is None else f" (expected one of: {', '.join(_keys_of(spec))})"
            problems.append(((key,), f"unknown key {show_value(key)}{hint}"))
    where = _where_problem(doc, spec)
    if where is not None:
        problems.append(where)
    if "when" in doc:
        problems += [(("when", *inside), message) for inside, message
                     in when_problems(doc["when"])]
    for key, value in doc.items():
        if key in ("action", "where", "when") or key not in known or not isinstance(key, str):
            continue
        rule = _rule(spec, key)
        if rule is not None and not rule.test(value):
            problems.append(((key,), f"'{key}' must be {rule.text}, not {show_value(value)}"))
    return problems


def validate_action(doc: object, where: str) -> list[str]:
    """Every problem with one action, each prefixed with `where` ("action 3 of pipeline 'x'")."""
    return [f"{where}: {message}" for _, message in action_problems(doc)]
