"""The work protocol over HTTP, for remote workers (`ick worker`): worker scope."""

from __future__ import annotations

import asyncio
import math
import time

from aiohttp import web

from ick.api.helpers import json_body, require
from ick.api.keys import CONTROLLER
from ick.errors import InputError
from ick.scheduler.driver import Controller
from ick.scheduler.work import outcome_from_json

MAX_POLL = 60.0
SILENCE = MAX_POLL * 2  # a remote worker not heard from for this long is gone


def _worker(request: web.Request) -> str:
    worker = request.query.get("worker")
    if not worker:
        raise InputError("missing ?worker=ID (register at POST /workers first)")
    request.app[CONTROLLER].seen(worker, time.monotonic())
    return worker


def _ints(request: web.Request) -> tuple[int, int]:
    try:
        return int(request.match_info["build"]), int(request.match_info["seq"])
    except ValueError:
        raise InputError("build and seq must be numbers") from None


async def register(request: web.Request) -> web.Response:
    require(request, "worker")
    body = await json_body(request) or {}
    name = body.get("name", "worker") if isinstance(body, dict) else None
    # printable: the name goes into log lines and, as part of the worker id, into the database
    if not isinstance(name, str) or not name or len(name) > 100 or not name.isprintable():
        raise InputError("name: expected a string of 1 to 100 printable characters")
    worker = await request.app[CONTROLLER].register(name)
    request.app[CONTROLLER].seen(worker, time.monotonic())
    return web.json_response({"worker": worker}, status=201)


async def next_work(request: web.Request) -> web.Response:
    require(request, "worker")
    worker = _worker(request)
    try:
        timeout = min(float(request.query.get("timeout", "30")), MAX_POLL)
    except ValueError:
        timeout = math.nan
    if math.isnan(timeout):  # min() lets NaN through, and a NaN wait never ends
        raise InputError("timeout: expected a number of seconds")
    item = await request.app[CONTROLLER].next_work(worker, timeout)
    if item is None:
        return web.Response(status=204)
    return web.json_response(item.to_json())


async def output(request: web.Request) -> web.Response:
    require(request, "worker")
    worker = _worker(request)
    build_id, seq = _ints(request)
    data = await request.read()
    request.app[CONTROLLER].output(worker, build_id, seq, data)
    return web.json_response({"ok": True})


async def done(request: web.Request) -> web.Response:
    require(request, "worker")
    worker = _worker(request)
    build_id, seq = _ints(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InputError("expected a JSON object with the action's outcome")
    try:
        outcome = outcome_from_json(body)
    except (TypeError, ValueError, OverflowError):
        outcome = None
    # An exit code SQLite can store; a duration we can answer as JSON.
    if (outcome is None or not -(2**31) <= (outcome.exit_code or 0) < 2**31
            or not 0 <= outcome.duration < math.inf):
        raise InputError(
            "outcome: expected a whole number or null as exit_code and seconds as duration"
        )
    more = await request.app[CONTROLLER].done(worker, build_id, seq, outcome)
    return web.json_response({"more": more})


async def wait_cancel(request: web.Request) -> web.Response:
    require(request, "worker")
    worker = _worker(request)
    build_id, _ = _ints(request)
    cancel = await request.app[CONTROLLER].wait_cancel_for(worker, build_id, MAX_POLL)
    return web.json_response({"cancel": cancel})


async def drop_silent_workers(controller: Controller) -> None:
    """Forever: drop remote workers that stopped polling, so their builds do not hang."""
    while True:
        await asyncio.sleep(SILENCE / 4)
        await controller.drop_silent(time.monotonic(), SILENCE)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/workers", register)
    r.add_get("/work", next_work)
    r.add_post("/work/{build}/{seq}/output", output)
    r.add_post("/work/{build}/{seq}/done", done)
    r.add_get("/work/{build}/{seq}/cancel", wait_cancel)
