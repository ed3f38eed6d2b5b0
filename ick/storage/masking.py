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

    `feed` keeps back the end of a chunk only while it could be the start of a secret that
    the next chunk completes (so a line that ends a chunk shows at once); `flush` gives it
    up, masked, at the end of an action.
    """

    def __init__(self, values: Iterable[bytes] = ()) -> None:
        self._patterns: set[bytes] = set()
        self._regex: re.Pattern[bytes] | None = None
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

    def feed(self, data: bytes) -> bytes:
        if self._regex is None:
            return data
        buf = self._pending + data
        # A match that starts before `cut` lies wholly inside buf: had it run past the end,
        # buf would end with the start of a secret, and `cut` would lie before the match.
        cut = len(buf) - self._held(buf)
        if not any(p in buf for p in self._patterns):
            # The usual case, and bytes.find is many times faster than the regex's scan.
            self._pending = buf[cut:]
            return buf[:cut]
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
