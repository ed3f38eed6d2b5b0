"""What an untrusted change's action may not do, each refusal naming its rule: read from the
action types' records (`untrusted`), never from a list of kinds elsewhere."""

from __future__ import annotations

from ick.runners.catalog import ACTION_TYPES
from ick.runners.untrusted import refusal


def test_code_runs_only_in_a_container_without_network() -> None:
    assert refusal("shell", {"shell": "make", "where": "host"}, {}) == (
        "rule 'code only where: container, without network': a shell action runs where: host")
    assert refusal("python", {"python": "1", "where": "chroot"}, {}) == (
        "rule 'code only where: container, without network': a python action runs "
        "where: chroot")
    assert refusal("shell", {"shell": "make", "where": "container", "network": True}, {}) == (
        "rule 'code only where: container, without network': a shell action asks for "
        "network: true")
    assert refusal("shell", {"shell": "make", "where": "container"}, {}) is None
    assert refusal("shell", {"shell": "make", "where": "container", "network": False}, {}) \
        is None


def test_no_secret_reaches_it_however_it_is_named() -> None:
    rule = "rule 'no secrets': the action names secret 'deploy'"
    assert refusal("shell", {"shell": "x", "where": "container", "secrets": ["deploy"]},
                   {}) == rule
    assert refusal("git", {"action": "git", "git_secret": "deploy"}, {}) == rule
    # a setting of its type that names a secret, given as a build parameter
    assert refusal("rsync", {"action": "rsync", "where": "host"}, {"ssh_key_secret": "deploy"}) \
        == rule


def test_delivery_never() -> None:
    for kind in ("rsync", "apt_publish", "dput"):
        assert refusal(kind, {"action": kind, "where": "host"}, {}) == (
            f"rule 'no delivery': a {kind} action delivers")


def test_ick_s_own_actions_run_as_they_are() -> None:
    assert refusal("git", {"action": "git", "where": "host"}, {"git_url": "x"}) is None
    assert refusal("archive", {"action": "archive", "where": "host"}, {}) is None
    assert {t.kind: t.untrusted for t in ACTION_TYPES if t.untrusted} == {
        "shell": "code", "python": "code", "rsync": "delivery", "apt_publish": "delivery",
        "dput": "delivery"}
