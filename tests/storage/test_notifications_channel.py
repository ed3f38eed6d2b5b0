"""A stored notification (ick/storage/notifications.py) names its channel, whichever it is:
what `GET /builds/{id}`, `ick build` and the build's page show."""

from __future__ import annotations

from ick.storage.builds import BuildStore
from ick.storage.notifications import Decision, NotificationStore
from ick.storage.sqlite import SqliteDatabase


async def test_each_notification_says_its_channel_and_address(db: SqliteDatabase) -> None:
    store = NotificationStore(db)
    targets = [{"irc": "#hello", "when": "always", "on": ["ended"]},
               {"when": "failure", "matrix": "#ci:example.org", "on": ["ended"]},
               {"email": "dev@example.org", "when": "always", "on": ["ended"]},
               {"webhook": "https://h.test/x", "secret": "k", "when": "always", "on": ["ended"]}]
    build = await BuildStore(db).create("p", {}, False, [], "2024-01-01T00:00:00Z")
    await store.decide([Decision(build.id, "end", targets)], "2024-01-01T00:00:01Z")
    found = await store.for_build(build.id)
    assert [(n.channel, n.address) for n in found] == [
        ("irc", "#hello"), ("matrix", "#ci:example.org"), ("email", "dev@example.org"),
        ("webhook", "https://h.test/x")]
    shown = found[1].to_json()
    assert (shown["channel"], shown["matrix"], shown["when"], shown["event"]) == (
        "matrix", "#ci:example.org", "failure", "end")
