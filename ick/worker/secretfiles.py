"""The secrets an action names, as files in RUN_DIR/secrets for the action's lifetime only.

An action names a secret with `secrets: [NAME]` or with a `*_secret` setting (on the action
or, for a setting its type takes, as a build parameter). The worker asks its services
(ick.worker.services) for each value.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ick.errors import ActionError
from ick.model import SECRET_NAME_RE
from ick.runners.base import ActionContext
from ick.runners.registry import action_type


def secret_names(kind: str, action: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """The secrets an action of type `kind` may see, in the order it names them. The
    controller asks this too, before it gives a remote worker a secret."""
    spec = action_type(kind)
    keys = {key for key in action if key.endswith("_secret")}
    if spec is not None:
        keys |= {key for key in spec.settings if key.endswith("_secret")}
    names = list(action.get("secrets") or [])
    for key in sorted(keys):
        value = action[key] if key in action else parameters.get(key)
        if value is not None:
            names.append(value)
    for name in names:
        if not isinstance(name, str) or not SECRET_NAME_RE.fullmatch(name):
            raise ActionError(f"bad secret name {name!r}: use letters, digits, '.', '_', '-'")
    return list(dict.fromkeys(names))


async def _value(ctx: ActionContext, name: str) -> bytes | None:
    if ctx.services is None:
        raise ActionError(f"this worker cannot get secrets, so not secret {name!r}")
    return await ctx.services.secret(ctx, name)


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
    names = secret_names(ctx.kind, ctx.action, ctx.parameters)
    if not names:
        yield
        return
    folder = ctx.run_dir / "secrets"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        for name in names:
            value = await _value(ctx, name)
            if value is None:
                raise ActionError(f"project {ctx.project!r} has no secret {name!r} "
                                  f"(set it with: ick secret set {ctx.project} {name})")
            _write_private(folder / name, value)
        ctx.secrets_dir = folder
        yield
    finally:
        ctx.secrets_dir = None
        shutil.rmtree(folder, ignore_errors=True)
