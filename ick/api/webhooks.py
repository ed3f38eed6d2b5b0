"""`POST /webhooks/{project}`: a forge's webhook, without a bearer token. It is believed only
when its signature, made over the raw body with the project's `webhook_secret`, checks out;
then a push, tag or pull request builds as DESIGN.md ("Forges") says, once per delivery."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from aiohttp import web

from ick.errors import AuthError, IckError, InputError, NotFoundError, TooLargeError
from ick.forges.catalog import BY_TYPE
from ick.forges.forge import ForgeConfig, Ignored, sane
from ick.keys import CONTROLLER, DELIVERIES, RESOURCES, SECRETS
from ick.model import GitFacts, name_problem

log = logging.getLogger(__name__)

MAX_BODY = 8 * 2**20  # bytes: a push of a few thousand commits; GitHub's own cap is 25 MB
MAX_DELIVERY = 200  # characters of a delivery id kept (forges send a UUID)
# One answer for every signature that does not check out, whatever the reason: a caller
# learns nothing of the secret, or of whether it is set.
BAD_SIGNATURE = "the webhook's signature does not match the project's webhook secret"


async def _body(request: web.Request) -> bytes:
    """The raw body, at most MAX_BODY bytes (413 past it): the signature is over these."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise TooLargeError(f"a webhook's body is at most {MAX_BODY} bytes")
    chunks, size = [], 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLargeError(f"a webhook's body is at most {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def receive(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    project = await request.app[RESOURCES].project(name) if name_problem(name) is None \
        else None
    config = ForgeConfig.of(project.forge) if project is not None else None
    forge = BY_TYPE.get(config.type) if config is not None else None
    if config is None or forge is None:
        # The same for a project without `forge:` as for none at all.
        raise NotFoundError(f"no webhook for project {name[:100]!r}")
    body = await _body(request)
    key = request.app[SECRETS].value(name, config.webhook_secret)
    if key is None:
        log.warning("webhook for project %s refused: its secret %s is not set (ick secret "
                    "set %s %s)", name, config.webhook_secret, name, config.webhook_secret)
        raise AuthError(BAD_SIGNATURE)
    # `echo VALUE | ick secret set` stores a newline the forge's secret does not have
    if not forge.signed(request.headers, body, key.rstrip(b"\r\n")):
        log.warning("webhook for project %s refused: bad signature (from %s)", name,
                    request.remote)
        raise AuthError(BAD_SIGNATURE)
    event = forge.event(request.headers)
    if event is None:
        raise InputError(f"the webhook names no event (a {forge.type} event header)")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise InputError(f"request body is not valid JSON: {str(e)[:100]}") from None
    if not isinstance(doc, dict):
        raise InputError("request body is not a JSON object")
    read = forge.read(event, doc)
    if isinstance(read, Ignored):
        log.info("webhook for project %s: %s", name, read.why)
        return web.Response(status=204)
    pushed = sane(read)
    if isinstance(pushed, str):
        raise InputError(pushed)
    delivery = forge.delivery(request.headers)
    delivery = delivery[:MAX_DELIVERY] if delivery else None
    deliveries = request.app[DELIVERIES]
    if delivery is not None and not await deliveries.claim(name, delivery, datetime.now(UTC)):
        log.info("webhook for project %s: delivery %s seen before, nothing to do", name,
                 delivery)
        return web.json_response({"delivery": delivery, "seen": True}, status=200)
    overrides: dict[str, object] = {"git_ref": pushed.ref, "git_commit": pushed.commit}
    if pushed.change is not None:
        overrides["ick_change"] = pushed.change
    try:
        # Unchecked: ick, not the caller, chose every parameter (ick_change among them).
        build, new = await request.app[CONTROLLER].trigger_commit(
            name, overrides, ick_trigger="forge", check=False, event=pushed.event,
            git=GitFacts.of_ref(pushed.ref, pushed.commit, pushed.subject, pushed.author),
            triggered_by="forge")
    except IckError:
        if delivery is not None:  # the forge's retry may make it once this is fixed
            await deliveries.release(name, delivery)
        raise
    log.info("webhook for project %s: %s %s at %s: build %d%s", name, pushed.event,
             pushed.ref, pushed.commit[:12], build.id, "" if new else " (already built)")
    return web.json_response(build.to_json(), status=201 if new else 200)


def add_routes(app: web.Application) -> None:
    app.router.add_post(r"/webhooks/{name:.+}", receive)
