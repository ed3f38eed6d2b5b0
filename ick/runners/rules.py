"""The rules an action's keys follow, as values the action type records name (`Rule`), and
how a message quotes a value. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ick.model import MAX_NAME_PART, SECRET_NAME_RE, SECRET_NAME_RULE


@dataclass(frozen=True)
class Rule:
    """What a key's value must be: a test, and the words a message uses for it."""

    test: Callable[[object], bool]
    text: str


def show_value(value: object) -> str:
    """A value as a message quotes it: YAML's spelling of true/false/null, long values cut short."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_str(value: object) -> bool:
    return isinstance(value, str)


def is_nonempty_str(value: object) -> bool:
    return isinstance(value, str) and value != ""


def is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_secret_name(value: object) -> bool:
    return (isinstance(value, str) and SECRET_NAME_RE.fullmatch(value) is not None
            and len(value) <= MAX_NAME_PART)


def is_secret_list(value: object) -> bool:
    return isinstance(value, list) and all(is_secret_name(item) for item in value)


def is_positive_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_RULE = ("a mapping of variable names (letters, digits, '_'; not ICK_*) to strings "
            "without NUL")


def is_env(value: object) -> bool:
    """`env:`: literal variables; ICK_* stay ick's own, so `params` and the rest keep working."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and ENV_NAME_RE.match(k) is not None and not k.startswith("ICK_")
        and k != "BUILD_NUMBER" and isinstance(v, str) and "\0" not in v
        for k, v in value.items()
    )


def is_port(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def is_relative_glob(value: object) -> bool:
    """A glob naming files inside the workspace: not empty, not absolute, no '..' part, no
    control character (a path from it goes into log lines and URLs)."""
    if not isinstance(value, str) or not value or value.startswith("/"):
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return False
    return ".." not in value.split("/")


def is_output_globs(value: object) -> bool:
    return (isinstance(value, list) and bool(value)
            and all(is_relative_glob(item) for item in value))


OUTPUT_GLOBS_RULE = ("a list of glob patterns relative to the workspace (not empty, no '/' at "
                     "the start, no '..')")
STRING = Rule(is_str, "a string")
SECRET_NAME = Rule(is_secret_name, SECRET_NAME_RULE)
GLOBS = Rule(is_str_list, "a list of glob patterns")
