"""Credentials for git actions: passwords in URLs hidden from all that is logged or shown,
and the ssh key an action names with `ssh_key_secret`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from ick.errors import ActionError
from ick.model import SECRET_NAME_RE

HIDDEN = "***"

# scheme://userinfo@ — greedy up to the last '@' before the path, as URL parsers read it, so a
# password with a raw '@' in it is hidden whole.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s'\"]*)@")

# Over http(s) a bare user part is usually a token (https://TOKEN@host/...), so it goes too;
# over ssh and git a bare user (git@, ssh://git@host) is a login name and stays.
_TOKEN_SCHEMES = ("http://", "https://")

# A password this short would blank out ordinary text if replaced wherever it occurs.
_MIN_LITERAL = 4


def _hide_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match["scheme"], match["userinfo"]
    user, colon, _ = userinfo.partition(":")
    if colon:
        return f"{scheme}{user}:{HIDDEN}@"
    if scheme.lower() in _TOKEN_SCHEMES:
        return f"{scheme}{HIDDEN}@"
    return match.group(0)


def redact(text: str) -> str:
    """`text` with the password (or http token) of every URL in it replaced by ***."""
    return _USERINFO.sub(_hide_userinfo, text)


def strip_password(url: str) -> str:
    """The URL without its password (or http token), for places a later fetch may read it."""
    def drop(match: re.Match[str]) -> str:
        scheme, userinfo = match["scheme"], match["userinfo"]
        user, colon, _ = userinfo.partition(":")
        if colon:
            return f"{scheme}{user}@"
        return scheme if scheme.lower() in _TOKEN_SCHEMES else match.group(0)

    return _USERINFO.sub(drop, url, count=1)


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL, as written and percent-decoded, to hide wherever they occur."""
    match = _USERINFO.search(url)
    if match is None:
        return []
    user, colon, password = match["userinfo"].partition(":")
    secret = password if colon else (user if match["scheme"].lower() in _TOKEN_SCHEMES else "")
    return [s for s in {secret, unquote(secret)} if len(s) >= _MIN_LITERAL]


def redactor(urls: list[str]) -> Callable[[str], str]:
    """A function hiding URL passwords in general and these URLs' secrets wherever they occur."""
    literals = sorted({s for url in urls for s in url_secrets(url)}, key=len, reverse=True)

    def hide(text: str) -> str:
        text = redact(text)
        for literal in literals:
            text = text.replace(literal, HIDDEN)
        return text

    return hide


class RedactingOutput:
    """Feeds output on to the build log a whole line at a time, with secrets hidden.

    Whole lines, because a password split across two chunks would slip past a per-chunk
    replacement. It also keeps the last lines, for the one-line message of a failure.
    """

    KEEP = 20

    def __init__(self, sink: Callable[[bytes], None] | None, hide: Callable[[str], str]) -> None:
        self.sink = sink
        self.hide = hide
        self._partial = b""
        self.lines: list[str] = []

    def __call__(self, data: bytes) -> None:
        data = self._partial + data
        *whole, self._partial = data.split(b"\n")
        for line in whole:
            self._emit(line + b"\n")

    def flush(self) -> None:
        if self._partial:
            partial, self._partial = self._partial, b""
            self._emit(partial + b"\n")

    def _emit(self, raw: bytes) -> None:
        text = self.hide(raw.decode(errors="replace"))
        self.lines = [*self.lines[-(self.KEEP - 1):], text.rstrip("\n")]
        if self.sink is not None:
            self.sink(text.encode())

    def reason(self) -> str:
        return git_reason(self.lines)


def git_reason(lines: list[str]) -> str:
    """What git said went wrong: its last fatal or error line, else its last line.

    When git only says it could not read from the remote, the line before says why (ssh's
    "Host key verification failed.", "Permission denied (publickey)."), so that one is it.
    """
    stripped = [line.strip() for line in lines if line.strip()]
    for i in range(len(stripped) - 1, -1, -1):
        for prefix in ("fatal: ", "error: "):
            if stripped[i].startswith(prefix):
                reason = stripped[i][len(prefix):]
                if reason.startswith("Could not read from remote") and i > 0:
                    return stripped[i - 1]
                if reason.endswith(":") and i + 1 < len(stripped):  # continued on the next line
                    return f"{reason} {stripped[i + 1]}"
                return reason
    return stripped[-1] if stripped else "no output"


def _secret_file(name: object, key: str, secret_dirs: list[Path]) -> Path:
    if not isinstance(name, str) or not SECRET_NAME_RE.match(name):
        raise ActionError(f"{key} must be a secret name, not {name!r}")
    for folder in secret_dirs:
        if (folder / name).is_file():
            return folder / name
    raise ActionError(f"secret {name} is not set")


def ssh_env(key_name: object, hosts_name: object, secret_dirs: list[Path]) -> dict[str, str]:
    """The environment that makes git's ssh use the key in secret `key_name` and check hosts
    against secret `hosts_name`.

    Neither named: nothing, so the host's own ssh configuration applies. Host keys are always
    checked (against the host's known hosts where no secret names them); never turned off.
    """
    if key_name is None and hosts_name is None:
        return {}
    # The paths are ick's own (the build's secrets folder), quoted because git hands this
    # command to a shell; no parameter value reaches this text.
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    if key_name is not None:
        key = _secret_file(key_name, "ssh_key_secret", secret_dirs)
        argv += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
    if hosts_name is not None:
        hosts = _secret_file(hosts_name, "known_hosts_secret", secret_dirs)
        argv += ["-o", f"UserKnownHostsFile={hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
                 "-o", "UpdateHostKeys=no"]
    return {"GIT_SSH_COMMAND": shlex.join(argv)}
