"""The secrets an action names, as files in RUN_DIR/secrets for the action's lifetime only.

An action names a secret with `secrets: [NAME]` or with a `*_secret` setting (on the action
or, for a setting its type takes, as a build parameter). The worker asks its services'
`secret(project, name)` for each value.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ick.actions import ACTION_SPECS, SECRET_NAME_RE
from ick.errors import ActionError
from ick.model import action_kind
from ick.runners.base import ActionContext


def named_secrets(ctx: ActionContext) -> list[str]:
    """The secrets this action may see, in the order it names them."""
    spec = ACTION_SPECS.get(action_kind(ctx.action))
    keys = {key for key in ctx.action if key.endswith("_secret")}
    if spec is not None:
        keys |= {key for key in spec.settings if key.endswith("_secret")}
    names = list(ctx.action.get("secrets") or [])
    names += [ctx.setting(key) for key in sorted(keys) if ctx.setting(key) is not None]
    for name in names:
        if not isinstance(name, str) or not SECRET_NAME_RE.match(name):
            raise ActionError(f"bad secret name {name!r}: use letters, digits, '.', '_', '-'")
    return list(dict.fromkeys(names))


async def _value(services: Any, project: str, name: str) -> bytes | None:
    get = getattr(services, "secret", None)
    if get is None:
        raise ActionError(f"this worker cannot get secrets, so not secret {name!r}")
    value = get(project, name)
    if inspect.isawaitable(value):
        value = await value
    if value is not None and not isinstance(value, bytes):
        raise ActionError(f"secret {name!r} came back as {type(value).__name__}, not bytes")
    return value


def _write_private(path: Path, value: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(value)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def secret_files(ctx: ActionContext) -> AsyncIterator[None]:
    """Write the action's secrets (0600, in a 0700 folder) and set ctx.secrets_dir; remove
    them when the action ends, however it ends."""
    names = named_secrets(ctx)
    if not names:
        yield
        return
    folder = ctx.run_dir / "secrets"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        for name in names:
            value = await _value(ctx.services, ctx.project, name)
            if value is None:
                raise ActionError(f"project {ctx.project!r} has no secret {name!r} "
                                  f"(set it with: ick secret set {ctx.project} {name})")
            _write_private(folder / name, value)
        ctx.secrets_dir = folder
        yield
    finally:
        ctx.secrets_dir = None
        shutil.rmtree(folder, ignore_errors=True)
