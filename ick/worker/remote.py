"""The work protocol over HTTP: what `ick worker` uses in place of an in-process controller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

import aiohttp

from ick.errors import ClientError
from ick.scheduler.machine import Outcome
from ick.scheduler.work import WorkItem, outcome_to_json

log = logging.getLogger(__name__)

RETRY = 2.0


class Unreachable(ClientError):
    """The controller did not answer at all (as opposed to answering with an error)."""


class RemoteSource:
    """A `WorkSource` that talks to a controller's /workers and /work routes."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self._session: aiohttp.ClientSession | None = None
        self._pending: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> RemoteSource:
        self._session = aiohttp.ClientSession(headers=self.headers)
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._flush()
        assert self._session is not None
        await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use RemoteSource in `async with`"
        return self._session

    async def _json(self, method: str, path: str, **kwargs: object) -> object:
        try:
            async with self.session.request(method, self.url + path, **kwargs) as r:  # type: ignore[arg-type]
                if r.status == 204:
                    return None
                if r.status >= 400:
                    try:
                        message = (await r.json())["error"]
                    except (aiohttp.ContentTypeError, ValueError, KeyError, TypeError):
                        message = r.reason
                    raise ClientError(f"{method} {path}: {r.status} {message}")
                return await r.json()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise Unreachable(f"cannot reach the controller at {self.url}: {e}") from None

    async def register(self, name: str) -> str:
        doc = await self._json("POST", "/workers", json={"name": name})
        assert isinstance(doc, dict)
        return str(doc["worker"])

    async def next_work(self, worker_id: str, timeout: float) -> WorkItem | None:
        try:
            doc = await self._json("GET", "/work", params={"worker": worker_id,
                                                           "timeout": str(timeout)},
                                   timeout=aiohttp.ClientTimeout(total=timeout + 30))
        except Unreachable as e:
            log.warning("%s", e)
            await asyncio.sleep(RETRY)
            return None
        return WorkItem.from_json(doc) if isinstance(doc, dict) else None

    def output(self, worker_id: str, build_id: int, seq: int, data: bytes) -> None:
        # Sent in order: each post waits for the one before it.
        previous = self._pending[-1] if self._pending else None

        async def send() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            await self._json("POST", f"/work/{build_id}/{seq}/output",
                             params={"worker": worker_id}, data=data)

        self._pending.append(asyncio.ensure_future(send()))

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for task in pending:
            try:
                await task
            except (ClientError, aiohttp.ClientError) as e:
                log.warning("lost some output: %s", e)

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome) -> bool:
        await self._flush()
        doc = await self._json("POST", f"/work/{build_id}/{seq}/done",
                               params={"worker": worker_id}, json=outcome_to_json(outcome))
        return bool(isinstance(doc, dict) and doc.get("more"))

    async def wait_cancel(self, worker_id: str, build_id: int) -> None:
        while True:
            try:
                doc = await self._json("GET", f"/work/{build_id}/0/cancel",
                                       params={"worker": worker_id})
            except (aiohttp.ClientError, ClientError) as e:
                log.warning("cancel poll failed: %s", e)
                await asyncio.sleep(RETRY)
                continue
            if isinstance(doc, dict) and doc.get("cancel"):
                return
