"""Web UI sessions: minting them from a token or a one-use login link, checking them, CSRF.

A session id and a login link are random 32 bytes shown once; only their sha256 is stored,
with the token they came from, so a page is allowed what that token is allowed, and no more
once it is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ick.errors import AuthError
from ick.keepers.tokens import TokenKeeper, check_scope, split_token
from ick.storage.sessions import SessionStore
from ick.storage.tokens import TokenRecord

log = logging.getLogger(__name__)

SESSION_DAYS = 14
LINK_SECONDS = 60


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Session:
    """A live session: the token behind it, and the CSRF token its forms carry."""

    token: TokenRecord
    csrf: str


def csrf_for(session_id: str) -> str:
    """Derived from the secret session id: a page on another site can neither read nor
    compute it, and nothing more needs storing."""
    return hmac.new(session_id.encode(), b"ick-csrf", hashlib.sha256).hexdigest()


class SessionKeeper:
    def __init__(self, store: SessionStore, tokens: TokenKeeper,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.tokens = tokens
        self.clock = clock

    async def login_with_token(self, token: str) -> str:
        """A new session id for a pasted API token (any scope: a page checks its own)."""
        parts = split_token(token.strip())
        if parts is None:
            raise AuthError("that is not an ick token")
        record = self.tokens.check(f"Bearer {token.strip()}", "read")
        return await self._new_session(record)

    async def login_with_link(self, secret: str) -> str:
        """A new session id for a login link, which is used up."""
        token_id = await self.store.take_link(_digest(secret), _iso(self.clock()))
        record = None if token_id is None else self.tokens.record(token_id)
        if record is None:
            raise AuthError("this login link is used up, expired or unknown: "
                            "make a new one with 'ick login-link'")
        return await self._new_session(record)

    async def _new_session(self, record: TokenRecord) -> str:
        now = self.clock()
        session_id = secrets.token_urlsafe(32)
        await self.store.add_session(_digest(session_id), record.key_id, _iso(now),
                                     _iso(now + timedelta(days=SESSION_DAYS)))
        log.info("web session started for token %r (id %s)", record.name, record.key_id)
        return session_id

    async def make_link(self, record: TokenRecord) -> tuple[str, str]:
        """A one-use login secret for this token, and when it expires."""
        now = self.clock()
        secret = secrets.token_urlsafe(32)
        expires = _iso(now + timedelta(seconds=LINK_SECONDS))
        await self.store.add_link(_digest(secret), record.key_id, _iso(now), expires)
        return secret, expires

    async def session(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, expired, or its token revoked)."""
        if not session_id or len(session_id) > 100:
            return None
        token_id = await self.store.session_token(_digest(session_id), _iso(self.clock()))
        record = None if token_id is None else self.tokens.record(token_id)
        if record is None:
            return None
        return Session(record, csrf_for(session_id))

    async def logout(self, session_id: str) -> None:
        await self.store.remove_session(_digest(session_id))

    @staticmethod
    def check(session: Session, scope: str) -> None:
        check_scope(session.token, scope)

