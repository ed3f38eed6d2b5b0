"""Browser fixtures: Debian's chromium driven by Playwright, against a real `ick serve`.

Without /usr/bin/chromium the browser tests skip with the reason; under CI (CI=true) they fail,
so CI cannot pass without running them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import Daemon
from tests.ui.web import PROJECTS, Ui

CHROMIUM = Path("/usr/bin/chromium")
# As /work/.library/env/machines/python.md starts it: no sandbox as root, and no background
# connections, which this machine's closed network refuses.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser() -> Iterator[Any]:
    """One browser per test: Playwright's sync API keeps an event loop of its own running
    while it is open, which the asyncio tests of the same session must not meet (a launch
    costs 0.2-0.4 s)."""
    if not CHROMIUM.exists():
        reason = f"needs Debian's chromium at {CHROMIUM} (scripts/install --test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                             headless=True)
        yield browser
        browser.close()


@pytest.fixture
def ui_daemon(start_daemon: Callable[..., Daemon]) -> Daemon:
    """A daemon with the test projects applied."""
    daemon = start_daemon()
    daemon.apply(PROJECTS)
    return daemon


@pytest.fixture
def make_ui(browser: Any, ui_daemon: Daemon) -> Iterator[Callable[..., Ui]]:
    """make_ui(javascript=True, base=None): a fresh browser context (no cookies) on a page."""
    contexts: list[Any] = []

    def make(javascript: bool = True, base: str | None = None) -> Ui:
        context = browser.new_context(java_script_enabled=javascript,
                                      viewport={"width": 1100, "height": 800})
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return Ui(ui_daemon, context, page, base or ui_daemon.url)

    errors: list[str] = []
    yield make
    for context in contexts:
        context.close()
    # The pages' own script and htmx keep to the Content-Security-Policy.
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.fixture
def ui(make_ui: Callable[..., Ui]) -> Ui:
    """A browser page, logged in with the admin token."""
    page = make_ui()
    page.login()
    return page
