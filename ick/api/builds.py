"""Routes for builds: listing, one build, its log (offset, follow), cancelling, rebuilding."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from ick.api.helpers import require
from ick.errors import InputError, NotFoundError
from ick.keepers.tokens import check_project
from ick.keepers.triggers import check_rebuild
from ick.keys import BUILDS, CONTROLLER, LOGS, NOTIFICATIONS, OUTPUTS, RESOURCES, STREAM_SLOTS
from ick.model import Build, BuildState
from ick.scheduler.driver import Controller
from ick.storage.logs import job_key
from ick.storage.tokens import TokenRecord

FOLLOW_LIMIT = 24 * 3600.0  # a follower is let go after a day at the most
GONE_CHECK = 2.0  # seconds between looks whether a follower's client is still there


def _int_arg(request: web.Request, key: str, default: int, low: int, high: int) -> int:
    text = request.query.get(key)
    if text is None:
        return default
    # ASCII digits only: '²' is a digit to isdigit() but not to int().
    if (not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 20
            or not low <= int(text) <= high):
        raise InputError(f"{key}: expected a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _build_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InputError(f"bad build id {text!r}: expected a number")
    return int(text)


def _with_waiting(controller: Controller, build: Build) -> dict[str, Any]:
    """The build's JSON; a queued one (or a running one with queued jobs) says why no
    worker takes it, if none can."""
    doc = build.to_json()
    if build.state is BuildState.QUEUED or (
            build.state is BuildState.RUNNING
            and any(j.state is BuildState.QUEUED for j in build.jobs)):
        doc["waiting"] = controller.waiting(build.id)
    return doc


async def _bound_builds(request: web.Request, record: TokenRecord, limit: int) -> list[Build]:
    """The newest builds of the projects a bound token may see (those that exist now)."""
    store = request.app[BUILDS]
    names = [p.name for p in await request.app[RESOURCES].projects() if record.binds(p.name)]
    builds = [b for name in names for b in await store.list(name, limit)]
    return sorted(builds, key=lambda b: b.id, reverse=True)[:limit]


async def named_build(request: web.Request, record: TokenRecord) -> Build:
    """The build the path names, if there is one and the token may see its project (a
    token bound to other projects gets 404, as for a build that is not there)."""
    build_id = _build_id(request)
    build = await request.app[BUILDS].get(build_id)
    if build is None or not record.binds(build.project):
        raise NotFoundError(f"no build {build_id}")
    return build


async def list_builds(request: web.Request) -> web.Response:
    record = require(request, "read", checks_projects=True)
    limit = _int_arg(request, "limit", 50, 1, 10000)
    project = request.query.get("project")
    if project is not None:
        check_project(record, project, f"no project {project!r}")
    if project is None and record.projects is not None:
        builds = await _bound_builds(request, record, limit)
    else:
        builds = await request.app[BUILDS].list(project, limit)
    # A deleted project's builds are still listed; a name that never was is a mistake.
    if (project is not None and not builds
            and await request.app[RESOURCES].project(project) is None
            and not await request.app[BUILDS].any_of(project)):
        raise NotFoundError(f"no project {project!r}")
    controller = request.app[CONTROLLER]
    return web.json_response([_with_waiting(controller, b) for b in builds])


async def get_build(request: web.Request) -> web.Response:
    record = require(request, "read", checks_projects=True)
    build = await named_build(request, record)
    build_id = build.id
    doc = _with_waiting(request.app[CONTROLLER], build)
    doc["notifications"] = [
        n.to_json() for n in await request.app[NOTIFICATIONS].for_build(build_id)]
    # Only here, not in listings: a list of builds stays one query.
    doc["outputs"] = [o.to_json() for o in await request.app[OUTPUTS].list(build_id)]
    return web.json_response(doc)


async def get_log(request: web.Request) -> web.StreamResponse:
    """The build's whole log, or with ?job=N one job's (of a build with several jobs, the
    jobs' logs follow one another, each under its `== job N (...) ==` line)."""
    token = require(request, "read", checks_projects=True)
    build = await named_build(request, token)
    build_id = build.id
    offset = _int_arg(request, "offset", 0, 0, 2**62)
    job = None
    if "job" in request.query:
        job = _int_arg(request, "job", 0, 0, 10000)
        if job >= len(build.jobs):
            raise NotFoundError(f"build {build_id} has no job {job} (it has "
                                f"{len(build.jobs)}: 0 to {len(build.jobs) - 1})")
    follow = request.query.get("follow", "0") not in ("0", "", "false", "no")
    logs = request.app[LOGS]
    if job is None:
        chunks = logs.whole(build, offset, follow, FOLLOW_LIMIT)
    else:
        chunks = logs.chunks(build_id, job_key(build, job), offset, follow, FOLLOW_LIMIT)
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    if not follow:
        await _send(request, response, chunks)
        return response
    # A follower holds one of its token's live log streams (max_streams_per_session).
    with request.app[STREAM_SLOTS].slot(f"token:{token.key_id}"):
        await _send(request, response, chunks)
    return response


async def _send(request: web.Request, response: web.StreamResponse,
                chunks: AsyncIterator[bytes]) -> None:
    """Copy the log to the client, until it ends, the client leaves (which aiohttp tells
    only at the next write: a queued build may write nothing for hours), or FOLLOW_LIMIT."""
    async def copy() -> None:
        with contextlib.suppress(ConnectionResetError):  # the client left: nothing to say
            await response.prepare(request)
            async for chunk in chunks:
                await response.write(chunk)
            await response.write_eof()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + FOLLOW_LIMIT
    async with asyncio.TaskGroup() as group:
        copying = group.create_task(copy())
        while not copying.done():
            await asyncio.wait({copying}, timeout=GONE_CHECK)
            gone = request.transport is None or request.transport.is_closing()
            if gone or loop.time() > deadline:
                copying.cancel()


async def cancel_build(request: web.Request) -> web.Response:
    record = require(request, "write", checks_projects=True)
    build_id = (await named_build(request, record)).id
    await request.app[CONTROLLER].cancel(build_id)
    build = await request.app[BUILDS].get(build_id)
    assert build is not None
    return web.json_response(build.to_json())


async def rebuild_build(request: web.Request) -> web.Response:
    record = require(request, "trigger", checks_projects=True)
    old = await named_build(request, record)
    project = await request.app[RESOURCES].project(old.project)
    if project is not None:  # else the controller refuses: the project was deleted
        check_rebuild(record, project, old.parameters)
    build = await request.app[CONTROLLER].rebuild(old.id, record.name)
    return web.json_response(build.to_json(), status=201)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/builds/{id}/+rebuild", rebuild_build)
    r.add_get("/builds", list_builds)
    r.add_get("/builds/{id}", get_build)
    r.add_get("/builds/{id}/log", get_log)
    r.add_post("/builds/{id}/+cancel", cancel_build)
