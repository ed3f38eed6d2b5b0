"""Helpers for the web UI tests: the test projects, a logged-in browser page, and a session
made over plain HTTP (for what a browser cannot show, such as a stream's clean end)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.daemon import Daemon

PROJECTS = """
projects:
  - project: good
    pipelines: [ok]
  - project: bad
    pipelines: [fail]
  - project: liw/site
    parameters: {greeting: hello, count: 2}
    pipelines: [greet]
  - project: slow
    parameters: {lines: 30}
    pipelines: [slow]
  - project: hang
    pipelines: [hang]
pipelines:
  - pipeline: ok
    actions: [{shell: "echo fine", where: host}]
  - pipeline: fail
    actions: [{shell: "echo broken; exit 3", where: host}]
  - pipeline: greet
    parameters: [greeting]
    actions:
      - python: print('greeting is', params['greeting'], params['count'] + 1)
        where: host
  - pipeline: slow
    actions:
      - python: |
          import time
          for i in range(1, int(params["lines"]) + 1):
              print(f"line {i}", flush=True)
              time.sleep(0.1)
        where: host
  - pipeline: hang
    actions: [{shell: "echo started; sleep 60", where: host}]
"""


@dataclass
class Ui:
    daemon: Daemon
    context: Any  # playwright BrowserContext
    page: Any  # playwright Page
    base: str

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, token: str | None = None, path: str = "/ui/") -> None:
        self.goto(path)
        self.page.get_by_label("Token").fill(token or self.daemon.admin_token)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(re.compile(r".*/ui/(?!login).*"))

    def path(self) -> str:
        parts = urllib.parse.urlsplit(str(self.page.url))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def cookie(self, name: str = "ick_session") -> str | None:
        for cookie in self.context.cookies():
            if cookie["name"] == name:
                return str(cookie["value"])
        return None


def _logged_in(daemon: Daemon, token: str | None) -> tuple[urllib.request.OpenerDirector,
                                                             http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(daemon.url + "/ui/login", timeout=30).read().decode()
    body = urllib.parse.urlencode({"_csrf": csrf_of(page), "next": "/ui/",
                                   "token": token or daemon.admin_token}).encode()
    opener.open(daemon.url + "/ui/login", data=body, timeout=30).read()
    assert any(c.name == "ick_session" for c in jar), "no session cookie after logging in"
    return opener, jar


def http_session(daemon: Daemon, token: str | None = None) -> urllib.request.OpenerDirector:
    """An opener holding a web session, logged in through the login form like a browser."""
    return _logged_in(daemon, token)[0]


def session_cookie(daemon: Daemon, token: str | None = None) -> str:
    """A `Cookie:` header value with a new web session, logged in through the login form."""
    jar = _logged_in(daemon, token)[1]
    return "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "ick_session")


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)
