"""The pages that change things, each a POST answered with 303: log in and out, Build now,
Cancel, Rebuild. Each works without JavaScript; htmx (hx-boost) sends the same forms.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from ick.errors import AuthError, IckError, InputError, NotFoundError
from ick.keepers.sessions import Session
from ick.keepers.triggers import check_parameters, check_rebuild, check_ref
from ick.model import Build, Project
from ick.ui import access, wiring
from ick.ui.numbers import build_id
from ick.ui.pages import parameter_fields, project_name
from ick.ui.templates import render


async def login_page(request: web.Request, message: str = "",
                     status: int = 200) -> web.StreamResponse:
    link = request.query.get("link", "")
    if request.method == "POST":
        form = await access.read_form(request)
        link = str(form.get("link") or "")
        target = access.safe_next(str(form.get("next") or ""))
    else:
        target = access.safe_next(request.query.get("next"))
    csrf = access.login_csrf(request)
    response = render(request, "login.html", {
        "next": target, "link": link[:100], "login_csrf": csrf, "message": message,
    }, status=status)
    access.keep_login_csrf(request, response, csrf)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """A token pasted in the form, or a login link's secret: a new session either way (an old
    session id is never kept, so no one can plant one)."""
    form = await access.read_form(request)
    expected = request.cookies.get(access.LOGIN_COOKIE) or ""
    try:
        if not expected:
            raise AuthError("your browser did not send the login cookie: allow cookies for "
                            "this site and try again")
        await access.checked_form(request, expected)
        keeper = wiring.sessions(request)
        link, token = str(form.get("link") or ""), str(form.get("token") or "")
        if link:
            session_id = await keeper.login_with_link(link)
        elif token.strip():
            session_id = await keeper.login_with_token(token)
        else:
            raise InputError("paste an API token (ick token create --scope read ...)")
    except IckError as e:
        return await login_page(request, e.message, status=e.status)
    old = request.cookies.get(access.COOKIE)
    if old:
        await keeper.logout(old)
    response = web.HTTPSeeOther(access.safe_next(str(form.get("next") or "")))
    access.set_session_cookie(request, response, session_id)
    response.del_cookie(access.LOGIN_COOKIE, path="/ui/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    session = await access.current_session(request)
    if session is not None:
        await access.checked_form(request, session.csrf)
        await wiring.sessions(request).logout(request.cookies[access.COOKIE])
    response = web.HTTPSeeOther("/ui/login")
    response.del_cookie(access.COOKIE, path="/")
    raise response


def overrides(project: Project, required: list[str],
              form: MultiDictProxy[Any]) -> dict[str, Any]:
    """The form's values: a string parameter as typed, any other as JSON (as it was shown)."""
    out: dict[str, Any] = {}
    for field in parameter_fields(project, required):
        name = field["name"]
        value = form.get(name)
        if not isinstance(value, str):
            continue
        if field["json"]:
            try:
                out[name] = json.loads(value)
            except ValueError:
                raise InputError(f"parameter {name!r}: expected JSON like the project's value "
                                 f"{json.dumps(field['value'])[:60]}, got {value[:60]!r}") from None
        elif value or name in project.parameters:
            out[name] = value
    return out


async def build_now(request: web.Request) -> web.StreamResponse:
    session, form = await access.session_form(request, "trigger", request.match_info["name"])
    name = project_name(request)
    resources = wiring.resources(request)
    project = await resources.project(name)
    if project is None:
        raise NotFoundError(f"no project {name!r}")
    required = [key for p in project.pipeline_names()
                if (pipeline := await resources.pipeline(p))
                for key in pipeline.parameters]
    values = overrides(project, required, form)
    # Every value comes from the form: one the page did not show this token (a trigger
    # token's) is refused as the API refuses it, and nothing is queued.
    check_parameters(session.token, project, values)
    check_ref(session.token, project, values)
    build = await wiring.controller(request).trigger(name, values, ick_trigger="ui",
                                                     triggered_by=session.token.name)
    raise web.HTTPSeeOther(f"/ui/builds/{build.id}")


async def _build(request: web.Request, session: Session) -> Build:
    number = build_id(request)
    build = await wiring.builds(request).get(number)
    if build is None:
        raise NotFoundError(f"no build {number}")
    access.check_build(session, build)
    return build


async def cancel(request: web.Request) -> web.StreamResponse:
    session, _ = await access.session_form(request, "write", checks_projects=True)
    number = (await _build(request, session)).id
    await wiring.controller(request).cancel(number)
    raise web.HTTPSeeOther(f"/ui/builds/{number}")


async def rebuild(request: web.Request) -> web.StreamResponse:
    session, _ = await access.session_form(request, "trigger", checks_projects=True)
    old = await _build(request, session)
    project = await wiring.resources(request).project(old.project)
    if project is not None:  # else the controller refuses: the project was deleted
        check_rebuild(session.token, project, old.parameters)
    build = await wiring.controller(request).rebuild(old.id, session.token.name)
    raise web.HTTPSeeOther(f"/ui/builds/{build.id}")
