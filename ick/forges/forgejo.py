"""Forgejo and Gitea: webhooks signed with `X-Forgejo-Signature` or `X-Gitea-Signature` (the
hex HMAC-SHA256 of the body), statuses with `POST {url}/api/v1/repos/{repository}/statuses/
{sha}` and `Authorization: token T`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from ick.forges.forge import (
    Forge,
    ForgeConfig,
    Ignored,
    Pushed,
    Status,
    StatusRequest,
    first_header,
    hmac_hex,
    same,
)
from ick.forges.shaped import read_pull_request, read_push

OWNER_NAME_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# Gitea's and Forgejo's word for new commits on a pull request.
PR_ACTIONS = ("opened", "synchronized", "reopened")


def _signed(headers: Mapping[str, str], body: bytes, key: bytes) -> bool:
    return same(first_header(headers, "X-Forgejo-Signature", "X-Gitea-Signature"),
                hmac_hex(key, body))


def _read(event: str, doc: Mapping[str, Any]) -> Pushed | Ignored:
    if event == "push":
        return read_push(doc)
    if event == "pull_request":
        return read_pull_request(doc, PR_ACTIONS)
    return Ignored(f"{event[:40]} events build nothing")


def _status(config: ForgeConfig, status: Status, token: str) -> StatusRequest:
    return StatusRequest(
        f"{config.url}/api/v1/repos/{quote(config.repository, safe='/')}/statuses/{status.sha}",
        {"Authorization": f"token {token}", "Content-Type": "application/json"},
        {"state": status.state, "target_url": status.target_url,
         "description": status.description, "context": status.context})


FORGEJO = Forge(
    "forgejo", _signed,
    delivery=lambda headers: first_header(headers, "X-Forgejo-Delivery", "X-Gitea-Delivery"),
    event=lambda headers: first_header(headers, "X-Forgejo-Event", "X-Gitea-Event"),
    read=_read, status=_status,
    repository_ok=lambda value: OWNER_NAME_RE.fullmatch(value) is not None,
    repository_rule="OWNER/NAME",
)
GITEA = replace(FORGEJO, type="gitea")
