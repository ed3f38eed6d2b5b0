"""Masking secret values in a stream of build output as `***`, also when a value is split
across chunks. Pure code: bytes in, bytes out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = b"***"

# A line of a multi-line secret (an ssh key, say) is masked on its own once it is this long;
# shorter lines ("-----END", blank ones) are too common to hide without wrecking the log.
MIN_LINE = 8


def patterns_of(value: bytes) -> set[bytes]:
    """What to hide for one secret: the value, the value without surrounding white space,
    and each long enough line of it (programs often print a value stripped or line by line)."""
    found = {value, value.strip()}
    if b"\n" in value.strip():
        found.update(line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_LINE)
    found.discard(b"")
    return found


class Masker:
    """Replaces every secret in the bytes fed through it by `***`.

    `feed` keeps back the last (longest secret - 1) bytes, which may be the start of a secret
    that the next chunk completes; `flush` gives them up, masked, at the end of an action.
    """

    def __init__(self, values: Iterable[bytes] = ()) -> None:
        self._patterns: set[bytes] = set()
        self._regex: re.Pattern[bytes] | None = None
        self._longest = 0
        self._pending = b""
        self.add(*values)

    def add(self, *values: bytes) -> None:
        for value in values:
            self._patterns |= patterns_of(value)
        if not self._patterns:
            return
        # Longest first, so a whole value wins over one of its lines at the same place.
        ordered = sorted(self._patterns, key=len, reverse=True)
        self._regex = re.compile(b"|".join(re.escape(p) for p in ordered))
        self._longest = len(ordered[0])

    def feed(self, data: bytes) -> bytes:
        if self._regex is None:
            return data
        buf = self._pending + data
        # A match that starts before `cut` lies wholly inside buf (it is at most _longest long);
        # one that starts at or after it may still grow, so those bytes wait for more.
        cut = len(buf) - (self._longest - 1)
        if not any(p in buf for p in self._patterns):
            # The usual case, and bytes.find is many times faster than the regex's scan.
            end = max(cut, 0)
            self._pending = buf[end:]
            return buf[:end]
        out: list[bytes] = []
        pos = 0
        for match in self._regex.finditer(buf):
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
        if self._regex is None or not buf:
            return buf
        return self._regex.sub(MASK, buf)
