"""`POST /webhooks/{project}` on the real app in this process: what is refused before any
build (no secret set, a body past the cap, no event header, not a JSON object), and a
delivery whose build could not be made is not counted as seen."""

from __future__ import annotations

import hashlib
import hmac
import io

from ick.api.webhooks import BAD_SIGNATURE, MAX_BODY
from ick.model import Project
from tests.api.apiclient import Api
from tests.forges import payload
from tests.pipelines import checked

KEY = b"webhook-key-1234"
FORGE = {"type": "gitea", "url": "https://gitea.example.org", "repository": "gordon/hello",
         "webhook_secret": "hook"}


def headers(body: bytes, delivery: str = "d1", event: str | None = "push") -> dict[str, str]:
    sent = {"X-Gitea-Signature": hmac.new(KEY, body, hashlib.sha256).hexdigest(),
            "X-Gitea-Delivery": delivery, "Content-Type": "application/json"}
    if event is not None:
        sent["X-Gitea-Event"] = event
    return sent


async def setup(api: Api, pipelines: list[str]) -> None:
    await api.svc.resources.put_project(Project("hello", {}, pipelines, forge=FORGE))


async def test_without_the_secret_set_every_webhook_is_refused_alike(api: Api) -> None:
    await setup(api, [])
    body = payload("gitea/HookPush.json")
    reply = await api.call("POST", "/webhooks/hello", token=None, data=body,
                           headers=headers(body))
    assert (reply.status, reply.error) == (401, BAD_SIGNATURE)


async def test_what_is_not_a_signed_json_push_builds_nothing(api: Api) -> None:
    await setup(api, [])
    api.svc.secrets.set("hello", "hook", KEY)
    big = b" " * (MAX_BODY + 1)
    reply = await api.call("POST", "/webhooks/hello", token=None, data=io.BytesIO(big),
                           headers=headers(big))
    assert (reply.status, reply.error) == (413, f"a webhook's body is at most {MAX_BODY} bytes")
    body = payload("gitea/HookPush.json")
    reply = await api.call("POST", "/webhooks/hello", token=None, data=body,
                           headers=headers(body, event=None))
    assert (reply.status, reply.error) == (400, "the webhook names no event (a gitea event "
                                                "header)")
    reply = await api.call("POST", "/webhooks/hello", token=None, data=b"[1]",
                           headers=headers(b"[1]"))
    assert (reply.status, reply.error) == (400, "request body is not a JSON object")
    assert await api.ok("GET", "/builds?project=hello") == []


async def test_a_delivery_whose_build_failed_to_queue_may_come_again(api: Api) -> None:
    await setup(api, ["later"])  # a pipeline that does not exist yet
    api.svc.secrets.set("hello", "hook", KEY + b"\n")  # as `echo KEY | ick secret set` stores
    body = payload("gitea/HookPush.json")
    reply = await api.call("POST", "/webhooks/hello", token=None, data=body,
                           headers=headers(body))
    assert (reply.status, reply.error) == (
        409, "project 'hello' names pipeline 'later', which does not exist")
    await api.svc.resources.put_pipeline(checked("later", [], [{"shell": "true",
                                                                 "where": "host"}]))
    build = await api.ok("POST", "/webhooks/hello", 201, token=None, data=body,
                         headers=headers(body))
    assert build["parameters"]["ick_trigger"] == "forge"
    again = await api.call("POST", "/webhooks/hello", token=None, data=body,
                           headers=headers(body))
    assert (again.status, again.body) == (200, {"delivery": "d1", "seen": True})
    # another delivery of the same push: the build the project has of it (a duplicate)
    same = await api.ok("POST", "/webhooks/hello", 200, token=None, data=body,
                        headers=headers(body, delivery="d2"))
    assert same["id"] == build["id"]
