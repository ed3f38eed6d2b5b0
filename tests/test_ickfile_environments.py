"""`environments:` on a project (DESIGN.md, "Continuous delivery"): read, kept, and checked
at `ick apply` with FILE:LINE (unknown pipeline, `after:` naming an unknown environment or
making a loop, a bad `auto:`)."""

from __future__ import annotations

import json
import textwrap

from ick.ickfile import load_ick_text, project_from_doc, read_ick_text
from ick.model import Environment
from ick.storage.resources import project_from_json
from tests.test_ickfile import problems_of

GOOD = """\
    projects:
      - project: site
        parameters: {git_url: /srv/git/site.git}
        pipelines: [build_site]
        keep_deployments: 3
        environments:
          - environment: staging
            pipelines: [deploy_site]
            parameters: {rsync_target: "deploy@staging.example.org:/srv/www"}
            url: https://staging.example.org
            auto: {branch: main}
          - environment: production
            pipelines: [deploy_site]
            parameters: {rsync_target: "deploy@example.org:/srv/www"}
            url: https://example.org
            after: staging
            approval: true
            keep_deployments: 5
    pipelines:
      - pipeline: build_site
        actions: [{shell: "true", where: host}]
      - pipeline: deploy_site
        actions: [{shell: "true", where: host}]
    """


def test_the_design_s_example_is_read_and_kept() -> None:
    loaded = load_ick_text(textwrap.dedent(GOOD), "site.ick")
    (site,) = loaded.projects
    staging, production = site.environment_list()
    assert staging == Environment(
        "staging", ("deploy_site",), {"rsync_target": "deploy@staging.example.org:/srv/www"},
        "https://staging.example.org", {"branch": "main"})
    assert (production.after, production.approval, production.keep_deployments,
            production.auto) == ("staging", True, 5, None)
    assert site.keep_deployments == 3
    assert loaded.reference_problems() == []
    assert project_from_doc(site.to_doc(), "again") == site
    assert project_from_json(json.dumps(site.to_doc())) == site
    assert site.environment("nowhere") is None


def test_an_unknown_pipeline_is_placed_at_the_project() -> None:
    head, tail = textwrap.dedent(GOOD).split("- environment: production")
    text = head + "- environment: production" + tail.replace("[deploy_site]", "[ship]", 1)
    loaded, problems = read_ick_text(text, "site.ick")
    assert problems == []
    assert loaded.reference_problems() == [
        "site.ick:2: environment 'production' of project 'site' names pipeline 'ship', "
        "which does not exist"]


def test_after_naming_an_unknown_environment_or_a_loop_and_a_bad_auto() -> None:
    assert problems_of("""\
        projects:
          - project: x
            pipelines: [p]
            environments:
              - environment: a
                pipelines: [p]
                after: b
              - environment: b
                pipelines: [p]
                after: a
              - environment: c
                pipelines: [p]
                after: zz
              - environment: d
                pipelines: [p]
                auto: {brnch: main}
              - environment: e
                pipelines: [p]
                auto: main
                approval: "yes"
                keep_deployments: 0
              - environment: a
                pipelines: [p]
              - pipelines: [p]
                colour: blue
        """) == [
        "hello.ick:7: environment 'a' of project 'x': 'after' makes a loop (a -> b -> a)",
        "hello.ick:10: environment 'b' of project 'x': 'after' makes a loop (b -> a -> b)",
        "hello.ick:13: environment 'c' of project 'x': 'after' names environment 'zz', which "
        "the project does not have (it has: a, b, c, d, e)",
        "hello.ick:16: environment 'd' of project 'x': 'auto': 'when': unknown key 'brnch' "
        "(expected one of: branch, event, parameters, status, tag)",
        "hello.ick:19: environment 'e' of project 'x': 'auto' must be a condition (as "
        "`when:` takes), not 'main'",
        "hello.ick:20: environment 'e' of project 'x': 'approval' must be true or false, "
        "not 'yes'",
        "hello.ick:21: environment 'e' of project 'x': 'keep_deployments' must be a whole "
        "number of at least 1, not 0",
        "hello.ick:22: environment 'a' of project 'x': defined more than once",
        "hello.ick:24: environments entry 7 of project 'x': missing 'environment' (the "
        "environment's name)",
        "hello.ick:25: environments entry 7 of project 'x': unknown key 'colour' (expected "
        "one of: after, approval, auto, environment, keep_deployments, parameters, "
        "pipelines, url)",
    ]
