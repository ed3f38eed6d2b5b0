"""Commit statuses, the forge's own notification (DESIGN.md, "Forges"): which status a build
event gives (`pending` when queued, then `success`, `failure` or `error`), kept in the outbox
as a target like a channel's, and sent to the forge's status route with its token."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

import ick
from ick.errors import SendError
from ick.forges.catalog import BY_TYPE
from ick.forges.forge import ForgeConfig, Status
from ick.httpclient import request_failure
from ick.model import BuildState, Project
from ick.notify.tls import tls_context

STATUS_TIMEOUT = 30.0
KEY = "forge_status"  # a notification target with this key is a commit status
EVENTS = ("queued", "end")
DESCRIPTION_CHARS = 140  # GitHub's limit


def state_of(event: str, state: BuildState) -> str:
    """The status of a build event: queued is pending; an end is its outcome, cancelled and
    interrupted builds being an error (nothing was shown wrong with the commit)."""
    if event == "queued":
        return "pending"
    if state is BuildState.SUCCEEDED:
        return "success"
    return "failure" if state is BuildState.FAILED else "error"


def status_target(project: Project, event: str, state: BuildState,
                  commit: str | None) -> dict[str, Any] | None:
    """The status a build event of `project` reports, as the outbox keeps it, or None: the
    project has no forge or no status token, or the build's commit is not known (yet)."""
    config = ForgeConfig.of(project.forge)
    if config is None or config.token_secret is None or event not in EVENTS or not commit:
        return None
    return {KEY: f"ick/{project.name}", "forge": config.to_doc(), "sha": commit,
            "state": state_of(event, state)}


def shown(target: Mapping[str, Any]) -> str:
    """A status target as logs and pages show it: the state, the context, the forge's host."""
    forge = target.get("forge") or {}
    host = urlsplit(str(forge.get("url", ""))).hostname or "?"
    return f"{target.get('state')} status {target.get(KEY)} on {host}"


async def send_status(session: aiohttp.ClientSession, target: Mapping[str, Any],
                      build_url: str, description: str, token: str) -> str:
    """POST the status; returns the answer's status line; SendError unless it is 2xx."""
    config = ForgeConfig.of(target["forge"])
    assert config is not None
    forge = BY_TYPE.get(config.type)
    if forge is None:
        raise SendError(f"no forge of type {config.type!r}")
    status = Status(str(target["sha"]), str(target["state"]), build_url,
                    description[:DESCRIPTION_CHARS], str(target[KEY]))
    request = forge.status(config, status, token)
    place = f"{config.type} {urlsplit(request.url).hostname}"
    headers = {**request.headers, "User-Agent": f"ick/{ick.__version__}"}
    try:
        async with session.post(
            request.url, data=json.dumps(dict(request.body)).encode(), headers=headers,
            allow_redirects=False,
            ssl=tls_context() if request.url.lower().startswith("https:") else True,
            timeout=aiohttp.ClientTimeout(total=STATUS_TIMEOUT),
        ) as response:
            code, reason = response.status, response.reason or ""
    except (TimeoutError, aiohttp.ClientError) as e:
        raise request_failure(place, e, STATUS_TIMEOUT) from None
    if not 200 <= code < 300:
        raise SendError(f"{place}: answered {code} {reason}".rstrip())
    return f"{place}: {code} {reason}".rstrip()
