"""GitHub: webhooks signed with `X-Hub-Signature-256: sha256=HEX`, statuses with `POST
{url}/repos/{repository}/statuses/{sha}`, `Authorization: Bearer T` and GitHub's media type."""

from __future__ import annotations

from collections.abc import Mapping
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
from ick.forges.forgejo import OWNER_NAME_RE
from ick.forges.shaped import read_pull_request, read_push

PR_ACTIONS = ("opened", "synchronize", "reopened")


def _signed(headers: Mapping[str, str], body: bytes, key: bytes) -> bool:
    return same(headers.get("X-Hub-Signature-256"), "sha256=" + hmac_hex(key, body))


def _read(event: str, doc: Mapping[str, Any]) -> Pushed | Ignored:
    if event == "push":
        return read_push(doc)
    if event == "pull_request":
        return read_pull_request(doc, PR_ACTIONS)
    return Ignored(f"{event[:40]} events build nothing")


def _status(config: ForgeConfig, status: Status, token: str) -> StatusRequest:
    return StatusRequest(
        f"{config.url}/repos/{quote(config.repository, safe='/')}/statuses/{status.sha}",
        {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
         "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"},
        {"state": status.state, "target_url": status.target_url,
         "description": status.description, "context": status.context})


GITHUB = Forge(
    "github", _signed,
    delivery=lambda headers: first_header(headers, "X-GitHub-Delivery"),
    event=lambda headers: first_header(headers, "X-GitHub-Event"),
    read=_read, status=_status,
    repository_ok=lambda value: OWNER_NAME_RE.fullmatch(value) is not None,
    repository_rule="OWNER/NAME",
)
