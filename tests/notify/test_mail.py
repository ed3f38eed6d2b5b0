"""A notification as a mail (ick/notify/mail.py): its headers."""

from __future__ import annotations

from ick.notify.mail import compose
from ick.notify.message import facts
from tests.notify.test_message import failed_build


def test_mail_headers() -> None:
    doc = facts(failed_build(), "end", "x", "http://ci.test", None)
    message = compose(doc, "ick@ci.test", "dev@example.org")
    assert message["Subject"] == "[ick] liw/hello #3 failed (broken)"
    assert message["From"] == "ick@ci.test"
    assert message["To"] == "dev@example.org"
    assert message["X-Ick-Build"] == "17"
    assert message["Date"] and message["Message-ID"]
