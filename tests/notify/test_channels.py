"""The notification channel records (ick/notify/channels): a stored `notify:` entry as a
frozen Target, and what each record says."""

from __future__ import annotations

import dataclasses

import pytest

from ick.notify.channel import Target
from ick.notify.channels import BY_KEY, CHANNELS, target_of
from ick.notify.outbox import describe


def test_the_channels_and_their_keys() -> None:
    assert [c.key for c in CHANNELS] == ["email", "webhook", "matrix", "irc"]
    assert [c.key for c in CHANNELS if c.takes_secret] == ["webhook"]
    assert {c.key: c.settings for c in CHANNELS} == {
        "email": "smtp", "webhook": None, "matrix": "matrix", "irc": "irc"}


def test_an_entry_becomes_a_frozen_target_with_the_defaults_filled_in() -> None:
    target = target_of({"webhook": "https://h.test/x", "secret": "KEY"})
    assert target == Target("webhook", "https://h.test/x", "always", ("ended",), "KEY")
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.when = "failure"  # type: ignore[misc]
    # what projects stored before the points had their names reads as the new names
    assert target_of({"email": "a@b.c", "when": "change", "on": ["start", "end"]}) == Target(
        "email", "a@b.c", "change", ("started", "ended"))


def test_an_entry_of_no_known_channel_has_no_target() -> None:
    assert target_of({"pager": "555"}) is None
    assert target_of({"email": 7}) is None
    assert describe(None) == "a target of no known channel"


def test_a_target_as_the_log_shows_it_hides_a_webhooks_credentials() -> None:
    assert describe(Target("email", "dev@example.org")) == "email to dev@example.org"
    assert describe(Target("webhook", "https://u:pw@h.test:8443/T/s3?token=x")) == \
        "webhook https://h.test:8443"


@pytest.mark.parametrize(("key", "good", "bad"), [
    ("email", "dev@example.org", "dev"),
    ("webhook", "http://h.test/x", "ftp://h.test/x"),
    ("matrix", "!abcdef:example.org", "abcdef:example.org"),
    ("matrix", "#ick:example.org", "#ick"),
    ("matrix", "!OpaqueRoomVersion12Id", "! spaced:example.org"),
    ("irc", "#hello", "hello"),
    ("irc", "&local", "#a,#b"),
])
def test_each_channel_checks_its_address(key: str, good: str, bad: str) -> None:
    assert BY_KEY[key].address_ok(good)
    assert not BY_KEY[key].address_ok(bad)
    assert not BY_KEY[key].address_ok(None)
