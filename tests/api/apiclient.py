"""The HTTP API as its tests call it: one request through `aiohttp_client` against the real
app, the reply decoded, and the test pipeline and project. Fixtures: tests/api/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from ick.daemon import Daemon

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

WAIT = 5.0  # the most an awaited state change may take before the test fails

PIPELINE = {"pipeline": "greet", "parameters": ["greeting"],
            "actions": [{"shell": "echo hi", "where": "host"},
                        {"python": "print(1)", "where": "container"}]}
PROJECT = {"project": "hello", "parameters": {"greeting": "hi", "keep": 1},
           "pipelines": ["greet"]}


@dataclass
class Reply:
    status: int
    body: Any  # the decoded JSON, or the text when it is not JSON
    text: str

    @property
    def error(self) -> str:
        assert isinstance(self.body, dict) and isinstance(self.body.get("error"), str), self.text
        return str(self.body["error"])


@dataclass
class Api:
    client: TestClient[Any, Any]
    svc: Daemon
    admin: str

    async def call(
        self, method: str, path: str, *, token: str | None = "admin",
        headers: dict[str, str] | None = None, **kwargs: Any,
    ) -> Reply:
        """One request; `token` is a token, "admin" for the admin one, or None for none."""
        sent = dict(headers or {})
        if token is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.admin if token == 'admin' else token}"
        async with self.client.request(method, path, headers=sent, **kwargs) as resp:
            text = await resp.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = text
            return Reply(resp.status, body, text)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        reply = await self.call(method, path, **kwargs)
        assert reply.status == status, reply.text
        return reply.body

    async def token(self, *scopes: str, name: str = "t") -> str:
        body = await self.ok("POST", "/tokens", 201, json={"name": name, "scopes": list(scopes)})
        return str(body["token"])

    async def setup_hello(self) -> None:
        await self.ok("PUT", "/pipelines/greet", 201, json=PIPELINE)
        await self.ok("PUT", "/projects/hello", 201, json=PROJECT)
