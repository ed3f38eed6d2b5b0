"""What a forge is to ick: one `Forge` record per forge (how its webhooks are signed and what
they say, and how it takes a commit status), and the frozen values that cross from a webhook
to a build (`Pushed`) and from a build to a status request (`StatusRequest`). Pure code."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

# The states a build's commit status goes through, in GitHub's and Forgejo's words; each
# forge's record maps them to its own.
STATUS_STATES = ("pending", "success", "failure", "error")


@dataclass(frozen=True)
class ForgeConfig:
    """A project's checked `forge:` (ick.forges.config): which forge, its API's base URL, the
    repository there, and the names of the project secrets holding the status token (None:
    no statuses) and the webhook's shared secret."""

    type: str
    url: str
    repository: str
    webhook_secret: str
    token_secret: str | None = None

    @classmethod
    def of(cls, doc: Mapping[str, Any] | None) -> ForgeConfig | None:
        """The config of a project's stored (checked) `forge:`; None for a project without."""
        if not doc:
            return None
        token = doc.get("token_secret")
        return cls(str(doc["type"]), str(doc["url"]).rstrip("/"), str(doc["repository"]),
                   str(doc["webhook_secret"]), token if isinstance(token, str) else None)

    def to_doc(self) -> dict[str, str]:
        doc = {"type": self.type, "url": self.url, "repository": self.repository,
               "webhook_secret": self.webhook_secret}
        if self.token_secret is not None:
            doc["token_secret"] = self.token_secret
        return doc


@dataclass(frozen=True)
class Pushed:
    """What a webhook asks ick to build: the event (push, tag or change), the ref and commit,
    the commit's subject and author as the payload gives them, and for a pull or merge
    request its number."""

    event: str
    ref: str
    commit: str
    subject: str | None = None
    author: str | None = None
    change: int | None = None


@dataclass(frozen=True)
class Ignored:
    """A webhook that builds nothing, and why (a ping, a deleted branch, a closed request)."""

    why: str


@dataclass(frozen=True)
class StatusRequest:
    """One commit status as the forge's API takes it: where to POST which JSON, with which
    headers (the token's among them: never log them)."""

    url: str
    headers: Mapping[str, str]
    body: Mapping[str, str]


@dataclass(frozen=True)
class Status:
    """A commit status ick reports: its state (one of STATUS_STATES), the build page it links
    to, a line about the build, and its context (`ick/PROJECT`)."""

    sha: str
    state: str
    target_url: str
    description: str
    context: str


@dataclass(frozen=True)
class Forge:
    """One forge, whole (ick/forges/catalog.py lists them).

    `type` names it in `forge: {type: ...}`. A webhook is `signed` when its headers carry a
    signature the shared secret makes of the body; `delivery` is its delivery id, if any;
    `event` is what its event header names; `read` turns an event and its JSON payload into
    what to build, or says why nothing is. `status` is the request that reports a Status
    with a token. `repository_rule` says what `repository:` must be, `repository_ok` checks it.
    """

    type: str
    signed: Callable[[Mapping[str, str], bytes, bytes], bool]
    delivery: Callable[[Mapping[str, str]], str | None]
    event: Callable[[Mapping[str, str]], str | None]
    read: Callable[[str, Mapping[str, Any]], Pushed | Ignored]
    status: Callable[[ForgeConfig, Status, str], StatusRequest]
    repository_ok: Callable[[str], bool]
    repository_rule: str


def hmac_hex(key: bytes, body: bytes) -> str:
    """The hex HMAC-SHA256 of `body` under `key`, as Forgejo, Gitea and GitHub sign."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def same(given: str | None, expected: str) -> bool:
    """Whether a header's value is `expected`, compared in constant time."""
    return given is not None and hmac.compare_digest(given.strip().encode(), expected.encode())


def first_header(headers: Mapping[str, str], *names: str) -> str | None:
    """The first of `names` the headers have (aiohttp's headers ignore case)."""
    for name in names:
        value = headers.get(name)
        if value:
            return value
    return None


ZERO_SHA = "0" * 40


def deleted(sha: object) -> bool:
    """A ref pushed to the all-zero commit was deleted (SHA-1 or SHA-256)."""
    return isinstance(sha, str) and sha != "" and set(sha) == {"0"}


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def subject_of(message: object) -> str | None:
    """The first line of a commit message."""
    found = text(message)
    return found.splitlines()[0].strip() or None if found else None


def number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None


COMMIT_RE = re.compile(r"[0-9a-f]{7,64}")
# What git takes as a ref name (git check-ref-format), and nothing that could reach a command
# line or a log line as more than one word.
REF_RE = re.compile(r"refs/[^\x00-\x20\x7f~^:?*\[\\]+")
MAX_TEXT = 200  # characters of a subject or an author kept


def _clean(value: str | None) -> str | None:
    """A payload's subject or author as one line: control characters gone, cut short."""
    if value is None:
        return None
    kept = "".join(c if c.isprintable() else " " for c in value).strip()
    return kept[:MAX_TEXT] or None


def sane(pushed: Pushed) -> Pushed | str:
    """The push as ick keeps it, or what is wrong with it: a ref git would not take, a
    commit that is not a hex sha. The forge signed it, but its pushers chose the names."""
    if COMMIT_RE.fullmatch(pushed.commit) is None:
        return f"the webhook's commit {pushed.commit[:80]!r} is not a hex sha"
    if REF_RE.fullmatch(pushed.ref) is None or ".." in pushed.ref or "@{" in pushed.ref \
            or pushed.ref.endswith(("/", ".lock", ".")):
        return f"the webhook's ref {pushed.ref[:80]!r} is not a ref name git takes"
    return replace(pushed, subject=_clean(pushed.subject), author=_clean(pushed.author))
