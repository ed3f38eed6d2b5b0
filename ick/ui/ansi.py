"""ANSI colours in a log, as HTML: SGR colours and bold become spans, every other escape
sequence is dropped, and the text is escaped; each action's header line gets an anchor. static/
ick.js does the same for the live log.
"""

from __future__ import annotations

import functools
import re

from markupsafe import Markup, escape

ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([@-~])|\x1b[@-Z\\-_]?")
# The header ick writes before each action (`==== [2/5] pipeline ...`), at a line's start.
HEADER = re.compile(r"^(?===== \[(\d+)/\d+\] )", re.MULTILINE)


@functools.lru_cache(maxsize=1024)
def _apply(codes: str, fg: str | None, bold: bool) -> tuple[str | None, bool]:
    for text in (codes or "0").split(";"):
        code = int(text) if text.isdigit() else 0
        if code == 0:
            fg, bold = None, False
        elif code == 1:
            bold = True
        elif code == 22:
            bold = False
        elif 30 <= code <= 37 or 90 <= code <= 97:
            fg = str(code)
        elif code == 39:
            fg = None
    return fg, bold


def to_html(text: str) -> Markup:
    """Escape first (fast, in C): escape sequences hold no character HTML escapes, so they
    are found as well in the escaped text, and only the spans are added around them."""
    escaped = str(escape(text))
    if "\x1b" not in escaped:
        return Markup(escaped)
    parts = ESCAPE.split(escaped)  # text, (codes, final byte, text)...
    out = [parts[0]]
    state: tuple[str | None, bool] = (None, False)
    for i in range(1, len(parts), 3):
        if parts[i + 1] == "m":
            new = _apply(parts[i], *state)
            if new != state:
                out.append(_switch(state, new))
                state = new
        out.append(parts[i + 2])
    if state != (None, False):
        out.append("</span>")
    return Markup("".join(out))


@functools.lru_cache(maxsize=1024)
def _switch(old: tuple[str | None, bool], new: tuple[str | None, bool]) -> str:
    close = "</span>" if old != (None, False) else ""
    fg, bold = new
    if new == (None, False):
        return close
    classes = " ".join(([f"c{fg}"] if fg else []) + (["b"] if bold else []))
    return f'{close}<span class="{classes}">'


def log_html(text: str) -> Markup:
    """A log as HTML (to_html) with an empty anchor `log-N` before the header of its N-th
    action, which the actions table links to."""
    return Markup(HEADER.sub(lambda m: f'<a id="log-{m.group(1)}"></a>', str(to_html(text))))
