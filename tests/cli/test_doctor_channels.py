"""`ick doctor` (ick/cli/doctor.py): the notification channels it reports, from their records."""

from __future__ import annotations

from ick.cli.doctor import channel_checks, checks
from ick.notify.channels import CHANNELS


def test_doctor_says_which_channels_this_host_can_send_by() -> None:
    found = channel_checks()
    assert [c["check"] for c in found] == [f"notify by {c.key}" for c in CHANNELS]
    assert found == [
        {"check": "notify by email", "state": "ok",
         "detail": "through the smtp: settings of ick.yaml"},
        {"check": "notify by webhook", "state": "ok", "detail": ""},
        {"check": "notify by matrix", "state": "ok",
         "detail": "through the matrix: settings of ick.yaml"},
        {"check": "notify by irc", "state": "ok",
         "detail": "through the irc: settings of ick.yaml"},
    ]
    assert all(c in checks() for c in found)
