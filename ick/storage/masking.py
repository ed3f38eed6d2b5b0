"""Masking secret values in a stream of build output as `***`, also when a value is split
across chunks or printed with ANSI escape sequences or carriage returns between its
characters. Pure code: bytes in, bytes out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = b"***"

# A line of a multi-line secret (an ssh key, say) is masked on its own once it is this long;
# shorter lines ("-----END", blank ones) are too common to hide without wrecking the log.
MIN_LINE = 8

# What may stand between two characters of a secret and still show it whole on a terminal or
# on the build page: a CSI sequence (colours, cursor moves), an OSC one (titles, links), any
# other escape (`ESC ( B`; the page drops `ESC x` as ick/ui/ansi.py's ESCAPE does, and a lone
# ESC), and a carriage return. A superset of what the page drops, so the page never shows more.
GAP = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]?|\r")
# What the build page drops (ick/ui/ansi.py's ESCAPE, bytes for str): it may join characters a
# terminal would not (`ESC u` is one sequence there, a dropped ESC and a `u` on the page).
PAGE_GAP = re.compile(rb"\x1b\[[0-9;?]*[@-~]|\x1b[@-Z\\-_]?|\r")
# An escape sequence cut off at the end of a chunk: it may go on between two characters.
UNFINISHED = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[ -/]+)?\Z")
_GAPS = b"(?:" + GAP.pattern + b")*"
# How far back from a chunk's end a started secret is looked for at most when it has escapes.
_WINDOW_MAX = 1 << 20


def patterns_of(value: bytes) -> set[bytes]:
    """What to hide for one secret: the value, the value without surrounding white space,
    and each long enough line of it (programs often print a value stripped or line by line)."""
    # Always stripped: the white space around a value (`ick secrets set` reading a line, a
    # file's last newline) is the log's own, and masking it ate the newline after a secret.
    found = {value.strip()}
    if b"\n" in value.strip():
        found.update(line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_LINE)
    found.discard(b"")
    return found


class Masker:
    """Replaces every secret in the bytes fed through it by `***`.

    `feed` keeps back the end of a chunk only while it could be the start of a secret that
    the next chunk completes (so a line that ends a chunk shows at once); `flush` gives it
    up, masked, at the end of an action.
    """

    def __init__(self, values: Iterable[bytes] = ()) -> None:
        self._patterns: set[bytes] = set()
        self._regex: re.Pattern[bytes] | None = None
        # The same patterns with GAP allowed between every two bytes: slower, so used only
        # on output that holds an ESC or CR at all.
        self._gapped: re.Pattern[bytes] | None = None
        self._longest = 0
        # last byte -> (k, pattern) for each proper prefix pattern[:k] ending in that byte,
        # longest first: what the end of a chunk is compared with.
        self._prefixes: dict[int, list[tuple[int, bytes]]] = {}
        self._pending = b""
        self.add(*values)

    def add(self, *values: bytes) -> None:
        new = set().union(*(patterns_of(v) for v in values)) - self._patterns
        if not new:
            return
        self._patterns |= new
        # Longest first, so a whole value wins over one of its lines at the same place.
        ordered = sorted(self._patterns, key=len, reverse=True)
        self._regex = re.compile(b"|".join(re.escape(p) for p in ordered))
        self._gapped = re.compile(b"|".join(
            _GAPS.join(re.escape(p[i:i + 1]) for i in range(len(p))) for p in ordered))
        self._longest = len(ordered[0])
        for pattern in new:
            for k in range(1, len(pattern)):
                self._prefixes.setdefault(pattern[k - 1], []).append((k, pattern))
        for entries in self._prefixes.values():
            entries.sort(reverse=True)

    def _held(self, buf: bytes) -> int:
        """How many bytes at the end of buf are the start of some secret (0 if none)."""
        if not buf:
            return 0
        for k, pattern in self._prefixes.get(buf[-1], ()):
            if k <= len(buf) and buf.endswith(pattern[:k]):
                return k
        return 0

    def _held_gapped(self, buf: bytes, gap_regex: re.Pattern[bytes]) -> int:
        """_held for output with escapes: the start of a secret may have gaps in it (as
        gap_regex finds them) and end in an unfinished escape sequence."""
        size = 2 * self._longest + 64
        while True:
            window = buf[-size:]
            unfinished = UNFINISHED.search(window, max(0, len(window) - 1024))
            end = unfinished.start() if unfinished else len(window)
            pieces: list[tuple[int, bytes]] = []  # (offset in window, bytes between gaps)
            pos = 0
            for gap in gap_regex.finditer(window, 0, end):
                pieces.append((pos, window[pos:gap.start()]))
                pos = gap.end()
            pieces.append((pos, window[pos:end]))
            bare = b"".join(piece for _, piece in pieces)
            # Enough when the window holds more than any secret's start, or all of buf; not
            # counting its first piece, which may be the tail of an escape the window cut.
            if (len(bare) - len(pieces[0][1]) > self._longest or len(window) == len(buf)
                    or size > _WINDOW_MAX):
                break
            size *= 4
        k = self._held(bare)
        if not k:
            return 0
        for offset, piece in reversed(pieces):
            if k <= len(piece):
                return len(window) - (offset + len(piece) - k)
            k -= len(piece)
        return len(window)

    def _scan(self, buf: bytes) -> tuple[re.Pattern[bytes] | None, int]:
        """Which regex finds the secrets in buf (None: there are none), and how many bytes
        at its end to hold back."""
        assert self._regex is not None and self._gapped is not None
        if b"\x1b" not in buf and b"\r" not in buf:
            # The usual case, and bytes.find is many times faster than the regex's scan.
            found = any(p in buf for p in self._patterns)
            return (self._regex if found else None), self._held(buf)
        # A secret with gaps in it is whole on a terminal or on the page; the gapped regex
        # finds both (it backtracks), and this finds quickly whether there is one at all.
        views = (GAP.sub(b"", buf), PAGE_GAP.sub(b"", buf))
        found = any(p in view for view in views for p in self._patterns)
        held = self._held_gapped(buf, GAP)
        if views[0] != views[1]:  # only colours and CRs (the usual case) read the same
            held = max(held, self._held_gapped(buf, PAGE_GAP))
        return (self._gapped if found else None), held

    def feed(self, data: bytes) -> bytes:
        if self._regex is None:
            return data
        buf = self._pending + data
        # A match that starts before `cut` lies wholly inside buf: had it run past the end,
        # buf would end with the start of a secret, and `cut` would lie before the match.
        regex, held = self._scan(buf)
        cut = len(buf) - held
        if regex is None:
            self._pending = buf[cut:]
            return buf[:cut]
        out: list[bytes] = []
        pos = 0
        for match in regex.finditer(buf):
            if match.start() >= cut:
                break
            out += [buf[pos:match.start()], MASK]
            pos = match.end()
        end = max(pos, cut)
        out.append(buf[pos:end])
        self._pending = buf[end:]
        return b"".join(out)

    def flush(self) -> bytes:
        """Everything held back, masked; the next chunk starts afresh."""
        buf, self._pending = self._pending, b""
        if self._regex is None or self._gapped is None or not buf:
            return buf
        plain = b"\x1b" not in buf and b"\r" not in buf
        return (self._regex if plain else self._gapped).sub(MASK, buf)
