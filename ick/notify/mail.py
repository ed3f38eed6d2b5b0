"""Sending a notification as email through the daemon's `smtp:` settings (aiosmtplib)."""

from __future__ import annotations

import email.utils
import os
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib

from ick.config import SmtpSettings
from ick.errors import SendError
from ick.notify.message import body, subject
from ick.notify.tls import tls_context, tls_problem

SMTP_TIMEOUT = 30.0


def compose(doc: dict[str, Any], sender: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(doc)
    message["From"] = sender
    message["To"] = to
    message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain="ick")
    message["X-Ick-Build"] = str(doc["build"])
    message.set_content(body(doc))
    return message


def _password(smtp: SmtpSettings) -> str | None:
    """Read at each send, so a changed password file needs no restart."""
    if smtp.password_file is None:
        return None
    try:
        return Path(smtp.password_file).read_text().rstrip("\r\n")
    except OSError as e:
        raise SendError(f"smtp: cannot read password_file {smtp.password_file}: "
                        f"{(e.strerror or str(e)).lower()}") from None


async def send_mail(smtp: SmtpSettings, doc: dict[str, Any], to: str) -> str:
    """Deliver one mail; returns what the server said; raises SendError."""
    where = f"smtp {smtp.host}:{smtp.port}"
    message = compose(doc, smtp.sender, to)
    password = _password(smtp)
    try:
        _, reply = await aiosmtplib.send(
            # TLS from the start makes STARTTLS moot; aiosmtplib refuses to be asked for both
            message, hostname=smtp.host, port=smtp.port, use_tls=smtp.tls,
            start_tls=smtp.starttls and not smtp.tls, username=smtp.user if smtp.user else None,
            password=password if smtp.user else None, timeout=SMTP_TIMEOUT,
            tls_context=tls_context() if smtp.tls or smtp.starttls else None,
        )
    except aiosmtplib.SMTPRecipientsRefused as e:
        refused = "; ".join(f"{r.code} {r.message}" for r in e.recipients)
        raise SendError(f"{where}: recipient {to} refused: {refused}") from None
    except aiosmtplib.SMTPResponseException as e:
        raise SendError(f"{where}: {e.code} {e.message}") from None
    except aiosmtplib.SMTPTimeoutError:
        raise SendError(f"{where}: timed out after {SMTP_TIMEOUT:.0f} s") from None
    except aiosmtplib.SMTPConnectError as e:
        raise SendError(f"{where}: cannot connect: {_reason(e)}") from None
    except (aiosmtplib.SMTPException, OSError) as e:
        raise SendError(f"{where}: {_reason(e)}") from None
    return f"{where}: {reply}".strip()


async def greeting(smtp: SmtpSettings) -> str | None:
    """Whether the server answers (for `ick doctor`): None, or what went wrong."""
    client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, use_tls=smtp.tls,
                             start_tls=False, timeout=SMTP_TIMEOUT,
                             tls_context=tls_context() if smtp.tls else None)
    try:
        await client.connect()
        await client.quit()
    except (aiosmtplib.SMTPException, OSError) as e:
        return _reason(e)
    return None


def _reason(e: BaseException) -> str:
    cause = e.__cause__ or e
    problem = tls_problem(cause)
    if problem is not None:
        return problem
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno).lower()  # asyncio's own strerror names the address
    text = str(e) or type(e).__name__
    return text[:1].lower() + text[1:]
