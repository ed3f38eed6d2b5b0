"""Whole numbers in request paths: ASCII digits in the range SQLite stores, else a 400."""

from __future__ import annotations

from aiohttp import web

from ick.errors import InputError

MAX_DIGITS = 18  # below 2**63: every id and sequence number SQLite can hold fits


def path_int(request: web.Request, key: str) -> int:
    """The path part `key` as a number; a 400 naming it when it is not one we could store."""
    text = request.match_info[key]
    # ASCII digits only: '²' is a digit to isdigit() but not to int().
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > MAX_DIGITS:
        shown = repr(text) if len(text) <= 30 else repr(text[:27]) + "..."
        raise InputError(f"bad {key} {shown}: expected a whole number of at most "
                         f"{MAX_DIGITS} digits")
    return int(text)
