"""Who may see a page: the session cookie and the projects its token is bound to, CSRF on
every POST, safe redirects after login, and errors shown as pages. (The headers every page
is sent with are in headers.py.)
"""

from __future__ import annotations

import hmac
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from ick.errors import ForbiddenError, IckError, InputError
from ick.keepers.sessions import SESSION_DAYS, Session, SessionKeeper
from ick.keepers.tokens import check_project, check_unbound
from ick.model import Build
from ick.ui import wiring
from ick.ui.templates import SESSION, render

COOKIE = "ick_session"
LOGIN_COOKIE = "ick_login"  # before a session exists: the login form's own CSRF value

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a page of ours, never another site (`//evil`, `/\\evil`,
    `https://evil`)."""
    if not value or not value.startswith("/ui") or value.startswith("/ui\\"):
        return "/ui/"
    parts = urllib.parse.urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or not value.isprintable():
        return "/ui/"
    return value if parts.path in ("/ui", "/ui/") or parts.path.startswith("/ui/") else "/ui/"


def login_url(request: web.Request) -> str:
    target = request.path_qs if request.method == "GET" else "/ui/"
    return "/ui/login?" + urllib.parse.urlencode({"next": target})


def secure(request: web.Request) -> bool:
    public = wiring.settings(request).public_url or ""
    return request.secure or public.startswith("https:")


def set_session_cookie(request: web.Request, response: web.StreamResponse, sid: str) -> None:
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", secure=secure(request),
                        path="/", max_age=SESSION_DAYS * 86400)


def login_csrf(request: web.Request) -> str:
    """The login form's CSRF value: kept in its own cookie, echoed by the form (a cross-site
    form cannot send a SameSite=Lax cookie with its POST, so the two never match)."""
    value = request.cookies.get(LOGIN_COOKIE)
    if not value or len(value) > 100:
        value = secrets.token_urlsafe(24)
    return value


def keep_login_csrf(request: web.Request, response: web.StreamResponse, value: str) -> None:
    if request.cookies.get(LOGIN_COOKIE) != value:
        response.set_cookie(LOGIN_COOKIE, value, httponly=True, samesite="Lax",
                            secure=secure(request), path="/ui/login", max_age=3600)


async def current_session(request: web.Request) -> Session | None:
    session = await wiring.sessions(request).session(request.cookies.get(COOKIE))
    if session is not None:
        request[SESSION] = session
    return session


def check_projects(session: Session, project: str | None, checks_projects: bool) -> None:
    """As the API's `require`: a session of a token bound to projects sees `project` only if
    it is one of them (404 otherwise, as for one that does not exist); a page that checks
    projects itself (the dashboard, a build's) passes; any other page (no project's) is 403."""
    if project is not None:
        check_project(session.token, project, f"no project {project!r}")
    elif not checks_projects:
        check_unbound(session.token)


def check_build(session: Session, build: Build) -> None:
    """404 for a build of a project the session's token may not see."""
    check_project(session.token, build.project, f"no build {build.id}")


async def page_session(request: web.Request, scope: str = "read", project: str | None = None,
                       *, checks_projects: bool = False) -> Session:
    """The request's session; without one, the browser goes to the login page."""
    session = await current_session(request)
    if session is None:
        raise web.HTTPSeeOther(login_url(request))
    SessionKeeper.check(session, scope)
    check_projects(session, project, checks_projects)
    return session


def same_origin(request: web.Request) -> bool:
    """A browser names the page that sent a POST in Origin; it must be one of ours."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    ours = {request.host, urllib.parse.urlsplit(wiring.settings(request).public_url or "").netloc}
    return urllib.parse.urlsplit(origin).netloc in ours - {""}


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form; a body that cannot be read as one (multipart without a boundary or
    cut short, an unknown charset, bytes that are not in it) is a 400, not a 500."""
    try:
        return await request.post()
    except HttpProcessingError as e:  # a line of a part too long, say
        reason = (e.message.strip().splitlines() or [type(e).__name__])[0][:120]
    except (ValueError, LookupError) as e:  # UnicodeError is a ValueError
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:120]
    raise InputError(f"this form's body cannot be read ({reason}): send it from the page's "
                     "own form")


async def checked_form(request: web.Request, expected: str) -> MultiDictProxy[Any]:
    """The POSTed form, if it carries `expected` as its CSRF token and came from our pages."""
    form = await read_form(request)
    given = form.get("_csrf") or request.headers.get("X-CSRF-Token") or ""
    if (not isinstance(given, str) or not same_origin(request)
            or not hmac.compare_digest(given.encode(), expected.encode())):
        raise ForbiddenError("this form is stale or came from another site (bad csrf token): "
                             "reload the page and try again")
    return form


async def session_form(
    request: web.Request, scope: str, project: str | None = None, *,
    checks_projects: bool = False,
) -> tuple[Session, MultiDictProxy[Any]]:
    """A POST from a logged-in page: session, CSRF token, then the scope the action needs and
    the project it names (see check_projects)."""
    session = await current_session(request)
    if session is None:
        raise web.HTTPSeeOther(login_url(request))
    form = await checked_form(request, session.csrf)
    SessionKeeper.check(session, scope)
    check_projects(session, project, checks_projects)
    return session, form


def page(handler: Handler) -> Handler:
    """Wrap a page handler: an error is an HTML page with its status, not JSON."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except IckError as e:
            return render(request, "error.html", {"message": e.message}, status=e.status)

    return wrapped
