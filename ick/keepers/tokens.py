"""Tokens: minting, hashing and checking them in constant time against their scopes and
the projects they are bound to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from ick.errors import AuthError, ForbiddenError, InputError, NotFoundError
from ick.storage.tokens import TokenRecord, TokenStore
from ick.timefmt import now_iso

SCOPES = ("read", "trigger", "write", "deploy", "worker", "admin")
PREFIX = "ick"
# A token bound to projects acts on their builds, logs, secrets and triggers; these scopes
# reach past any project (admin mints tokens, a worker runs any project's actions).
UNBOUND_SCOPES = ("worker", "admin")
MAX_GLOBS = 100


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class TokenKeeper:
    """Holds every token's hash in memory (the daemon is the only writer) and checks requests."""

    def __init__(self, store: TokenStore, reuse_key: bytes | None = None) -> None:
        self.store = store
        # Reusable tokens' secrets are HMAC(reuse_key, key id): only their hash is stored,
        # and the daemon can show one again (`ick hook` keeps one token per project).
        self.reuse_key = reuse_key
        self._by_id: dict[str, TokenRecord] = {}

    async def load(self) -> None:
        self._by_id = {t.key_id: t for t in await self.store.all()}

    def __len__(self) -> int:
        return len(self._by_id)

    def _derived(self, key_id: str) -> str:
        assert self.reuse_key is not None
        mac = hmac.new(self.reuse_key, key_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=").replace("_", "-")

    async def reuse(self, name: str, scopes: list[str],
                    projects: list[str] | None = None) -> tuple[str, TokenRecord, bool]:
        """The reusable token of this name, scopes and projects, minted if there is none yet;
        and whether it is new."""
        if self.reuse_key is None:
            raise InputError("this daemon keeps no reusable tokens")
        bound = None if projects is None else tuple(projects)
        for record in self.list():
            if (record.reusable and record.name == name and record.scopes == frozenset(scopes)
                    and record.projects == bound):
                return f"{PREFIX}_{record.key_id}_{self._derived(record.key_id)}", record, False
        token, record = await self.create(name, scopes, reusable=True, projects=projects)
        return token, record, True

    async def create(self, name: str, scopes: list[str], reusable: bool = False,
                     projects: list[str] | None = None) -> tuple[str, TokenRecord]:
        """Mint a token (bound to the projects matching `projects`, if given); the clear text
        is returned once and never stored."""
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise InputError(f"unknown scope {unknown[0]!r} (expected one of: {', '.join(SCOPES)})")
        if not scopes:
            raise InputError("a token needs at least one scope")
        _check_projects(projects, scopes)
        # printable: no control characters in listings, no lone surrogates SQLite cannot store
        if not name or len(name) > 200 or not name.isprintable():
            raise InputError("a token needs a name of 1 to 200 printable characters")
        key_id = secrets.token_hex(6)
        if reusable and self.reuse_key is None:
            raise InputError("this daemon keeps no reusable tokens")
        secret = (self._derived(key_id) if reusable
                  else secrets.token_urlsafe(32).replace("_", "-"))
        record = TokenRecord(key_id, name, _digest(secret), frozenset(scopes), now_iso(),
                             reusable, None if projects is None else tuple(projects))
        await self.store.add(record)
        self._by_id[key_id] = record
        return f"{PREFIX}_{key_id}_{secret}", record

    async def revoke(self, key_id: str) -> None:
        if not await self.store.remove(key_id):
            raise NotFoundError(f"no token with id {key_id!r}")
        self._by_id.pop(key_id, None)

    def record(self, key_id: str) -> TokenRecord | None:
        """The token with this id, while it is not revoked."""
        return self._by_id.get(key_id)

    def list(self) -> list[TokenRecord]:
        return sorted(self._by_id.values(), key=lambda t: t.created_at)

    def check(self, header: str | None, scope: str) -> TokenRecord:
        """The token in an Authorization header, if it is known and carries `scope`."""
        if not header:
            raise AuthError("missing token: send 'Authorization: Bearer TOKEN'")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise AuthError("bad authorization header: expected 'Bearer TOKEN'")
        parts = split_token(token.strip())
        record = self._by_id.get(parts[0]) if parts else None
        # Compare against a digest even for unknown ids so timing says nothing about them.
        expected = record.hash if record else _digest("")
        given = _digest(parts[1]) if parts else _digest("x")
        if not hmac.compare_digest(expected, given) or record is None:
            raise AuthError("invalid token")
        check_scope(record, scope)
        return record


def _check_projects(projects: list[str] | None, scopes: list[str]) -> None:
    if projects is None:
        return
    if not projects or len(projects) > MAX_GLOBS:
        raise InputError(f"projects: expected 1 to {MAX_GLOBS} globs (leave it out for a token "
                         "of every project)")
    for glob in projects:
        if not glob or len(glob) > 200 or not glob.isprintable():
            raise InputError("projects: each glob must be 1 to 200 printable characters")
    wide = [s for s in scopes if s in UNBOUND_SCOPES]
    if wide:
        raise InputError(f"a token bound to projects cannot carry the {wide[0]!r} scope, "
                         "which reaches every project")


def check_project(record: TokenRecord, project: str, missing: str) -> None:
    """404 (saying `missing`, as for a project or build that does not exist) when the token
    is bound to projects and `project` is not one of them: it must not tell which exist."""
    if not record.binds(project):
        raise NotFoundError(missing)


def check_unbound(record: TokenRecord) -> None:
    """403 for a token bound to projects on a route that is no project's (pipelines,
    artifacts, workers, apply, prune): what it reaches is every project's."""
    if record.projects is not None:
        raise ForbiddenError(f"token {record.name!r} is bound to projects "
                             f"({', '.join(record.projects)}): it may use only their routes")


def has_scope(record: TokenRecord, scope: str) -> bool:
    return scope in record.scopes or "admin" in record.scopes


def check_scope(record: TokenRecord, scope: str) -> None:
    if not has_scope(record, scope):
        raise ForbiddenError(f"token {record.name!r} lacks the {scope!r} scope")
