"""Rendering pages: Jinja2 with autoescaping, loaded at the first page, not at daemon start
(it would cost every idle daemon its memory).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from aiohttp import web

from ick.keepers.sessions import Session

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


class Templates:
    """The Jinja2 environment, made on first use; one per application."""

    def __init__(self) -> None:
        self._env: Any = None

    def env(self) -> Any:
        if self._env is None:
            import jinja2

            from ick.ui import view

            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            )
            env.filters.update(view.FILTERS)
            env.globals["static"] = _static_urls()
            self._env = env
        return self._env

    def render(self, name: str, context: dict[str, Any]) -> str:
        text: str = self.env().get_template(name).render(context)
        return text


def _static_urls() -> dict[str, str]:
    """Each static file's address, with a digest of its content so browsers may cache it."""
    urls = {}
    for path in sorted(STATIC.iterdir()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        urls[path.name] = f"/ui/static/{path.name}?v={digest}"
    return urls


TEMPLATES_KEY = web.AppKey("ui_templates", Templates)
SESSION = web.RequestKey("ui_session", Session)  # the logged-in session, set by ick.ui.access


def render(request: web.Request, name: str, context: dict[str, Any],
           status: int = 200) -> web.Response:
    session = request.get(SESSION)
    text = request.app[TEMPLATES_KEY].render(name, {
        "session": session,
        "csrf": session.csrf if session is not None else "",
        "path": request.path,
        "path_qs": request.path_qs,
        **context,
    })
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
