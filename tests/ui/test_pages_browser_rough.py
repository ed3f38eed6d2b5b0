"""The first day's rough corners of the pages, in a real browser (issue 22): the workers page
fits a 1280 px screen with many labels (finding 17); a matrix build's actions table has a
job column, the live log follows its end, and a failed action links to its part of the log
(finding 20)."""

from __future__ import annotations

from collections.abc import Callable

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
