"""Routes for a build's outputs (read scope; a token bound to projects sees only theirs):

    GET /builds/{id}/outputs               the build's outputs, as its JSON lists them
    GET /builds/{id}/outputs/{path}        one output's bytes, streamed, with `Ick-Digest`
                                           (?job=N: that job's; else the first job's)

Only a path the table holds is served, from its blob: nothing else on disk can be named.
"""

from __future__ import annotations

import urllib.parse

from aiohttp import web

from ick.api.artifacts import DIGEST_HEADER, READ_SIZE
from ick.api.builds import named_build
from ick.api.helpers import require
from ick.errors import InputError, NotFoundError
from ick.keys import OUTPUTS
from ick.storage.outputs import check_output_path

MAX_JOB = 10000


def _job(request: web.Request) -> int | None:
    text = request.query.get("job")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or int(text) > MAX_JOB:
        raise InputError(f"job: expected a whole number from 0 to {MAX_JOB}, got {text!r}")
    return int(text)


async def list_outputs(request: web.Request) -> web.Response:
    record = require(request, "read", checks_projects=True)
    build = await named_build(request, record)
    return web.json_response([o.to_json() for o in await request.app[OUTPUTS].list(build.id)])


async def get_output(request: web.Request) -> web.StreamResponse:
    record = require(request, "read", checks_projects=True)
    build = await named_build(request, record)
    path = check_output_path(request.match_info["path"])
    job = _job(request)
    store = request.app[OUTPUTS]
    output = await store.get(build.id, path, job)
    if output is None:
        of_job = "" if job is None else f" in job {job}"
        raise NotFoundError(f"build {build.id} has no output {path!r}{of_job}")
    blob = store.blob_path(output)
    if not blob.is_file():  # pruned meanwhile
        raise NotFoundError(f"build {build.id} has no output {path!r}")
    # RFC 6266's encoded form: any file name, and nothing a header could not carry.
    name = urllib.parse.quote(path.rsplit("/", 1)[-1], safe="")
    return web.FileResponse(blob, chunk_size=READ_SIZE, headers={
        DIGEST_HEADER: output.digest, "Content-Type": "application/octet-stream",
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/builds/{id}/outputs", list_outputs)
    r.add_get("/builds/{id}/outputs/{path:.+}", get_output)
