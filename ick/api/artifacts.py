"""Routes for artifacts: list, and GET/PUT/DELETE one, streamed both ways.

The digest travels in the `Ick-Digest: sha256:HEX` header: the daemon sends it with every
artifact and checks an upload against it when the client sends one. An upload may say the
Debian architecture of the tree it holds in `Ick-Arch` (a systree's).
"""

from __future__ import annotations

from aiohttp import web

from ick.api.helpers import require
from ick.errors import InputError, NotFoundError
from ick.keys import ARTIFACTS
from ick.runners.arches import ARCH_RE
from ick.storage.artifacts import check_name

DIGEST_HEADER = "Ick-Digest"
ARCH_HEADER = "Ick-Arch"


def arch_of(request: web.Request) -> str | None:
    """The architecture an upload says its tree is for, if it says one."""
    arch = request.headers.get(ARCH_HEADER)
    if arch is not None and not ARCH_RE.match(arch):
        raise InputError(f"{ARCH_HEADER}: expected a Debian architecture like arm64, "
                         f"got {arch[:40]!r}")
    return arch
READ_SIZE = 256 * 1024


async def list_artifacts(request: web.Request) -> web.Response:
    require(request, "read")
    return web.json_response([a.to_json() for a in await request.app[ARTIFACTS].list()])


async def get_artifact(request: web.Request) -> web.StreamResponse:
    require(request, "read")
    name = check_name(request.match_info["name"])
    store = request.app[ARTIFACTS]
    artifact = await store.get(name)
    if artifact is None:
        raise NotFoundError(f"no artifact {name!r}")
    # sendfile from the blob: bounded memory however big the artifact is.
    return web.FileResponse(store.blob_path(artifact.digest), chunk_size=READ_SIZE, headers={
        DIGEST_HEADER: artifact.digest,
        "Content-Type": "application/octet-stream",
    })


async def put_artifact(request: web.Request) -> web.Response:
    require(request, "write")
    name = check_name(request.match_info["name"])
    arch = arch_of(request)
    chunks = request.content.iter_chunked(READ_SIZE)
    digest = request.headers.get(DIGEST_HEADER)
    artifact, created = await request.app[ARTIFACTS].put(name, chunks, digest, arch)
    return web.json_response(artifact.to_json(), status=201 if created else 200,
                             headers={DIGEST_HEADER: artifact.digest})


async def delete_artifact(request: web.Request) -> web.Response:
    require(request, "write")
    name = check_name(request.match_info["name"])
    if not await request.app[ARTIFACTS].delete(name):
        raise NotFoundError(f"no artifact {name!r}")
    return web.json_response({"deleted": name})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/artifacts", list_artifacts)
    r.add_get(r"/artifacts/{name:.+}", get_artifact)
    r.add_put(r"/artifacts/{name:.+}", put_artifact)
    r.add_delete(r"/artifacts/{name:.+}", delete_artifact)
