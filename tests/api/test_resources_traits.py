"""PUT /pipelines/{name} (ick/api/resources.py) decides each action's traits as it checks the
pipeline and stores them; GET shows the document as it was put, and nothing more."""

from __future__ import annotations

from ick.model import ActionTraits
from tests.api.apiclient import PIPELINE, Api

APT = {"pipeline": "publish", "parameters": [],
       "actions": [{"action": "apt_publish", "where": "host"},
                   {"debootstrap": "auto", "where": "host", "debian_arch": "arm64"}]}


async def test_a_put_pipeline_keeps_its_traits_and_shows_only_its_document(api: Api) -> None:
    assert await api.ok("PUT", "/pipelines/greet", 201, json=PIPELINE) == PIPELINE
    assert await api.ok("PUT", "/pipelines/publish", 201, json=APT) == APT
    assert await api.ok("GET", "/pipelines") == [PIPELINE, APT]
    assert await api.ok("GET", "/pipelines/publish") == APT
    stored = await api.svc.resources.pipeline("publish")
    assert stored is not None and stored.traits == (
        ActionTraits("apt_publish", local=True),
        ActionTraits("debootstrap", arch_key="debian_arch"))


async def test_a_build_carries_its_actions_traits_but_its_json_is_unchanged(api: Api) -> None:
    await api.ok("PUT", "/pipelines/publish", 201, json=APT)
    await api.ok("PUT", "/projects/p", 201, json={"project": "p", "pipelines": ["publish"]})
    build = await api.ok("POST", "/projects/p/+trigger", 201, json={})
    stored = await api.svc.builds.get(build["id"])
    assert stored is not None
    assert [(a.kind, a.local, a.arch_key) for a in stored.actions] == [
        ("apt_publish", True, None), ("debootstrap", False, "debian_arch")]
    shown = await api.ok("GET", f"/builds/{build['id']}")
    assert [a["kind"] for a in shown["actions"]] == ["apt_publish", "debootstrap"]
    assert not {"local", "arch_key", "traits"} & {k for a in shown["actions"] for k in a}
