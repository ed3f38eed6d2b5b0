"""The email channel: `notify: [{email: dev@example.org}]`, sent through the daemon's `smtp:`
settings (ick.notify.mail)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ick.notify.channel import Channel, Senders, Target

if TYPE_CHECKING:
    from ick.config import Settings

ADDRESS_RE = re.compile(r"[^@\s]+@[^@\s]+")


def _address_ok(value: object) -> bool:
    return isinstance(value, str) and ADDRESS_RE.fullmatch(value) is not None


async def _send(senders: Senders, target: Target, doc: Mapping[str, Any]) -> str:
    # Imported at first use: aiosmtplib and the email package cost the idle daemon memory,
    # and many never mail anyone.
    from ick.notify.mail import send_mail

    return await send_mail(senders.smtp, dict(doc), target.address)


def _usable() -> str | None:
    if importlib.util.find_spec("aiosmtplib") is None:
        return "the Python package aiosmtplib is missing (Debian: python3-aiosmtplib)"
    return None


async def _probe(settings: Settings) -> tuple[bool, str]:
    """Connect to the smtp server, read its greeting, and say goodbye."""
    from ick.notify.mail import greeting

    smtp = settings.smtp
    security = "tls" if smtp.tls else "starttls" if smtp.starttls else "plain"
    shown = (f"smtp {smtp.host}:{smtp.port} ({security}), from {smtp.sender}"
             + (f", user {smtp.user}" if smtp.user else ""))
    problem = await greeting(smtp)
    if problem is not None:
        return False, f"{shown}: {problem}"
    return True, f"{shown}: answers"


EMAIL = Channel(
    "email", _address_ok, "an address like dev@example.org", _send,
    shown=lambda target: f"email to {target.address}", settings="smtp", usable=_usable,
    probe=_probe,
)
