"""The host's Debian mirror, read from its enabled apt sources (*.list and *.sources)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    uri: str
    suites: tuple[str, ...]


def _one_line(text: str) -> list[Source]:
    sources = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):  # [option=value ...]
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            sources.append(Source(words[0], (words[1],)))
    return sources


def _deb822(text: str) -> list[Source]:
    sources = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(fields.get("suites", "").split())
        sources += [Source(uri, suites) for uri in fields.get("uris", "").split()]
    return sources


def host_sources(apt_dir: Path) -> list[Source]:
    """Every enabled `deb` source, in the order apt reads the files."""
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    sources: list[Source] = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        sources += _deb822(text) if path.suffix == ".sources" else _one_line(text)
    return sources


def default_mirror(codename: str, apt_dir: Path = Path("/etc/apt")) -> str | None:
    """The first enabled source that serves `codename` itself (not -updates or -security)."""
    for source in host_sources(apt_dir):
        if codename in source.suites:
            return source.uri.rstrip("/")
    return None
