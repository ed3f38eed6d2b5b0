"""Fixtures of the HTTP API's tests: the daemon's services in this process, with one local
worker, and an Api client on the real app over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ick.api.app import make_app
from ick.daemon import Daemon
from tests.api.apiclient import AiohttpClient, Api
from tests.services import in_process


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with in_process(tmp_path / "state", workers=1) as daemon:
        yield daemon


@pytest.fixture
async def api(svc: Daemon, aiohttp_client: AiohttpClient) -> Api:
    client = await aiohttp_client(make_app(svc))
    admin = (svc.settings.state_dir / "admin.token").read_text().strip()
    return Api(client, svc, admin)
