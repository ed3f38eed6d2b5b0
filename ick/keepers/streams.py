"""How many live log streams are open, in all and per web session or API token: past
`max_streams` or `max_streams_per_session` a new one is refused (429; a page then polls)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from ick.errors import TooManyError


class StreamSlots:
    def __init__(self, total: int, per_owner: int) -> None:
        self.total = total
        self.per_owner = per_owner
        self._owners: Counter[str] = Counter()  # open streams of each session or token
        self._open = 0

    @property
    def open(self) -> int:
        return self._open

    @contextmanager
    def slot(self, owner: str) -> Iterator[None]:
        """Hold one stream of `owner` ("session:..." or "token:...") while the block runs."""
        if self._open >= self.total:
            raise TooManyError(f"too many live log streams open ({self.total}, max_streams): "
                               "poll the log with ?offset= instead")
        if self._owners[owner] >= self.per_owner:
            raise TooManyError(f"too many live log streams open for one session or token "
                               f"({self.per_owner}, max_streams_per_session): poll the log "
                               "with ?offset= instead")
        self._owners[owner] += 1
        self._open += 1
        try:
            yield
        finally:
            self._open -= 1
            self._owners[owner] -= 1
            if not self._owners[owner]:
                del self._owners[owner]
