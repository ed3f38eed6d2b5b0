"""`ick artifacts list|get|put|rm`: the artifact store, streamed both ways with its digest."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import click

from ick.cli.context import EXIT_FAILED, Context, fail, json_option, pass_ctx, print_json

BLOCK = 1 << 20
DIGEST_HEADER = "Ick-Digest"
TRANSFER_TIMEOUT = 600.0  # seconds one socket operation may take; the daemon fsyncs big files


def _path(name: str) -> str:
    from ick.cli.client import quote_name

    return f"/artifacts/{quote_name(name)}"


def _file_digest(f: IO[bytes]) -> tuple[str, int]:
    import hashlib

    h = hashlib.sha256()
    size = 0
    while block := f.read(BLOCK):
        h.update(block)
        size += len(block)
    f.seek(0)
    return "sha256:" + h.hexdigest(), size


def _blocks(f: IO[bytes]) -> Iterator[bytes]:
    while block := f.read(BLOCK):
        yield block


@click.group()
def artifacts() -> None:
    """List, fetch, store and remove artifacts."""


@artifacts.command("list")
@json_option
@pass_ctx
def list_artifacts(ctx: Context, as_json: bool) -> None:
    """List artifacts: name, size in bytes, digest, when stored, a tree's architecture."""
    docs: list[dict[str, Any]] = ctx.client.call("GET", "/artifacts")
    if as_json:
        print_json(docs)
        return
    width = max((len(d["name"]) for d in docs), default=0)
    for d in docs:
        arch = f"  {d['arch']}" if d.get("arch") else ""
        click.echo(f"{d['name']:<{width}}  {d['size']:>12}  {d['digest'][:19]}  "
                   f"{d['created_at']}{arch}")


def _copy(response: Any, out: IO[bytes]) -> str:
    import hashlib

    h = hashlib.sha256()
    while block := response.read1(BLOCK):
        h.update(block)
        out.write(block)
    out.flush()
    return "sha256:" + h.hexdigest()


@artifacts.command("get")
@click.argument("name")
@click.option("-o", "--output", "path", type=click.Path(dir_okay=False), default=None,
              help="Write to FILE (default: standard output).")
@pass_ctx
def get(ctx: Context, name: str, path: str | None) -> None:
    """Fetch artifact NAME, checking it against its digest."""
    fetch(ctx, _path(name), f"artifact {name}", path)


def fetch(ctx: Context, url_path: str, what: str, path: str | None) -> None:
    """Download what `url_path` serves with its digest to `path` (standard output if None),
    checked against the digest; a file appears only whole and checked."""
    import tempfile

    conn, response = ctx.client.open("GET", url_path, timeout=TRANSFER_TIMEOUT)
    expected = response.getheader(DIGEST_HEADER)
    tmp: str | None = None
    try:
        if path is None:
            digest = _copy(response, sys.stdout.buffer)
        else:
            # Into a temporary file beside FILE, renamed into place once complete and checked.
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                       prefix=".ick-get-")
            with os.fdopen(fd, "wb") as out:
                digest = _copy(response, out)
        if expected is not None and digest != expected:
            fail(f"{what}: what arrived has digest {digest}, not {expected}",
                 EXIT_FAILED)
        if tmp is not None and path is not None:
            os.replace(tmp, path)
            tmp = None
    finally:
        conn.close()
        if tmp is not None:
            os.unlink(tmp)


@artifacts.command("put")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--arch", metavar="ARCH", default=None,
              help="The Debian architecture of the tree FILE holds (a systree's).")
@pass_ctx
def put(ctx: Context, name: str, file: str, arch: str | None) -> None:
    """Store FILE as artifact NAME (replacing what NAME was)."""
    import json

    with open(file, "rb") as f:
        digest, size = _file_digest(f)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size),
                   DIGEST_HEADER: digest}
        if arch:
            headers["Ick-Arch"] = arch
        conn, response = ctx.client.open("PUT", _path(name), _blocks(f), headers,
                                         timeout=TRANSFER_TIMEOUT)
        try:
            doc = json.loads(response.read())
        finally:
            conn.close()
    click.echo(f"artifact {doc['name']}: stored, {doc['size']} bytes, {doc['digest']}")


@artifacts.command("rm")
@click.argument("name")
@pass_ctx
def rm(ctx: Context, name: str) -> None:
    """Remove artifact NAME."""
    ctx.client.call("DELETE", _path(name))
    click.echo(f"artifact {name}: removed")
