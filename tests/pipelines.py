"""Pipelines as checking a file makes them: each action's traits decided from the records,
for tests that store or plan a pipeline without going through ick.ickfile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ick.model import Pipeline
from ick.runners.catalog import traits_of


def checked(name: str, parameters: Sequence[str] = (),
            actions: Sequence[dict[str, Any]] = (),
            worker: Mapping[str, str] | None = None) -> Pipeline:
    return Pipeline(name, list(parameters), list(actions), dict(worker or {}),
                    traits=tuple(traits_of(action) for action in actions))
