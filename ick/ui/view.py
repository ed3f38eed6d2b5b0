"""How values look on a page: relative times with the exact one beside, durations, sizes,
parameter values. Jinja2 filters, loaded with the templates.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ick.model import Build
from ick.timefmt import parse_iso
from ick.ui.ansi import log_html, to_html


def exact(iso: str | None) -> str:
    if not iso:
        return ""
    return parse_iso(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(iso: str | None) -> str:
    if not iso:
        return ""
    seconds = (datetime.now(UTC) - parse_iso(iso)).total_seconds()
    if seconds < 5:
        return "just now"
    return f"{span(seconds, coarse=True)} ago"


def span(seconds: float | None, coarse: bool = False) -> str:
    """1.2 s, 45 s, 3 min 5 s, 2 h 10 min, 3 days."""
    if seconds is None:
        return ""
    if seconds < 10 and not coarse:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min" if coarse else f"{whole // 60} min {whole % 60} s"
    if whole < 86400 * 2:
        return f"{whole // 3600} h {whole % 3600 // 60} min"
    return f"{whole // 86400} days"


def build_duration(build: Build) -> str:
    if not build.started_at:
        return ""
    end = parse_iso(build.finished_at) if build.finished_at else datetime.now(UTC)
    return span((end - parse_iso(build.started_at)).total_seconds())


def size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


def shown(value: Any) -> str:
    """A parameter value as its form field holds it: a string as it is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def short(commit: str | None) -> str:
    return (commit or "")[:10]


def quote(name: str) -> str:
    """A name in one of our paths: '/' stays, the rest is escaped."""
    return urllib.parse.quote(name, safe="/")


FILTERS: dict[str, Callable[..., Any]] = {
    "ago": ago, "exact": exact, "span": span, "build_duration": build_duration, "size": size,
    "shown": shown, "short": short, "quote": quote, "ansi": to_html, "log_html": log_html,
}
