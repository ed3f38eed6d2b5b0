"""The host's Debian mirror (ick/runners/aptsources.py), read from its APT sources."""

from __future__ import annotations

from pathlib import Path

from ick.runners.aptsources import default_mirror


def test_the_default_mirror_is_the_first_source_of_the_codename(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# a comment\n"
        "deb [signed-by=/k.gpg arch=amd64] http://security.example/debian-security "
        "bookworm-security main\n"
        "deb-src http://src.example/debian bookworm main\n")
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "a.sources").write_text(
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb deb-src\nURIs: http://mirror.example/debian/\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n")
    (parts / "b.list").write_text("deb http://later.example/debian bookworm main\n")
    (parts / "c.list.disabled").write_text("deb http://never.example/debian trixie main\n")
    assert default_mirror("bookworm", tmp_path) == "http://mirror.example/debian"
    assert default_mirror("trixie", tmp_path) is None
