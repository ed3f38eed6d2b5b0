"""What a notification channel is: one `Channel` record per channel (ick/notify/channels/), and
the frozen `Target` a checked `notify:` entry becomes, whichever channel it goes by.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from ick.config import MatrixSettings, Settings, SmtpSettings
    from ick.notify.irc import IrcLink

WHENS = ("always", "failure", "change")
# The points a rule may name in `on:`. deployment, approval and gate are accepted (and
# checked) already; nothing emits them until deployments and the gate exist.
POINTS = ("started", "ended", "action_failed", "deployment", "approval", "gate")
DEFAULT_POINTS = ("ended",)
# What a rule said before the points had their names; stored projects and old files keep
# working.
OLD_POINTS = {"start": "started", "end": "ended"}
# The build events the outbox records (the `event` of a notification, the webhook's
# X-Ick-Event), and the point each one is.
POINT_OF_EVENT = {"start": "started", "end": "ended", "action_failed": "action_failed",
                  "gate": "gate"}


def points_of(on: object) -> tuple[str, ...]:
    """A stored or checked `on:` list as points (old spellings read as their new names)."""
    if not isinstance(on, list | tuple):
        return DEFAULT_POINTS
    return tuple(dict.fromkeys(OLD_POINTS.get(str(o), str(o)) for o in on))


@dataclass(frozen=True)
class Target:
    """One `notify:` entry: the channel it goes by (its key, "email"), the address there (a
    mail address, a URL), which events it hears (`on`), which outcomes (`when`), and the
    project's secret it uses (a webhook's signing key), if any."""

    channel: str
    address: str
    when: str = "always"
    on: tuple[str, ...] = DEFAULT_POINTS
    secret: str | None = None


@dataclass(frozen=True)
class Senders:
    """What the outbox lends a channel to send one notification: the daemon's settings of
    each channel, its HTTP client session, its IRC link, the value of a secret of the
    build's project (raising SendError if it is not set), and `key`, the notification's own
    id, the same on every retry (Matrix's transaction id is made of it)."""

    smtp: SmtpSettings
    session: aiohttp.ClientSession
    secret: Callable[[str], bytes]
    key: str = ""
    matrix: MatrixSettings | None = None
    irc: IrcLink | None = None


@dataclass(frozen=True)
class Channel:
    """One notification channel, whole: ick/notify/channels lists them, and the .ick file
    checks, the outbox and `ick doctor` read that list.

    `key` names the channel in a `notify:` entry (`email: dev@example.org`); its value must
    pass `address_ok` (`address_rule` says what it must be). `takes_secret`: the entry may
    name a project secret. `send` delivers one notification's facts and says what the
    receiver answered; `shown` is a target as the daemon's log may show it (no credentials).
    `settings` is the ick.yaml key the channel is configured by, if any; `usable` says what
    this host lacks to send by it, or None. `probe` (for `ick doctor`) shows the channel's
    settings and whether its server answers: (ok, what it found).
    """

    key: str
    address_ok: Callable[[object], bool]
    address_rule: str
    send: Callable[[Senders, Target, Mapping[str, Any]], Awaitable[str]]
    shown: Callable[[Target], str]
    takes_secret: bool = False
    settings: str | None = None
    usable: Callable[[], str | None] = lambda: None
    probe: Callable[[Settings], Coroutine[Any, Any, tuple[bool, str]]] | None = None
