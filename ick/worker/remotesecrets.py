"""A remote worker's way to the secrets an action names: fetched from the controller for
that action only (the controller checks the action names each one)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

import aiohttp

from ick.errors import ActionError
from ick.runners.base import ActionContext
from ick.worker.remote import RemoteSource

FETCH_TIMEOUT = 60.0


class RemoteSecrets:
    """`ActionContext.services` of `ick worker`; see ick.worker.secretfiles."""

    def __init__(self, source: RemoteSource, worker_id: Callable[[], str | None]) -> None:
        self.source = source
        self.worker_id = worker_id

    async def secret_for(self, ctx: ActionContext, name: str) -> bytes | None:
        path = f"/work/{ctx.build_id}/{ctx.seq}/secrets/{urllib.parse.quote(name)}"
        try:
            async with self.source.session.get(
                self.source.url + path, params={"worker": self.worker_id() or ""},
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT),
            ) as response:
                if response.status == 404:
                    return None
                if response.status >= 400:
                    try:
                        reason = str((await response.json())["error"])
                    except (aiohttp.ContentTypeError, ValueError, KeyError, TypeError):
                        reason = response.reason or str(response.status)
                    raise ActionError(f"the controller did not give secret {name!r}: {reason}")
                return await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ActionError(f"cannot fetch secret {name!r} from the controller: {e}") from None
