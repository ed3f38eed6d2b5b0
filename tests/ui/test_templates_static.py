"""What ships with the UI: the vendored htmx as noted, templates without inline script, every
file in the wheel, and nothing of Jinja2 loaded before the first page."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from ick.ui.templates import STATIC, TEMPLATES

ROOT = Path(__file__).parents[2]


def test_htmx_is_the_noted_release_unchanged() -> None:
    note = (ROOT / "ick/ui/README.md").read_text()
    digest = hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in note
    assert "htmx **2.0.11**" in note


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    """The CSP forbids them; a template that had one would break in the browser."""
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path.name
        assert not re.search(r"\son[a-z]+\s*=", text), path.name
        assert not re.search(r"<style|\sstyle\s*=", text), path.name
        assert "|safe" not in text.replace(" ", ""), path.name


def test_the_wheel_carries_the_templates_and_static_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, timeout=300,
                   capture_output=True)
    wheel = next(tmp_path.glob("ick-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"ick/ui/templates/{p.name}" for p in TEMPLATES.glob("*.html")}
    wanted |= {f"ick/ui/static/{p.name}" for p in STATIC.iterdir()}
    assert wanted <= names
    assert len(wanted) >= 12


def test_the_daemon_starts_without_jinja2() -> None:
    """Jinja2 and the templates load at the first page, not before: an idle daemon is small."""
    code = ("import sys; from ick.api.app import make_app; import ick.daemon.serve, ick.ui; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'markupsafe')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60, cwd=ROOT)
    assert result.stdout.strip() == "[]"
