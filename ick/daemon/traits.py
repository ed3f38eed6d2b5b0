"""Deciding at start the action traits (ick.model.ActionTraits) that a database from before
ick kept them lacks: its pipelines', and its unfinished builds' actions', once, from the records.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from ick.model import ActionTraits
from ick.storage.builds import BuildStore
from ick.storage.resources import ResourceStore

log = logging.getLogger(__name__)


async def decide_traits(resources: ResourceStore, builds: BuildStore) -> None:
    """Store the traits of every pipeline and unfinished action that has none, so planning
    and routing never work a kind out."""
    pipelines = await resources.undecided_pipelines()
    kinds = await builds.undecided_kinds()
    if not pipelines and not kinds:
        return  # the usual start: the records (every runner module) stay unloaded
    from ick.runners.catalog import BY_KIND, traits_of

    log.info("deciding the action types of %d stored pipelines and %d kinds of queued actions",
             len(pipelines), len(kinds))
    if pipelines:
        await resources.decide([replace(p, traits=tuple(traits_of(a) for a in p.actions))
                                for p in pipelines])
    if kinds:
        # A kind the records no longer have keeps its name; its worker says it has none.
        await builds.decide_actions(
            BY_KIND[kind].traits if kind in BY_KIND else ActionTraits(kind) for kind in kinds)
