"""An environment's page in a real browser (Debian's chromium through Playwright) against
`ick serve`: a deployment waiting for approval is approved with its button, and the page
then shows the build live there."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import expect

from tests.polling import poll
from tests.ui.web import Ui

SITE = """
projects:
  - project: shop
    pipelines: [ok]
    environments:
      - environment: production
        pipelines: [ok]
        approval: true
pipelines:
  - pipeline: ok
    actions: [{shell: "echo fine", where: host}]
"""


def test_approving_on_the_environment_s_page(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    daemon = ui.daemon
    daemon.apply(SITE, name="shop.ick")
    build = daemon.trigger("shop")
    assert daemon.wait_build(build)["state"] == "succeeded"
    asked = daemon.ick("deploy", "shop", "production", "--json")
    assert asked.returncode == 0, asked.stderr
    deployment = json.loads(asked.stdout)
    assert deployment["state"] == "waiting"
    ui.login(path="/ui/projects/shop/environments/production")
    row = ui.page.locator(f"#deployment-{deployment['id']}")
    expect(row).to_contain_text("waiting")
    row.get_by_role("button", name="Approve").click()
    ui.page.wait_for_url(f"{ui.base}/ui/projects/shop/environments/production")
    poll(lambda: daemon.api("GET", f"/deployments/{deployment['id']}")[1],
         lambda d: d["state"] == "succeeded", 60, str)
    ui.goto("/ui/projects/shop/environments/production")
    expect(ui.page.locator("#live")).to_contain_text(f"build {build}")
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("admin")
    ui.goto("/ui/projects/shop")
    expect(ui.page.locator("#environment-production")).to_contain_text(f"build {build}")
