"""What a checkout finds joins the build's git facts in the state machine, once: the Save
that records it says so (so storage writes them), and no later one does."""

from __future__ import annotations

from dataclasses import replace

from ick.model import SOURCES_KEY, Build, GitFacts
from ick.scheduler.machine import Finished, Outcome, Save, Scheduler
from tests.scheduler.test_machine import OK, T0, T1, make_build

SHA = "9f1c" * 10
OTHER = "abcd" * 10


def checked_out(commit: str, subject: str = "Fix the README", url: str = "/srv/hello.git") \
        -> Outcome:
    return Outcome(0, 0.5, details={SOURCES_KEY: [
        {"url": url, "ref": "refs/heads/main", "commit": commit, "dir": "hello",
         "subject": subject, "author": "Tess Ter <tess@example.org>"}]})


def run(build: Build, *outcomes: Outcome) -> list[list[Save]]:
    s = Scheduler()
    s.add_worker("w")
    s.enqueue(build, T0)
    s.worker_ready("w", T0)
    return [[d for d in s.action_exited(build.id, seq, outcome, T1) if isinstance(d, Save)]
            for seq, outcome in enumerate(outcomes)]


def test_the_first_checkout_fills_in_what_the_trigger_did_not_give() -> None:
    build = replace(make_build(1, actions=3), git=GitFacts.of_ref("refs/heads/main"),
                    event="push", triggered_by="hook for hello")
    saves = run(build, checked_out(SHA), checked_out(OTHER, "another repository"), OK)
    assert [[s.git for s in step] for step in saves] == [[True], [False], [False]]
    facts = GitFacts("refs/heads/main", "main", None, SHA, "Fix the README",
                     "Tess Ter <tess@example.org>")
    assert all(s.build.git == facts for step in saves for s in step)
    last = saves[-1][0].build
    assert (last.event, last.triggered_by) == ("push", "hook for hello")


def test_a_pushed_commit_keeps_the_trigger_s_facts_and_takes_only_its_own_subject() -> None:
    pushed = GitFacts.of_ref("refs/heads/main", SHA, None, "Pusher <p@example.org>")
    build = replace(make_build(1, actions=2), git=pushed)
    saves = run(build, checked_out(OTHER), checked_out(SHA))
    assert [[s.git for s in step] for step in saves] == [[False], [True]]
    assert saves[1][0].build.git == replace(pushed, subject="Fix the README")


def test_an_action_without_sources_changes_nothing() -> None:
    s = Scheduler()
    s.add_worker("w")
    s.enqueue(make_build(1, actions=1), T0)
    s.worker_ready("w", T0)
    decisions = s.action_exited(1, 0, OK, T1)
    save = next(d for d in decisions if isinstance(d, Save))
    assert not save.git
    assert next(d for d in decisions if isinstance(d, Finished)).build.git == GitFacts()
