"""What an untrusted change's build may not do (DESIGN.md, "Forges"): name a secret, run
`shell` or `python` anywhere but a container without network, deliver anything. Each refusal
names its rule; the controller asks this when it plans such a build."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_SECRETS = "no secrets"
CONTAINED = "code only where: container, without network"
NO_DELIVERY = "no delivery"


def _secrets(kind: str, action: Mapping[str, Any], parameters: Mapping[str, Any],
             settings: Mapping[str, object]) -> list[str]:
    """The secrets the action would see (as the worker's secret files find them)."""
    named = action.get("secrets")
    names = [str(n) for n in named] if isinstance(named, list) else []
    keys = {k for k in action if k.endswith("_secret")} | {
        k for k in settings if k.endswith("_secret")}
    for key in sorted(keys):
        value = action[key] if key in action else parameters.get(key)
        if value is not None:
            names.append(str(value))
    return names


def refusal(kind: str, action: Mapping[str, Any], parameters: Mapping[str, Any]) -> str | None:
    """The rule an action of an untrusted change breaks, with why; None if it breaks none."""
    # Imported here: the records load every runner module, which the idle daemon never needs.
    from ick.runners.catalog import BY_KIND

    record = BY_KIND.get(kind)
    secrets = _secrets(kind, action, parameters, record.settings if record else {})
    if secrets:
        return f"rule '{NO_SECRETS}': the action names secret {secrets[0]!r}"
    if record is not None and record.untrusted == "delivery":
        return f"rule '{NO_DELIVERY}': a {kind} action delivers"
    if record is not None and record.untrusted == "code":
        where = action.get("where", "host")
        if where != "container":
            return f"rule '{CONTAINED}': a {kind} action runs where: {where}"
        if action.get("network") is True:
            return f"rule '{CONTAINED}': a {kind} action asks for network: true"
    return None
