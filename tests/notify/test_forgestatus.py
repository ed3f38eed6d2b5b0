"""Commit statuses: which a build event gives, and sending one to the forges' documented
routes (a loopback server that refuses anything else)."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from ick.errors import SendError
from ick.model import BuildState, Project
from ick.notify.forgestatus import send_status, state_of, status_target
from tests.forge_server import StatusServer

FORGE = {"type": "gitlab", "url": "URL", "repository": "group/hello",
         "webhook_secret": "hook", "token_secret": "tok"}


@pytest.fixture
def server() -> Iterator[StatusServer]:
    found = StatusServer("T0KEN")
    yield found
    found.close()


def test_queued_is_pending_and_an_end_its_outcome() -> None:
    assert state_of("queued", BuildState.QUEUED) == "pending"
    assert state_of("end", BuildState.SUCCEEDED) == "success"
    assert state_of("end", BuildState.FAILED) == "failure"
    assert state_of("end", BuildState.CANCELLED) == "error"
    assert state_of("end", BuildState.INTERRUPTED) == "error"


def test_only_a_project_with_a_status_token_and_a_known_commit_reports() -> None:
    project = Project("hello", forge=FORGE)
    assert status_target(project, "queued", BuildState.QUEUED, "abc") == {
        "forge_status": "ick/hello", "forge": FORGE, "sha": "abc", "state": "pending"}
    assert status_target(project, "start", BuildState.RUNNING, "abc") is None
    assert status_target(project, "end", BuildState.FAILED, None) is None
    assert status_target(Project("hello"), "end", BuildState.FAILED, "abc") is None
    tokenless = {k: v for k, v in FORGE.items() if k != "token_secret"}
    assert status_target(Project("hello", forge=tokenless), "end", BuildState.FAILED,
                         "abc") is None


async def test_a_status_reaches_the_forge_s_route_and_a_refusal_is_a_send_error(
        server: StatusServer) -> None:
    target = status_target(Project("hello", forge={**FORGE, "url": server.url}), "end",
                           BuildState.FAILED, "abc1234")
    assert target is not None
    async with aiohttp.ClientSession() as session:
        answer = await send_status(session, target, "http://ci/ui/builds/7", "hello #7 failed",
                                   "T0KEN")
        assert answer == "gitlab 127.0.0.1: 201 Created"
        with pytest.raises(SendError, match="gitlab 127.0.0.1: answered 401 Unauthorized"):
            await send_status(session, target, "u", "d", "wrong")
    [good, refused] = server.items
    assert (good.forge, good.repository, good.sha) == ("gitlab", "group/hello", "abc1234")
    assert good.body == {"state": "failed", "name": "ick/hello",
                         "target_url": "http://ci/ui/builds/7", "description": "hello #7 failed"}
    assert (refused.status, refused.why) == (401, "PRIVATE-TOKEN is not T")
