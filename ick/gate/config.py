"""A project's `gate:` checked: the target branch, and the names of the secrets ick pushes
with over ssh. Pure."""

from __future__ import annotations

import re

from ick.model import SECRET_NAME_RE, SECRET_NAME_RULE

KEYS = ("branch", "known_hosts_secret", "push_key_secret")
MAX_BRANCH = 200
_BRANCH_RE = re.compile(r"^[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def branch_ok(name: object) -> bool:
    """A branch name git takes and ick can put on a command line: no options, no `..`, no
    `.lock` part, not itself under gate/."""
    return (isinstance(name, str) and len(name) <= MAX_BRANCH and bool(_BRANCH_RE.fullmatch(name))
            and not name.startswith(("-", "gate/")) and ".." not in name and name != "gate"
            and not any(part.startswith(".") or part.endswith((".lock", "."))
                        for part in name.split("/")))


def is_ssh(url: str) -> bool:
    """Whether git reaches `url` over ssh (ssh://..., or scp-like user@host:path)."""
    if "://" in url:
        return url.split("://", 1)[0].lower() in ("ssh", "git+ssh", "ssh+git")
    head = url.split("/", 1)[0]
    return ":" in head and not url.startswith("/")


def gate_problems(doc: object, git_url: object = None) -> list[tuple[str | None, str]]:
    """What is wrong with a `gate:` value: (the key it is about, or None, and the problem),
    each message starting `gate: `; `git_url` is the project's parameter, if it has one.
    Empty when it is good."""
    if not isinstance(doc, dict):
        return [(None, f"gate: must be a mapping with 'branch', not {_show(doc)}")]
    problems: list[tuple[str | None, str]] = []
    for key in doc:
        if key not in KEYS:
            problems.append((str(key), f"gate: unknown key {_show(key)} (expected one of: "
                                       f"{', '.join(KEYS)})"))
    if "branch" not in doc:
        problems.append((None, "gate: missing 'branch' (the target branch ick moves)"))
    elif not branch_ok(doc["branch"]):
        problems.append(("branch", "gate: 'branch' must be a branch name (letters, digits, "
                                   "'.', '_', '+', '-' and '/'; not under gate/), not "
                                   f"{_show(doc['branch'])}"))
    for key in ("push_key_secret", "known_hosts_secret"):
        if key in doc and not (isinstance(doc[key], str) and SECRET_NAME_RE.fullmatch(doc[key])):
            problems.append((key, f"gate: '{key}' must be {SECRET_NAME_RULE}, "
                                  f"not {_show(doc[key])}"))
    if isinstance(git_url, str) and is_ssh(git_url) and "push_key_secret" not in doc:
        problems.append((None, "gate: an ssh git_url needs 'push_key_secret' (the key ick "
                               "moves the target with)"))
    return problems
