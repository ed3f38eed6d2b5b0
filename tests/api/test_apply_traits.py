"""POST /apply (ick/api/apply.py) decides each action's traits as it checks a file's pipelines
and stores them with the pipelines, in the same transaction."""

from __future__ import annotations

from ick.model import ActionTraits
from tests.api.apiclient import PIPELINE, PROJECT, Api


async def test_applied_pipelines_carry_their_traits(api: Api) -> None:
    body = {"pipelines": [PIPELINE], "projects": [PROJECT]}
    assert await api.ok("POST", "/apply", json=body) == {"applied": [
        {"pipeline": "greet", "created": True, "changed": True},
        {"project": "hello", "created": True, "changed": True}]}
    stored = await api.svc.resources.pipeline("greet")
    assert stored is not None
    assert stored.traits == (ActionTraits("shell"), ActionTraits("python"))
    assert stored.to_doc() == PIPELINE
    assert await api.ok("GET", "/pipelines") == [PIPELINE]
    assert await api.svc.resources.undecided_pipelines() == []
