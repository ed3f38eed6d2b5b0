"""A push trigger (the hook, a poll) of a ref and commit the project already has a queued,
running or succeeded build of makes no new build: 200 with that build (ick/api/resources.py,
the dispatcher's trigger_commit). Manual triggers always make one."""

from __future__ import annotations

from typing import Any

from tests.api.apiclient import Api


def pushed(ref: str, commit: str, trigger: str = "hook") -> dict[str, Any]:
    return {"parameters": {"git_ref": ref, "git_commit": commit, "ick_trigger": trigger}}


async def test_a_second_push_of_a_ref_and_commit_gives_the_first_build(api: Api) -> None:
    await api.setup_hello()
    first = await api.ok("POST", "/projects/hello/+trigger", 201,
                         json=pushed("refs/heads/main", "abc1"))
    again = await api.ok("POST", "/projects/hello/+trigger", 200,
                         json=pushed("refs/heads/main", "abc1"))
    assert again["id"] == first["id"]
    # The project's own git_ref spelling ("main") names the same ref.
    short = await api.ok("POST", "/projects/hello/+trigger", 200, json=pushed("main", "abc1"))
    assert short["id"] == first["id"]
    # Another ref, another commit, a manual trigger: new builds.
    other_ref = await api.ok("POST", "/projects/hello/+trigger", 201,
                             json=pushed("refs/heads/feature", "abc1"))
    other_commit = await api.ok("POST", "/projects/hello/+trigger", 201,
                                json=pushed("refs/heads/main", "abc2"))
    manual = await api.ok("POST", "/projects/hello/+trigger", 201,
                          json={"parameters": {"git_ref": "refs/heads/main",
                                               "git_commit": "abc1"}})
    ids = {first["id"], other_ref["id"], other_commit["id"], manual["id"]}
    assert len(ids) == 4
    assert len(await api.ok("GET", "/builds?project=hello")) == 4


async def test_a_cancelled_build_is_no_reason_not_to_build_the_push_again(api: Api) -> None:
    await api.setup_hello()
    first = await api.ok("POST", "/projects/hello/+trigger", 201,
                         json=pushed("refs/heads/main", "abc1"))
    await api.ok("POST", f"/builds/{first['id']}/+cancel")
    again = await api.ok("POST", "/projects/hello/+trigger", 201,
                         json=pushed("refs/heads/main", "abc1"))
    assert again["id"] != first["id"]


async def test_a_poll_after_the_hook_makes_no_second_build(api: Api) -> None:
    await api.setup_hello()
    hook = await api.ok("POST", "/projects/hello/+trigger", 201,
                        json=pushed("refs/heads/main", "abc1"))
    # What Polls does when it finds the commit (no ref: it polled the remote's HEAD).
    build = await api.svc.controller.trigger("hello", {"git_commit": "abc1"},
                                             ick_trigger="poll", check=False)
    assert build.id == hook["id"]
    assert len(await api.ok("GET", "/builds?project=hello")) == 1
