"""The first day's rough corners of the pages, in a real browser (issue 22): the workers page
fits a 1280 px screen with many labels (finding 17); a matrix build's actions table has a
job column, the live log follows its end, and a failed action links to its part of the log
(finding 20)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.ui.web import Ui

ARCHES = ["amd64", "arm64", "armel", "armhf", "i386", "mips64el", "mipsel", "ppc64el", "s390x",
          "riscv64", "alpha", "hppa", "ia64", "m68k", "powerpc", "sh4", "sparc64"]


def test_the_workers_page_fits_1280_px_with_17_arch_labels(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    ui.page.set_viewport_size({"width": 1280, "height": 800})
    ui.login()
    token = ui.daemon.ick("token", "create", "--scope", "worker", "--name", "w").stdout.strip()
    status, _ = ui.daemon.api("POST", "/work", {"name": "big-box", "slots": 4,
                                                "labels": {"arch": ARCHES}}, token=token)
    assert status == 201
    ui.goto("/ui/workers")
    table = ui.page.locator("table.workers")
    widths = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert widths[0] <= widths[1], widths  # nothing scrolls sideways
    last_seen = ui.page.locator("table.workers th", has_text="Last seen").bounding_box()
    assert last_seen is not None and last_seen["x"] + last_seen["width"] <= 1280


MATRIX = """
projects:
  - project: mx
    matrix: {n: [1, 2]}
    pipelines: [mx]
  - project: follow
    pipelines: [follow]
pipelines:
  - pipeline: mx
    actions:
      - python: |
          for i in range(200):
              print("filler", i)
        where: host
      - python: |
          import sys
          print("job with n =", params["n"])
          sys.exit(0 if params["n"] == 1 else 3)
        where: host
  - pipeline: follow
    actions:
      - python: |
          import time
          for i in range(150):
              print("early", i)
          print("waiting", flush=True)
          time.sleep(1)
          for i in range(1, 41):
              print("slow", i, flush=True)
              time.sleep(0.1)
        where: host
      - shell: echo second action
        where: host
"""


def log_end_in_view(ui: Ui) -> bool:
    return bool(ui.page.evaluate(
        "() => document.getElementById('log').getBoundingClientRect().bottom"
        " <= window.innerHeight + 2"))


def test_a_matrix_build_s_actions_have_a_job_and_link_to_their_log(ui: Ui) -> None:
    ui.daemon.apply(MATRIX, name="rough.ick")
    build_id = ui.daemon.trigger("mx")
    assert ui.daemon.wait_build(build_id)["state"] == "failed"
    ui.goto(f"/ui/builds/{build_id}")
    assert ui.page.locator("table.actions th", has_text="Job").count() == 1
    failed = ui.page.locator("table.actions tr", has=ui.page.locator(".state.s-failed"))
    assert failed.locator("td.a-job").inner_text() == "1"
    failed.locator("td a[title='its part of the log']").click()
    ui.page.wait_for_url(f"**/ui/builds/{build_id}?job=1#log-2")
    anchor = ui.page.locator("#log-2")
    box = anchor.bounding_box()
    assert box is not None and 0 <= box["y"] <= 800, box  # the header is where the page is
    assert "job with n = 2" in ui.page.locator("#log").inner_text()


def test_a_live_log_starts_at_its_end_and_follows_it(ui: Ui) -> None:
    ui.daemon.apply(MATRIX, name="rough.ick")
    build_id = ui.daemon.trigger("follow")
    ui.daemon.wait_log(build_id, "waiting")
    ui.goto(f"/ui/builds/{build_id}")
    log = ui.page.locator("#log")
    expect(log).to_contain_text("slow 20")
    expect(ui.page.locator("#state")).to_have_text("running")
    assert log_end_in_view(ui)
    expect(log).to_contain_text("slow 40")
    assert log_end_in_view(ui)
    # The second action's header came over the stream: it has its anchor too.
    expect(log).to_contain_text("second action")
    assert ui.page.locator("#log a#log-2").count() == 1
