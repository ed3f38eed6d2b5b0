"""A project's `forge:` checked: which forge, the API's base URL, the repository there, and
the names of the project secrets for the status token and the webhook. Pure."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ick.forges.catalog import BY_TYPE
from ick.model import SECRET_NAME_RE, SECRET_NAME_RULE

KEYS = ("repository", "token_secret", "type", "url", "webhook_secret")
REQUIRED = ("type", "url", "repository", "webhook_secret")


def _url_ok(value: object) -> bool:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return (parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
            and not parts.query and not parts.fragment and not parts.username
            and not any(c.isspace() or ord(c) < 32 for c in str(value)))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def forge_problems(doc: object) -> list[tuple[str | None, str]]:
    """What is wrong with a `forge:` value: (the key it is about, or None, and the problem),
    each message starting `forge: `. Empty when it is good."""
    if not isinstance(doc, dict):
        return [(None, f"forge: must be a mapping with {', '.join(REQUIRED)}, not {_show(doc)}")]
    problems: list[tuple[str | None, str]] = []
    for key in doc:
        if key not in KEYS:
            problems.append((str(key), f"forge: unknown key {_show(key)} (expected one of: "
                                       f"{', '.join(KEYS)})"))
    for key in REQUIRED:
        if key not in doc:
            problems.append((None, f"forge: missing '{key}'"))
    forge = BY_TYPE.get(doc["type"]) if isinstance(doc.get("type"), str) else None
    if "type" in doc and forge is None:
        problems.append(("type", f"forge: 'type' must be one of {', '.join(BY_TYPE)}, "
                                 f"not {_show(doc['type'])}"))
    if "url" in doc and not _url_ok(doc["url"]):
        problems.append(("url", "forge: 'url' must be the http or https URL of the forge's "
                                f"API, without query or credentials, not {_show(doc['url'])}"))
    repository = doc.get("repository")
    if "repository" in doc and forge is not None and not (
            isinstance(repository, str) and forge.repository_ok(repository)):
        problems.append(("repository", f"forge: 'repository' must be {forge.repository_rule} "
                                       f"for {forge.type}, not {_show(repository)}"))
    for key in ("token_secret", "webhook_secret"):
        if key in doc and not (isinstance(doc[key], str) and SECRET_NAME_RE.fullmatch(doc[key])):
            problems.append((key, f"forge: '{key}' must be {SECRET_NAME_RULE}, "
                                  f"not {_show(doc[key])}"))
    return problems


def checked(doc: dict[str, Any]) -> dict[str, str]:
    """A `forge:` without problems as stored: its keys, the URL without a trailing '/'."""
    stored = {key: str(doc[key]) for key in KEYS if key in doc}
    stored["url"] = stored["url"].rstrip("/")
    return stored
