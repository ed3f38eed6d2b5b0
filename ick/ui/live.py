"""A build's log on a page: its last 256 KiB, the whole of it as text, and the live stream of
what is written next (server-sent events, resumable with Last-Event-ID).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from ick.errors import InputError, NotFoundError
from ick.keepers.sessions import Session
from ick.model import Build
from ick.storage.logs import LogStore
from ick.ui import access, wiring
from ick.ui.numbers import build_id, whole_number
from ick.ui.streams import STREAMS

TAIL = 256 * 1024  # the most of a log a page ever holds
STATE_EVERY = 0.5  # seconds between looks at the build's state while its log grows
QUIET_WAIT = 2.0  # seconds between checks that the browser is still there, when all is quiet
LOOK_EVERY = 30.0  # seconds between looks at the state and the session when all is quiet
STREAM_LIMIT = 24 * 3600.0  # a stream is ended after a day; the browser resumes it


@dataclass(frozen=True)
class Tail:
    text: str
    start: int  # the log offset the text starts at (0: the whole log)
    end: int  # where the live stream goes on


def job_of(request: web.Request, build: Build) -> int | None:
    """Which log `?job=N` asks for: a job's of a matrix build, else (None) the build's own,
    which holds everything when the build has one job."""
    if "job" not in request.query or len(build.jobs) == 1:
        return None
    job = whole_number(request, "job", 0)
    if job >= len(build.jobs):
        raise InputError(f"job: build {build.id} has jobs 0 to {len(build.jobs) - 1}, not {job}")
    return job


def read_tail(logs: LogStore, build: int, live: bool, job: int | None = None) -> Tail:
    size = logs.size(build, job)
    start = max(0, size - TAIL)
    data = logs.read(build, start, size - start, job=job)
    if start > 0:
        cut = data.find(b"\n") + 1  # a line cut in half is not shown
        data, start = data[cut:], start + cut
    end = start + len(data)
    if live and not data.endswith(b"\n") and b"\n" in data:
        # The stream sends the unfinished last line, so that a character is never split.
        keep = data.rfind(b"\n") + 1
        data, end = data[:keep], start + keep
    return Tail(data.decode("utf-8", errors="replace"), start, end)


def _event(kind: str, doc: object, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(doc)}\n\n".encode()


def _state(build: Build) -> dict[str, object]:
    return {
        "state": build.state.value,
        "finished": build.state.finished,
        "actions": [{"state": a.state.value, "exit_code": a.exit_code,
                     "duration": None if a.duration is None else round(a.duration, 2),
                     "message": a.message or ""} for a in build.actions],
    }


async def _next(chunks: AsyncIterator[bytes], stopping: asyncio.Event) -> bytes | None:
    """The next chunk of the log, or None when it stops growing for a while, or we stop."""
    step = asyncio.ensure_future(anext(chunks))
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not step.done():
            step.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await step
    if step.done() and not step.cancelled() and step.exception() is None:
        return step.result()
    return None


def _resume_at(request: web.Request, size: int) -> int:
    """Last-Event-ID (the browser resuming) wins over ?offset (where the page's tail ended)."""
    text = request.headers.get("Last-Event-ID")
    if text is not None and text.isascii() and text.isdigit() and len(text) < 19:
        return min(int(text), size)
    return min(whole_number(request, "offset", size), size)


async def events(request: web.Request) -> web.StreamResponse:
    """`log` events carry text (JSON strings; id: the byte offset after them), `state` events
    the build's and its actions' states, `skip` says text was left out, `end` that it ended.
    Past max_streams (or max_streams_per_session) the answer is a 429 and the page polls."""
    session = await access.current_session(request)
    if session is None:
        raise web.HTTPUnauthorized(text="log in first", content_type="text/plain")
    number = build_id(request)
    build = await wiring.builds(request).get(number)
    if build is None:
        raise NotFoundError(f"no build {number}")
    access.check_build(session, build)
    job = job_of(request, build)
    with wiring.stream_slots(request).slot(f"session:{session.csrf}"):
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-store"})
        try:
            await response.prepare(request)
            await _stream(request, response, session, build, job)
            await response.write_eof()
        except ConnectionResetError:
            pass  # the tab was closed: nothing to say, and no one to say it to
        return response


def _gone(request: web.Request) -> bool:
    """The browser has closed the connection (aiohttp only says so at the next write)."""
    return request.transport is None or request.transport.is_closing()


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def _stream(request: web.Request, response: web.StreamResponse, session: Session,
                  build: Build, job: int | None) -> None:
    """Follow the log: it wakes the stream when it grows or closes (the build's state changes
    come with a line in it), so a quiet stream costs nothing but a look every LOOK_EVERY."""
    number, builds, logs = build.id, wiring.builds(request), wiring.logs(request)
    stopping = request.app[STREAMS].stopping
    await response.write(b"retry: 2000\n\n")
    offset = _resume_at(request, logs.size(number, job))
    if logs.size(number, job) - offset > TAIL:
        # A browser away for long: it gets the tail, never the whole backlog.
        offset = read_tail(logs, number, True, job).start
        await response.write(_event("skip", {"offset": offset}))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    sent_state: dict[str, object] | None = None
    looked = -LOOK_EVERY  # look at once: the page learns the state it opened on
    stale = True  # the log grew since the last look at the build's state
    deadline = time.monotonic() + STREAM_LIMIT
    tokens = wiring.sessions(request).tokens
    while not stopping.is_set() and time.monotonic() < deadline and not _gone(request):
        if tokens.record(session.token.key_id) is None:
            break  # its token revoked: the stream ends with the session
        was_open = logs.is_live(number, job)
        # A job's log opens when the job starts: until the build ends, more may come.
        live = was_open or not build.state.finished
        if not was_open and not build.state.finished and time.monotonic() - looked < QUIET_WAIT:
            await _pause(stopping, QUIET_WAIT)  # its log is not open yet: follow() waits not
        since = time.monotonic() - looked
        wait = max(0.05, STATE_EVERY - since) if stale else QUIET_WAIT
        chunks = logs.follow(number, offset, wait, job=job)
        while (chunk := await _next(chunks, stopping)) is not None:
            stale = True
            text = decoder.decode(chunk)
            offset += len(chunk)
            pending = len(decoder.getstate()[0])
            if text:
                await response.write(_event("log", text, offset - pending))
            if time.monotonic() - looked >= STATE_EVERY:
                break
        await chunks.aclose()
        now = time.monotonic()
        if (not (stale and now - looked >= STATE_EVERY) and now - looked < LOOK_EVERY
                and logs.is_live(number, job)):
            continue  # nothing new: the browser is still there, the state as it was
        looked, stale = now, False
        if await access.current_session(request) is None:
            break  # logged out: the stream ends with the session
        build = await builds.get(number) or build
        state = _state(build)
        if state != sent_state:
            await response.write(_event("state", state))
            sent_state = state
        if not live and logs.size(number, job) <= offset:
            await response.write(_event("end", {"state": build.state.value}))
            break


def polled(logs: LogStore, build: Build, job: int | None, offset: int) -> web.Response:
    """The log the live stream follows (the build's own, or job N's) from byte `offset` on,
    at most its last TAIL bytes. Headers: X-Ick-Offset, the byte the text starts at (past
    `offset` when some was left out); X-Ick-State, the build's; X-Ick-End: 1 when no more
    will come."""
    number = build.id
    live = logs.is_live(number, job) or not build.state.finished
    size = logs.size(number, job)
    offset = min(offset, size)
    if size - offset > TAIL:
        offset = read_tail(logs, number, False, job).start
    data = logs.read(number, offset, size - offset, job=job)
    ended = not live and offset + len(data) >= size
    return web.Response(body=data, content_type="text/plain", charset="utf-8", headers={
        "Cache-Control": "no-store", "X-Ick-Offset": str(offset),
        "X-Ick-State": build.state.value, "X-Ick-End": "1" if ended else "0"})


async def log_txt(request: web.Request) -> web.StreamResponse:
    """The whole log as plain text, streamed from the files: every job's, or one (`?job=N`).
    With `?offset=N`: what a page polls when it may not open a live stream (see polled)."""
    session = await access.page_session(request, checks_projects=True)
    number = build_id(request)
    logs = wiring.logs(request)
    build = await wiring.builds(request).get(number)
    if build is None:
        raise NotFoundError(f"no build {number}")
    access.check_build(session, build)
    job = job_of(request, build)
    if "offset" in request.query:
        return polled(logs, build, job, whole_number(request, "offset", 0))
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    chunks = logs.whole(build, 0) if job is None else logs.chunks(number, job, 0, False, None)
    with contextlib.suppress(ConnectionResetError):  # the tab was closed halfway
        await response.prepare(request)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    return response
