"""What the daemon hands its local workers as `ActionContext.services`: the artifact store,
the systree cache and the project secrets (made by the composition root, ick.daemon).
A remote worker (`ick worker`) has none of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ick.errors import ActionError
from ick.runners.base import ActionContext
from ick.storage.artifacts import ArtifactStore
from ick.worker.systrees import SystreeCache


@dataclass
class WorkerServices:
    artifacts: ArtifactStore | None = None
    systrees: SystreeCache | None = None
    secret: Callable[[str, str], bytes | None | Awaitable[bytes | None]] | None = None


def artifact_services(ctx: ActionContext) -> tuple[ArtifactStore, SystreeCache]:
    """The worker's artifact store and systree cache, or an ActionError saying it has none."""
    store = getattr(ctx.services, "artifacts", None)
    systrees = getattr(ctx.services, "systrees", None)
    if not isinstance(store, ArtifactStore) or not isinstance(systrees, SystreeCache):
        raise ActionError("this worker cannot reach the artifact store (remote workers cannot "
                          "yet): run artifact and systree actions on the daemon's own workers")
    return store, systrees
