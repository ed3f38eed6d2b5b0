"""`ick worker`: a remote worker that takes actions from a controller over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from pathlib import Path

import click

from ick.cli.main import Context, cli, fail, pass_ctx


@cli.command()
@click.option("--name", default=None, help="This worker's name [host name].")
@click.option("--state-dir", default=None,
              help="Where workspaces live [~/.local/share/ick-worker].")
@pass_ctx
def worker(ctx: Context, name: str | None, state_dir: str | None) -> None:
    """Run actions for the controller at --url with a worker-scope --token."""
    from ick.runners.base import HostSettings
    from ick.worker.remote import RemoteSource
    from ick.worker.worker import Worker

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not ctx.token:
        fail("a remote worker needs --token (or ICK_TOKEN) with the worker scope")
    state = Path(state_dir or os.path.expanduser("~/.local/share/ick-worker"))
    for sub in ("workspaces", "run"):
        (state / sub).mkdir(parents=True, exist_ok=True)

    async def main() -> None:
        from ick.worker.remotesecrets import RemoteSecrets

        async with RemoteSource(ctx.url, ctx.token or "") as source:
            secrets = RemoteSecrets(source, lambda: remote_worker.worker_id)
            remote_worker = Worker(source, name or socket.gethostname(),
                                   HostSettings(state_dir=state), services=secrets)
            await remote_worker.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
