"""ANSI colours in a log, as HTML: SGR colours and bold become spans, every other escape
sequence is dropped, and the text is escaped. static/ick.js does the same for the live log.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

ESCAPE = re.compile(r"\x1b\[([0-9;?]*)([@-~])|\x1b[@-Z\\-_]?")


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
    out: list[str] = []
    fg: str | None = None
    bold = False
    pos = 0
    for match in ESCAPE.finditer(text):
        out.append(_span(text[pos:match.start()], fg, bold))
        pos = match.end()
        if match.group(2) == "m":
            fg, bold = _apply(match.group(1), fg, bold)
    out.append(_span(text[pos:], fg, bold))
    return Markup("".join(out))


def _span(text: str, fg: str | None, bold: bool) -> str:
    if not text:
        return ""
    classes = ([f"c{fg}"] if fg else []) + (["b"] if bold else [])
    if not classes:
        return str(escape(text))
    return f'<span class="{" ".join(classes)}">{escape(text)}</span>'
