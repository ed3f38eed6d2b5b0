"""A forge's change is untrusted (DESIGN.md, "Forges"): the coordinator refuses to deploy
a succeeded change build, saying which rule, unless the project says trust_changes: true."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.daemon import Daemon
from ick.errors import ConflictError
from ick.model import GitFacts, Project
from tests.delivery.test_coordinator import ended, svc  # noqa: F401  (the fixture)
from tests.pipelines import checked


async def change_build(svc: Daemon, trust: bool) -> int:  # noqa: F811
    # Its one action is for pushes: the change's build runs nothing and succeeds.
    await svc.resources.put_pipeline(checked("build_site", [], [
        {"shell": "true", "where": "host", "when": {"event": "push"}}]))
    await svc.resources.put_pipeline(checked("deploy_site", [], [
        {"shell": "true", "where": "host"}]))
    await svc.resources.put_project(Project(
        "site", {}, ["build_site"], trust_changes=trust,
        environments=[{"environment": "staging", "pipelines": ["deploy_site"]}]))
    build = await svc.controller.trigger(
        "site", {"git_ref": "refs/pull/7/head", "git_commit": "a" * 40, "ick_change": 7},
        ick_trigger="forge", event="change", check=False,
        git=GitFacts.of_ref("refs/pull/7/head", "a" * 40))
    done = await ended(svc, build.id)
    assert (done.state.value, done.event) == ("succeeded", "change")
    return build.id


async def test_an_untrusted_change_is_never_deployed(svc: Daemon,  # noqa: F811
                                                     tmp_path: Path) -> None:
    build_id = await change_build(svc, trust=False)
    with pytest.raises(ConflictError, match="untrusted change: rule 'no deployment'"):
        await svc.deployments.deploy("site", "staging", build_id, "admin")
    assert await svc.deployments.store.find("site") == []


async def test_a_trusted_project_deploys_its_changes(svc: Daemon,  # noqa: F811
                                                     tmp_path: Path) -> None:
    build_id = await change_build(svc, trust=True)
    deployment = await svc.deployments.deploy("site", "staging", build_id, "admin")
    assert deployment.build == build_id
