"""The headers every page, badge and static file of the UI is sent with: a strict
Content-Security-Policy (no inline script or style, no framing), no sniffing, no caching."""

from __future__ import annotations

from aiohttp import web

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def is_page(path: str) -> bool:
    return path in ("/", "/ui") or path.startswith(("/ui/", "/badges/"))


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare, for the UI's paths only (the JSON API has its own ways)."""
    if not is_page(request.path):
        return
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith("/ui/static/"):
        headers.setdefault("Cache-Control", "no-store")
    # A form htmx sent (hx-boost) ends on the page it was redirected to: show that address.
    if request.headers.get("HX-Boosted") == "true" and request.method == "GET":
        headers["HX-Push-Url"] = request.path_qs
