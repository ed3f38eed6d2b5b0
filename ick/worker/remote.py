"""A remote worker's side of the work protocol (ick.api.work): `RemoteSource` for the work
itself and `RemoteServices` for what its actions need (artifacts, systrees, secrets).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import urllib.parse
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from ick.errors import ActionError, ClientError
from ick.runners.base import ActionContext, ArtifactRef
from ick.scheduler.machine import Outcome
from ick.scheduler.routing import Labels
from ick.scheduler.work import Forgotten, Refused, Unreachable, WorkItem, outcome_to_json
from ick.worker.deployed import place
from ick.worker.systrees import SystreeCache

log = logging.getLogger(__name__)

DIGEST_HEADER = "Ick-Digest"
CHUNK = 256 * 1024
REPORT_PATIENCE = 300.0  # seconds to keep trying to report an outcome to a controller away
# Most actions end sooner: they never open a cancel poll, which a cancelled request would
# cost a new connection for. A cancel meanwhile is answered by the first poll at once.
CANCEL_POLL_DELAY = 0.5


class RemoteSource:
    """A `WorkSource` that talks to a controller's /work routes with a worker-scope token."""

    def __init__(self, url: str, token: str, instance: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.instance = instance  # this worker's own key: see ick.worker.instance
        self.headers = {"Authorization": f"Bearer {token}"}
        self.lease = 60.0  # what the controller says at registration
        self._session: aiohttp.ClientSession | None = None
        # Output to send, in order, by the one sender task the source owns (None: stop).
        self._outbox: asyncio.Queue[tuple[str, int, int, bytes] | None] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._lost: dict[tuple[int, int], int] = {}  # (build, seq) -> output bytes not sent
        # Work the controller handed over with the answer to a `done`, for the next poll.
        self._next: list[WorkItem] = []
        self._watches: set[asyncio.Task[None]] = set()  # cancel polls (watch_cancel)

    async def __aenter__(self) -> RemoteSource:
        self._session = aiohttp.ClientSession(headers=self.headers)
        self._sender = asyncio.create_task(self._send_output())
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._session is not None and self._sender is not None
        await self._flush()
        self._outbox.put_nowait(None)
        await self._sender
        await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use RemoteSource in `async with`"
        return self._session

    @property
    def poll(self) -> float:
        """Seconds one long poll may take: well inside the lease, which every call renews."""
        return max(0.05, min(30.0, self.lease / 3))

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with self.session.request(method, self.url + path, **kwargs) as r:
                if r.status == 204:
                    return None
                if r.status >= 400:
                    message = await _error(r)
                    if r.status == 404 and message.startswith("no worker"):
                        raise Forgotten(f"{method} {path}: {message}")
                    if r.status in (401, 403) and path == "/work":
                        raise Refused(f"the controller at {self.url} refuses this worker: "
                                      f"{message}")
                    raise ClientError(f"{method} {path}: {r.status} {message}")
                return await r.json()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise Unreachable(f"cannot reach the controller at {self.url}: {e}") from None

    async def register(self, name: str, labels: Labels, slots: int) -> str:
        body: dict[str, object] = {
            "name": name, "labels": {k: list(v) for k, v in labels.items()}, "slots": slots}
        if self.instance is not None:
            body["instance"] = self.instance
        doc = await self._json("POST", "/work", json=body)
        self.lease = float(doc.get("lease", self.lease))
        self._next.clear()  # handed to the id before, which the controller forgot
        return str(doc["worker"])

    async def deregister(self, worker_id: str) -> None:
        await self._flush()
        # Work handed over that no slot took: given back, else deregistering interrupts it.
        while self._next:
            item = self._next.pop(0)
            await self.hand_back(worker_id, item.build_id, item.seq)
        await self._json("DELETE", "/work", params={"worker": worker_id},
                         timeout=aiohttp.ClientTimeout(total=10))

    async def next_work(self, worker_id: str, timeout: float) -> WorkItem | None:
        if self._next:
            return self._next.pop(0)
        timeout = min(timeout, self.poll)
        doc = await self._json("GET", "/work", params={"worker": worker_id,
                                                       "timeout": str(timeout)},
                               timeout=aiohttp.ClientTimeout(total=timeout + 30))
        return WorkItem.from_json(doc) if isinstance(doc, dict) else None

    def output(self, worker_id: str, build_id: int, seq: int, data: bytes) -> None:
        self._outbox.put_nowait((worker_id, build_id, seq, data))

    async def _send_output(self) -> None:
        """Post output in order; what waits for the same action goes in one request."""
        held: tuple[str, int, int, bytes] | None = None
        while True:
            item = held if held is not None else await self._outbox.get()
            held = None
            if item is None:
                self._outbox.task_done()
                return
            worker_id, build_id, seq, data = item
            taken = 1
            while not self._outbox.empty() and len(data) < CHUNK:
                following = self._outbox.get_nowait()
                if following is None or following[:3] != item[:3]:
                    held = following  # the next request's, or the stop
                    if following is None:
                        self._outbox.put_nowait(None)  # seen again once this one is sent
                        self._outbox.task_done()
                        held = None
                    break
                data += following[3]
                taken += 1
            try:
                await self._json("POST", f"/work/{build_id}/{seq}/output",
                                 params={"worker": worker_id}, data=data)
            except ClientError as e:
                key = (build_id, seq)
                self._lost[key] = self._lost.get(key, 0) + len(data)
                log.warning("lost %d bytes of output: %s", len(data), e.message)
            finally:
                for _ in range(taken):
                    self._outbox.task_done()

    async def _flush(self) -> None:
        """Wait until all output handed to `output` so far has been sent (or counted lost)."""
        await self._outbox.join()

    async def done(self, worker_id: str, build_id: int, seq: int, outcome: Outcome,
                   ready: bool = False) -> bool:
        # The request always says next=1 (the answer brings the next work): `ready` as such.
        await self._flush()
        lost = self._lost.pop((build_id, seq), 0)
        if lost:  # the build's log says so, once the controller can hear it
            note = f"ick: {lost} bytes of this action's output were lost on the way\n"
            await self._patiently("POST", f"/work/{build_id}/{seq}/output",
                                  params={"worker": worker_id}, data=note.encode())
        # next=1: the answer brings the next action too, if one is ready (no poll for it).
        doc = await self._patiently(
            "POST", f"/work/{build_id}/{seq}/done", params={"worker": worker_id, "next": "1"},
            json=outcome_to_json(outcome))
        if isinstance(doc, dict) and isinstance(doc.get("work"), dict):
            self._next.append(WorkItem.from_json(doc["work"]))
        return bool(isinstance(doc, dict) and doc.get("more"))

    async def hand_back(self, worker_id: str, build_id: int, seq: int) -> None:
        await self._flush()
        await self._json("POST", f"/work/{build_id}/{seq}/hand-back",
                         params={"worker": worker_id}, timeout=aiohttp.ClientTimeout(total=10))

    async def _patiently(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call that must get through: retried with backoff while the controller is away."""
        delay, waited = 0.5, 0.0
        while True:
            try:
                return await self._json(method, path, **kwargs)
            except Unreachable as e:
                if waited > REPORT_PATIENCE:
                    raise
                log.warning("%s; trying again in %.1f s", e.message, delay)
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)

    def watch_cancel(self, worker_id: str, build_id: int, seq: int,
                     stop: Callable[[], None]) -> Callable[[], None]:
        """A task polls for the cancel (wait_cancel) and calls `stop`; ending the watch
        cancels the task. A poll that cannot be made stops the action rather than let it run
        blind."""

        async def watch() -> None:
            try:
                await self.wait_cancel(worker_id, build_id, seq)
            except Exception as e:
                log.warning("build %d: cannot watch for a cancel: %s", build_id, e)
            stop()

        task = asyncio.ensure_future(watch())
        self._watches.add(task)
        task.add_done_callback(self._watches.discard)

        def unwatch() -> None:
            task.cancel()

        return unwatch

    async def wait_cancel(self, worker_id: str, build_id: int, seq: int | None = None) -> None:
        """Returns when the action is to stop: cancelled, or the controller forgot us (then
        it has ended the build already). Each poll renews the lease."""
        await asyncio.sleep(CANCEL_POLL_DELAY)
        delay = 0.5
        while True:
            try:
                doc = await self._json(
                    "GET", f"/work/{build_id}/{seq or 0}/cancel",
                    params={"worker": worker_id, "timeout": str(self.poll)},
                    timeout=aiohttp.ClientTimeout(total=self.poll + 30))
                delay = 0.5
            except Forgotten:
                return
            except ClientError as e:
                log.warning("cancel poll failed: %s", e.message)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)
                continue
            if isinstance(doc, dict) and doc.get("cancel"):
                return


async def _error(response: aiohttp.ClientResponse) -> str:
    try:
        return str((await response.json())["error"])
    except (aiohttp.ContentTypeError, ValueError, KeyError, TypeError):
        return response.reason or str(response.status)


class RemoteServices:
    """`WorkerServices` over the work protocol: each call is for the action the worker runs
    (the controller checks that the action names the artifact or secret)."""

    def __init__(self, source: RemoteSource, worker_id: Callable[[], str | None],
                 state_dir: Path) -> None:
        self.source = source
        self.worker_id = worker_id
        self.tmp = state_dir / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._latest: dict[str, str] = {}  # artifact name -> the digest it had when last asked
        self._systrees = SystreeCache(state_dir / "systrees", self)

    @property
    def systrees(self) -> SystreeCache:
        return self._systrees

    def _url(self, ctx: ActionContext, kind: str, name: str) -> str:
        quoted = urllib.parse.quote(name, safe="/")
        return f"{self.source.url}/work/{ctx.build_id}/{ctx.seq}/{kind}/{quoted}"

    def _params(self) -> dict[str, str]:
        return {"worker": self.worker_id() or ""}

    async def artifact(self, ctx: ActionContext, name: str) -> ArtifactRef | None:
        try:
            async with self.source.session.head(
                self._url(ctx, "artifacts", name), params=self._params(),
                timeout=aiohttp.ClientTimeout(total=60),
            ) as r:
                if r.status == 404:
                    return None
                if r.status >= 400:
                    raise ActionError(f"the controller did not give artifact {name!r}: "
                                      f"{r.status} {r.reason}")
                ref = ArtifactRef(name, r.headers.get(DIGEST_HEADER, ""),
                                  int(r.headers.get("Content-Length", "0")))
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ActionError(f"cannot ask the controller for artifact {name!r}: {e}") from None
        old = self._latest.get(name)
        self._latest[name] = ref.digest
        if old is not None and old != ref.digest and old not in self._latest.values():
            await self._systrees.drop(old)  # replaced: its tree goes once no build uses it
        return ref

    @contextlib.asynccontextmanager
    async def blob(self, ctx: ActionContext, ref: ArtifactRef) -> AsyncIterator[Path]:
        """Download the artifact into this worker's tmp/, checking its digest; removed after."""
        path = self.tmp / f"fetch-{secrets.token_hex(8)}"
        try:
            await self._download(ctx, ref, path)
            yield path
        finally:
            path.unlink(missing_ok=True)

    async def _download(self, ctx: ActionContext, ref: ArtifactRef, path: Path) -> None:
        digest = hashlib.sha256()
        try:
            async with self.source.session.get(
                self._url(ctx, "artifacts", ref.name), params=self._params(),
                timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
            ) as r:
                if r.status >= 400:
                    raise ActionError(f"the controller did not give artifact {ref.name!r}: "
                                      f"{await _error(r)}")
                sent = r.headers.get(DIGEST_HEADER)
                with open(path, "wb") as f:
                    async for chunk in r.content.iter_chunked(CHUNK):
                        digest.update(chunk)
                        await asyncio.to_thread(f.write, chunk)
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ActionError(f"cannot fetch artifact {ref.name!r}: {e}") from None
        got = f"sha256:{digest.hexdigest()}"
        if got != ref.digest or sent != ref.digest:
            raise ActionError(f"artifact {ref.name!r} came with digest {got}, not {ref.digest}: "
                              "it was replaced meanwhile, or damaged on the way")

    async def referenced(self, digest: str) -> bool:
        return digest in self._latest.values()

    def temp_path(self, suffix: str) -> Path:
        return self.tmp / f"upload-{secrets.token_hex(8)}{suffix}"

    async def store(self, ctx: ActionContext, name: str, path: Path,
                    arch: str | None = None) -> ArtifactRef:
        try:
            digest = await asyncio.to_thread(_sha256, path)

            async with self.source.session.put(
                self._url(ctx, "artifacts", name), params=self._params(), data=_chunks(path),
                headers={DIGEST_HEADER: digest, "Content-Type": "application/octet-stream",
                         **({"Ick-Arch": arch} if arch else {})},
                timeout=aiohttp.ClientTimeout(total=None, sock_read=300),
            ) as r:
                if r.status >= 400:
                    raise ActionError(f"the controller did not store artifact {name!r}: "
                                      f"{await _error(r)}")
                doc = await r.json()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ActionError(f"cannot upload artifact {name!r}: {e}") from None
        finally:
            path.unlink(missing_ok=True)
        return ArtifactRef(str(doc["name"]), str(doc["digest"]), int(doc["size"]))

    async def store_output(self, ctx: ActionContext, path: str, file: Path) -> tuple[int, str]:
        """Upload a workspace file as one of the build's outputs, with its digest (the
        controller refuses it if the bytes differ, or the build's outputs pass its cap)."""
        try:
            digest = await asyncio.to_thread(_sha256, file)

            async with self.source.session.put(
                self._url(ctx, "outputs", path), params=self._params(), data=_chunks(file),
                headers={DIGEST_HEADER: digest, "Content-Type": "application/octet-stream"},
                timeout=aiohttp.ClientTimeout(total=None, sock_read=300),
            ) as r:
                if r.status >= 400:
                    raise ActionError(f"the controller did not keep output {path}: "
                                      f"{await _error(r)}")
                doc = await r.json()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ActionError(f"cannot upload output {path}: {e}") from None
        return int(doc["size"]), str(doc["digest"])

    async def deployed_outputs(self, ctx: ActionContext, build_id: int) -> int:
        """The list, then each output's bytes (digest checked), from the controller."""
        url = f"{self.source.url}/work/{ctx.build_id}/{ctx.seq}/deployed"
        try:
            async with self.source.session.get(
                url, params=self._params(), timeout=aiohttp.ClientTimeout(total=60),
            ) as r:
                if r.status >= 400:
                    raise ActionError(f"the controller did not list them: {await _error(r)}")
                listed = await r.json()
            for item in listed:
                path, job, want = str(item["path"]), int(item["job"]), str(item["digest"])
                target = place(ctx.workspace, path)
                digest = hashlib.sha256()
                async with self.source.session.get(
                    f"{url}/{job}/{urllib.parse.quote(path, safe='/')}", params=self._params(),
                    timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
                ) as r:
                    if r.status >= 400:
                        raise ActionError(f"the controller did not give output {path}: "
                                          f"{await _error(r)}")
                    with open(target, "wb") as f:
                        async for chunk in r.content.iter_chunked(CHUNK):
                            digest.update(chunk)
                            await asyncio.to_thread(f.write, chunk)
                if f"sha256:{digest.hexdigest()}" != want:
                    raise ActionError(f"output {path} came damaged (its digest differs)")
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as e:
            raise ActionError(f"cannot fetch them from the controller: {e}") from None
        return len(listed)

    async def secret(self, ctx: ActionContext, name: str) -> bytes | None:
        try:
            async with self.source.session.get(
                self._url(ctx, "secrets", name), params=self._params(),
                timeout=aiohttp.ClientTimeout(total=60),
            ) as r:
                if r.status == 404:
                    return None
                if r.status >= 400:
                    raise ActionError(f"the controller did not give secret {name!r}: "
                                      f"{await _error(r)}")
                return await r.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ActionError(f"cannot fetch secret {name!r} from the controller: {e}") from None


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    """A file's bytes, CHUNK at a time, read off the event loop: an upload's body."""
    with open(path, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"
