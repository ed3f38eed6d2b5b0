"""The git facts a checkout finds are stored with the build (ick/scheduler/dispatcher.py and
storage's save), so listings, which carry no actions, show them too. Real SQLite."""

from __future__ import annotations

from ick.model import SOURCES_KEY, GitFacts
from ick.scheduler.machine import Outcome
from tests.scheduler.test_dispatcher import World, worker, world  # noqa: F401  (the fixture)

SHA = "9f1c" * 10


async def test_a_listing_shows_the_subject_and_author_the_git_action_found(
        world: World) -> None:  # noqa: F811
    d = world.dispatcher
    w = await worker(world)
    build = await d.trigger("proj", {"git_ref": "refs/heads/feature/typo"}, ick_trigger="hook",
                            triggered_by="hook for proj")
    assert await d.next_work(w, timeout=5) is not None
    source = {"url": "/srv/hello.git", "ref": "refs/heads/feature/typo", "commit": SHA,
              "dir": "hello", "subject": "Fix a <b>typo</b>", "author": "T <t@example.org>"}
    assert await d.done(w, build.id, 0, Outcome(0, 0.1, details={SOURCES_KEY: [source]}))
    expected = GitFacts("refs/heads/feature/typo", "feature/typo", None, SHA,
                        "Fix a <b>typo</b>", "T <t@example.org>")
    [listed] = await world.builds.list("proj")
    assert listed.actions == () and listed.git == expected
    assert listed.to_json()["git"] == expected.to_json()
    assert (listed.event, listed.triggered_by) == ("push", "hook for proj")
    assert not await d.done(w, build.id, 1, Outcome(0, 0.1))
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.git == expected and stored.git_facts == expected
