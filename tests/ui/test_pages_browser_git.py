"""In a real browser (Debian's chromium through Playwright): a build made by `ick hook` on a
real `git push` shows its branch, commit subject, author, event and who triggered it on the
dashboard, its project's page and its own page; a subject with markup is shown as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import expect

from tests.gitrepos import Repo, git
from tests.ui.web import Ui

AUTHOR = "Tess Ter <tess@example.org>"  # tests.gitrepos commits as her
SUBJECT = 'Fix the <script>alert("pwned")</script> typo & more'


def pushed_build(ui: Ui, tmp_path: Path) -> dict[str, Any]:
    """Project `web` built by its hook from a push of branch feature/typo; its build's JSON."""
    repo = Repo(tmp_path / "repos", "web")
    repo.commit("first")
    ui.daemon.apply(yaml.safe_dump({
        "projects": [{"project": "web", "parameters": {"git_url": str(repo.bare)},
                      "pipelines": ["web"]}],
        "pipelines": [{"pipeline": "web", "actions": [
            {"action": "git", "where": "host"}, {"shell": "git -C web log -1", "where": "host"}]}],
    }), name="web.ick")
    hook = ui.daemon.ick("hook", "web")
    assert hook.returncode == 0, hook.stderr
    path = repo.bare / "hooks" / "post-receive"
    path.write_text(hook.stdout)
    path.chmod(0o755)
    git("checkout", "-q", "-b", "feature/typo", cwd=repo.work)
    sha = repo.commit(SUBJECT)
    said = repo.push("feature/typo")
    assert "ick: web #1" in said, said
    status, builds = ui.daemon.api("GET", "/builds?project=web")
    assert status == 200 and len(builds) == 1, builds
    doc = ui.daemon.wait_build(builds[0]["id"])
    assert doc["state"] == "succeeded", doc
    assert doc["parameters"]["ick_trigger"] == "hook"
    assert doc["git"] == {"ref": "refs/heads/feature/typo", "branch": "feature/typo",
                          "tag": None, "commit": sha, "subject": SUBJECT, "author": AUTHOR}
    assert doc["event"] == "push"
    return doc


def test_the_three_pages_show_what_a_hook_build_built_and_why(ui: Ui, tmp_path: Path) -> None:
    doc = pushed_build(ui, tmp_path)
    dialogs: list[str] = []
    ui.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    by = doc["triggered_by"]

    ui.goto("/ui/")
    row = ui.page.locator("tr[data-project=web]")
    for cell, text in ((".branch", "feature/typo"), (".subject", SUBJECT), (".author", AUTHOR),
                       (".event", "push"), (".triggered-by", f"by {by}")):
        expect(row.locator(cell)).to_have_text(text)
    expect(row.locator("td.commit code")).to_have_text(doc["git"]["commit"][:10])

    ui.goto("/ui/projects/web")
    row = ui.page.locator("table.builds tbody tr").first
    for cell, text in ((".branch", "feature/typo"), (".subject", SUBJECT), (".author", AUTHOR),
                       (".event", "push"), (".triggered-by", f"by {by}")):
        expect(row.locator(cell)).to_have_text(text)
    expect(row).to_contain_text("hook")

    ui.goto(f"/ui/builds/{doc['id']}")
    facts = ui.page.locator("dl.facts")
    expect(facts.locator("dd.event")).to_have_text("push")
    expect(facts.locator("dd.triggered-by")).to_have_text(by)
    expect(facts.locator(".branch")).to_have_text("feature/typo")
    expect(facts.locator("dd.subject")).to_have_text(SUBJECT)
    expect(facts.locator("dd.author")).to_have_text(AUTHOR)
    expect(facts).to_contain_text(doc["git"]["commit"])
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    expect(ui.page.locator("#log")).to_contain_text(SUBJECT)  # git log -1, as text too

    # The subject was text on every page: no script of it ran or became an element.
    assert dialogs == []
    assert ui.page.evaluate(
        "() => [...document.scripts].every(s => !s.textContent.includes('pwned'))")
