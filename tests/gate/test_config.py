"""A project's `gate:` checked (ick/gate/config.py), and at `ick apply` with FILE:LINE."""

from __future__ import annotations

import pytest

from ick.errors import IckFileError
from ick.gate.config import gate_problems, is_ssh
from ick.ickfile import load_ick_text
from ick.model import SECRET_NAME_RULE


def test_a_good_gate_has_no_problems() -> None:
    assert gate_problems({"branch": "main"}) == []
    assert gate_problems({"branch": "release/1.x", "push_key_secret": "k",
                          "known_hosts_secret": "h"}, "ssh://git@example.org/r.git") == []


@pytest.mark.parametrize(("doc", "url", "problem"), [
    ("main", None, (None, "gate: must be a mapping with 'branch', not 'main'")),
    ({}, None, (None, "gate: missing 'branch' (the target branch ick moves)")),
    ({"branch": "main", "colour": 1}, None,
     ("colour", "gate: unknown key 'colour' (expected one of: branch, known_hosts_secret, "
                "push_key_secret)")),
    ({"branch": "-x"}, None, ("branch", "gate: 'branch' must be a branch name (letters, "
                                        "digits, '.', '_', '+', '-' and '/'; not under gate/), "
                                        "not '-x'")),
    ({"branch": "gate/x"}, None, ("branch", "gate: 'branch' must be a branch name (letters, "
                                            "digits, '.', '_', '+', '-' and '/'; not under "
                                            "gate/), not 'gate/x'")),
    ({"branch": "main", "push_key_secret": "a b"}, None,
     ("push_key_secret", f"gate: 'push_key_secret' must be {SECRET_NAME_RULE}, not 'a b'")),
    ({"branch": "main"}, "git@example.org:r.git",
     (None, "gate: an ssh git_url needs 'push_key_secret' (the key ick moves the target "
            "with)")),
])
def test_problems(doc: object, url: str | None, problem: tuple[str | None, str]) -> None:
    assert problem in gate_problems(doc, url)


def test_which_urls_are_ssh() -> None:
    assert is_ssh("ssh://git@h/r") and is_ssh("git@h:r.git")
    assert not is_ssh("/srv/git/r.git") and not is_ssh("https://h/r")
    assert not is_ssh("file:///srv/r")


def test_apply_names_file_and_line() -> None:
    text = ("projects:\n"
            "  - project: x\n"
            "    gate:\n"
            "      branch: ..bad\n")
    with pytest.raises(IckFileError) as caught:
        load_ick_text(text, "hello.ick")
    assert str(caught.value).startswith("hello.ick:4: project 'x': gate: 'branch' must be")
