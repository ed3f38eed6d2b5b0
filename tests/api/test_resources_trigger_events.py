"""What a trigger says of its build over the API (ick/api/resources.py): who asked (the
token's name), the hook's commit subject and author, the event ick decides (never the
caller), and the refs a project builds (`branches:`, `tags:`: 409 for a push of another,
403 for a trigger token's git_ref of another)."""

from __future__ import annotations

from typing import Any

from tests.api.apiclient import PROJECT, Api

C1 = "c" * 40


def pushed(ref: str, **body: Any) -> dict[str, Any]:
    return {"parameters": {"git_ref": ref, "git_commit": C1, "ick_trigger": "hook"}, **body}


async def setup(api: Api, **keys: Any) -> None:
    await api.setup_hello()
    await api.ok("PUT", "/projects/hello", 200, json={**PROJECT, **keys})


async def test_a_build_says_who_asked_and_what_the_hook_said_of_the_commit(api: Api) -> None:
    await setup(api)
    hook = await api.token("trigger", name="hook for hello")
    git = {"subject": 'fix "the" typo \\ here', "author": "Ünal <u@example.org>"}
    build = await api.ok("POST", "/projects/hello/+trigger", 201, token=hook,
                         json=pushed("refs/heads/main", git=git))
    assert (build["event"], build["triggered_by"]) == ("push", "hook for hello")
    assert build["git"] == {"ref": "refs/heads/main", "branch": "main", "tag": None,
                            "commit": C1, **git}
    assert (await api.ok("GET", f"/builds/{build['id']}"))["git"] == build["git"]
    manual = await api.ok("POST", "/projects/hello/+trigger", 201)
    assert (manual["event"], manual["triggered_by"]) == ("manual", "admin")
    assert manual["git"] == {k: None for k in build["git"]}
    rebuilt = await api.ok("POST", f"/builds/{build['id']}/+rebuild", 201, token=hook)
    assert (rebuilt["event"], rebuilt["triggered_by"], rebuilt["git"]) == (
        "manual", "hook for hello", build["git"])
    assert rebuilt["parameters"]["ick_trigger"] == "rebuild"


async def test_a_caller_may_not_choose_the_event_or_claim_the_pages(api: Api) -> None:
    await setup(api)
    for parameters, error in [
        ({"ick_event": "tag"}, "parameters: ick_event is ick's own: it follows from "
                               "ick_trigger and git_ref"),
        ({"ick_trigger": "ui"}, "parameters: ick_trigger must be one of api, hook, not 'ui'"),
    ]:
        reply = await api.call("POST", "/projects/hello/+trigger",
                               json={"parameters": parameters})
        assert (reply.status, reply.error) == (400, error)
    for git, error in [
        ({"subject": "two\nlines"}, "git: subject must be one line without control characters"),
        ({"author": 7}, "git: author must be a string of at most 300 characters"),
        ({"subject": "x" * 301}, "git: subject must be a string of at most 300 characters"),
        ({"ref": "refs/heads/x"}, "git: expected a JSON object with an optional 'subject' "
                                  "and 'author'"),
    ]:
        reply = await api.call("POST", "/projects/hello/+trigger",
                               json=pushed("refs/heads/main", git=git))
        assert (reply.status, reply.error) == (400, error)
    assert await api.ok("GET", "/builds") == []


async def test_a_push_of_a_ref_the_project_does_not_build_is_409(api: Api) -> None:
    await setup(api, branches=["main", "release/*"], tags=["v*"])
    hook = await api.token("trigger", name="hook")
    reply = await api.call("POST", "/projects/hello/+trigger", token=hook,
                           json=pushed("refs/heads/feature/x"))
    assert (reply.status, reply.error) == (
        409, "project 'hello' does not build branch 'feature/x' (branches: main, release/*)")
    reply = await api.call("POST", "/projects/hello/+trigger", token=hook,
                           json=pushed("refs/tags/nightly"))
    assert (reply.status, reply.error) == (
        409, "project 'hello' does not build tag 'nightly' (tags: v*)")
    tag = await api.ok("POST", "/projects/hello/+trigger", 201, token=hook,
                       json=pushed("refs/tags/v1"))
    assert (tag["event"], tag["git"]["tag"]) == ("tag", "v1")
    # a trigger token builds by hand only what a push would build
    reply = await api.call("POST", "/projects/hello/+trigger", token=hook,
                           json={"parameters": {"git_ref": "feature/x"}})
    assert (reply.status, reply.error) == (
        403, "token 'hook' may set git_ref only to a ref the project builds: project 'hello' "
             "does not build branch 'feature/x' (branches: main, release/*)")
    for body in ({"parameters": {"git_ref": "refs/pull/7/head"}}, pushed("refs/notes/x")):
        reply = await api.call("POST", "/projects/hello/+trigger", token=hook, json=body)
        ref = body["parameters"]["git_ref"]
        assert (reply.status, reply.error) == (
            403, f"token 'hook' may set git_ref only to a branch or tag the project builds, "
                 f"not {ref!r}")
    ok = await api.ok("POST", "/projects/hello/+trigger", 201, token=hook,
                      json={"parameters": {"git_ref": "release/2"}})
    assert (ok["event"], ok["git"]["branch"]) == ("manual", "release/2")
    # who may write the project may build any ref by hand
    manual = await api.ok("POST", "/projects/hello/+trigger", 201,
                          json={"parameters": {"git_ref": "feature/x"}})
    assert manual["git"]["branch"] == "feature/x"
    assert len(await api.ok("GET", "/builds")) == 3
