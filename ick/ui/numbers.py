"""Numbers in the pages' paths and query strings: ASCII digits in range, else a 400."""

from __future__ import annotations

from aiohttp import web

from ick.errors import InputError

LIMIT = 2**62


def build_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputError(f"bad build id {text!r}: expected a number")
    return int(text)


def whole_number(request: web.Request, key: str, default: int) -> int:
    text = request.query.get(key)
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputError(f"{key}: expected a whole number, got {text[:30]!r}")
    return int(text)
