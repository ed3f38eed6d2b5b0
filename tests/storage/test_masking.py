"""The Masker: secrets become `***`, however the output is cut into chunks."""

from __future__ import annotations

import random

import pytest

from ick.storage.masking import Masker, patterns_of


def run(masker: Masker, chunks: list[bytes]) -> bytes:
    return b"".join(masker.feed(c) for c in chunks) + masker.flush()


@pytest.mark.parametrize(
    ("secrets", "chunks", "expected"),
    [
        ([], [b"plain ", b"text"], b"plain text"),
        ([b"hunter22"], [b"pw=hunter22\n"], b"pw=***\n"),
        ([b"hunter22"], [b"pw=hunt", b"er22\n"], b"pw=***\n"),
        ([b"hunter22"], [b"h", b"u", b"n", b"t", b"e", b"r", b"2", b"2"], b"***"),
        ([b"hunter22"], [b"hunter2", b"hunter22"], b"hunter2***"),
        ([b"hunter22"], [b"hunter22hunter22"], b"******"),
        ([b"hunter22\n"], [b"hunter22"], b"***"),
        ([b"abcd", b"abcdefgh"], [b"xxabcdef", b"gh abcd"], b"xx*** ***"),
        ([b"s3cret"], [b"no secret here"], b"no secret here"),
    ],
)
def test_masks(secrets: list[bytes], chunks: list[bytes], expected: bytes) -> None:
    assert run(Masker(secrets), chunks) == expected


def test_lines_of_a_multi_line_secret_are_masked_alone() -> None:
    key = b"-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n-----END KEY-----\n"
    assert patterns_of(key) >= {key.strip(), b"AAAAB3NzaC1yc2EAAAADAQAB"}
    assert key not in patterns_of(key)  # its last newline stays in the log
    assert run(Masker([key]), [b"line: AAAAB3NzaC1yc2EAAAADAQAB\n"]) == b"line: ***\n"


def test_a_secret_added_later_is_masked_from_then_on() -> None:
    masker = Masker()
    assert masker.feed(b"early s3cret ") == b"early s3cret "
    masker.add(b"s3cret")
    assert run(masker, [b"late s3cret"]) == b"late ***"


def test_any_cut_gives_the_same_as_masking_at_once() -> None:
    rng = random.Random(6)
    secrets = [b"topsecret", b"pass", b"retpas"]
    for _ in range(300):
        text = b"".join(rng.choice([b"top", b"secret", b"pass", b"x", b"ret", b"\n"])
                        for _ in range(30))
        whole = Masker(secrets)
        expected = whole.feed(text) + whole.flush()
        cuts = sorted(rng.sample(range(1, len(text)), k=min(5, len(text) - 1)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        got = run(Masker(secrets), chunks)
        assert got == expected, (text, cuts)
        for secret in secrets:
            assert secret not in got


def test_only_a_possible_start_of_a_secret_is_held_back() -> None:
    masker = Masker([b"hunter22"])
    assert masker.feed(b"waiting for input\n") == b"waiting for input\n"
    assert masker.feed(b"pw=hun") == b"pw="
    assert masker.feed(b"ted\n") == b"hunted\n"
    assert masker.feed(b"hunter2") == b""
    assert masker.flush() == b"hunter2"
