"""The Masker with ANSI escape sequences and carriage returns between a secret's characters,
and the newline after a secret kept (issue 22, findings 7 and 11)."""

from __future__ import annotations

import random

import pytest

from ick.storage.masking import GAP, Masker
from ick.ui.ansi import ESCAPE

SECRET = b"hunter22"
GAPS = [b"\x1b[0m", b"\x1b[1;31m", b"\x1b[?25l", b"\x1b[2K", b"\r", b"\x1b]0;title\x07",
        b"\x1b]8;;http://x\x1b\\", b"\x1b(B", b"\x1b"]


def run(masker: Masker, chunks: list[bytes]) -> bytes:
    return b"".join(masker.feed(c) for c in chunks) + masker.flush()


def spread(secret: bytes, gap: bytes) -> bytes:
    return gap.join(secret[i:i + 1] for i in range(len(secret)))


def shown(log: bytes) -> bytes:
    """What the build page shows of a log: ick/ui/ansi.py drops the escape sequences."""
    return ESCAPE.sub("", log.decode()).replace("\r", "").encode()


@pytest.mark.parametrize("gap", GAPS)
def test_a_gap_between_every_character_is_masked(gap: bytes) -> None:
    out = run(Masker([SECRET]), [b"pw=" + spread(SECRET, gap) + b"\nnext\n"])
    assert out == b"pw=***\nnext\n"
    assert SECRET not in shown(out)


@pytest.mark.parametrize("gap", GAPS)
def test_split_across_chunks_at_every_byte(gap: bytes) -> None:
    text = b"a " + spread(SECRET, gap) + b" b\n"
    for cut in range(1, len(text)):
        out = run(Masker([SECRET]), [text[:cut], text[cut:]])
        assert out == b"a *** b\n", (gap, cut)


def test_one_byte_at_a_time() -> None:
    text = b"x" + spread(SECRET, b"\x1b[0m") + b"\r\n"
    assert run(Masker([SECRET]), [text[i:i + 1] for i in range(len(text))]) == b"x***\r\n"


def test_escapes_around_a_secret_stay() -> None:
    text = b"\x1b[31m" + SECRET + b"\x1b[0m\n"
    assert run(Masker([SECRET]), [text]) == b"\x1b[31m***\x1b[0m\n"


def test_a_colour_with_no_secret_passes_at_once() -> None:
    masker = Masker([SECRET])
    assert masker.feed(b"\x1b[32mok\x1b[0m\n") == b"\x1b[32mok\x1b[0m\n"
    assert masker.feed(b"pw=hun\x1b[0") == b"pw="
    assert masker.feed(b"mted\n") == b"hun\x1b[0mted\n"


@pytest.mark.parametrize("value", [b"hunter22", b"hunter22\n", b" hunter22 \n"])
def test_the_newline_after_a_secret_is_kept(value: bytes) -> None:
    # `echo "C: $v"; echo next` prints two lines, whatever white space the value ends in.
    out = run(Masker([value]), [b"C: " + value.strip() + b"\nnext\n"])
    assert out == b"C: ***\nnext\n"


def test_random_gaps_and_cuts_never_show_the_secret() -> None:
    # Not compared with masking at once: mixing both views' gaps (a terminal's `ESC h` is a
    # sequence, the page shows its `h`) masks a little more at once than across a cut.
    rng = random.Random(22)
    for _ in range(300):
        text = b"".join(
            rng.choice([b"x", b"\n", SECRET, spread(SECRET, rng.choice(GAPS)),
                        rng.choice(GAPS)]) for _ in range(12))
        cuts = sorted(rng.sample(range(1, len(text)), k=min(4, len(text) - 1)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        got = run(Masker([SECRET]), chunks)
        assert SECRET not in shown(got), (text, cuts)
        assert SECRET not in GAP.sub(b"", got), (text, cuts)
