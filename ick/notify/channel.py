"""What a notification channel is: one `Channel` record per channel (ick/notify/channels/), and
the frozen `Target` a checked `notify:` entry becomes, whichever channel it goes by.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from ick.config import SmtpSettings

WHENS = ("always", "failure", "change")
ONS = ("start", "end")


@dataclass(frozen=True)
class Target:
    """One `notify:` entry: the channel it goes by (its key, "email"), the address there (a
    mail address, a URL), which events it hears (`on`), which outcomes (`when`), and the
    project's secret it uses (a webhook's signing key), if any."""

    channel: str
    address: str
    when: str = "always"
    on: tuple[str, ...] = ("end",)
    secret: str | None = None


@dataclass(frozen=True)
class Senders:
    """What the outbox lends a channel to send one notification: the daemon's smtp settings,
    its HTTP client session, and the value of a secret of the build's project (raising
    SendError if it is not set)."""

    smtp: SmtpSettings
    session: aiohttp.ClientSession
    secret: Callable[[str], bytes]


@dataclass(frozen=True)
class Channel:
    """One notification channel, whole: ick/notify/channels lists them, and the .ick file
    checks, the outbox and `ick doctor` read that list.

    `key` names the channel in a `notify:` entry (`email: dev@example.org`); its value must
    pass `address_ok` (`address_rule` says what it must be). `takes_secret`: the entry may
    name a project secret. `send` delivers one notification's facts and says what the
    receiver answered; `shown` is a target as the daemon's log may show it (no credentials).
    `settings` is the ick.yaml key the channel is configured by, if any; `usable` says what
    this host lacks to send by it, or None.
    """

    key: str
    address_ok: Callable[[object], bool]
    address_rule: str
    send: Callable[[Senders, Target, Mapping[str, Any]], Awaitable[str]]
    shown: Callable[[Target], str]
    takes_secret: bool = False
    settings: str | None = None
    usable: Callable[[], str | None] = lambda: None
