"""Git sources end to end: the git and git_mirror actions, the mirror cache, a push through
the real hook. Real repositories made here, served by `git daemon`, plain http and sshd on
loopback ports, and one real `ick serve` shared by the module's tests.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ick.errors import ActionError
from ick.runners.gitfetch import default_dir, inside_workspace
from tests.daemon import Daemon
from tests.gitrepos import Repo, Server, free_port, git, git_daemon, http_server
from tests.sshd import Sshd, keygen, sshd  # noqa: F401  (the fixture)

AUTHOR = "Tess Ter <tess@example.org>"  # tests.gitrepos commits as her


@pytest.mark.parametrize(("url", "folder"), [
    ("https://example.org/liw/hello.git", "hello"),
    ("git@example.org:liw/hello.git", "hello"),
    ("/srv/git/hello/", "hello"),
    ("git@example.org:.git", "src"),
])
def test_default_dir_is_the_last_part_of_the_url(url: str, folder: str) -> None:
    assert default_dir(url) == folder


def test_inside_workspace_refuses_what_leads_out(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "out").symlink_to(tmp_path)
    assert inside_workspace(workspace, "a/b", "git_dir") == workspace.resolve() / "a" / "b"
    for bad, why in [
        ("../x", "'../x' must stay inside the workspace (no '/' at the start, no '..')"),
        ("/etc", "'/etc' must stay inside the workspace (no '/' at the start, no '..')"),
        ("a/../../x", "'a/../../x' must stay inside the workspace (no '/' at the start, no '..')"),
        ("out/x", "out/x leads out of the workspace (through a symbolic link)"),
        ("out", "out leads out of the workspace (through a symbolic link)"),
        ("", "expected a path relative to the workspace, not ''"),
    ]:
        with pytest.raises(ActionError) as e:
            inside_workspace(workspace, bad, "git_dir")
        assert e.value.message == f"git_dir: {why}"


# --- end to end: a real daemon, real servers --------------------------------------------

@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repos")


@pytest.fixture(scope="module")
def gitd(repos: Path) -> Iterator[Server]:
    server = git_daemon(repos)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def httpd(repos: Path) -> Iterator[Server]:
    server = http_server(repos)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("ick") / "state", workers=2).start()
    yield daemon
    daemon.stop()


def define(daemon: Daemon, name: str, actions: list[dict[str, Any]],
           parameters: dict[str, Any] | None = None) -> None:
    """Apply a project NAME running one pipeline NAME of these actions."""
    doc = {"projects": [{"project": name, "parameters": parameters or {}, "pipelines": [name]}],
           "pipelines": [{"pipeline": name, "actions": actions}]}
    daemon.apply(yaml.safe_dump(doc), name=f"{name}.ick")


def run(daemon: Daemon, project: str, *params: str) -> tuple[dict[str, Any], str]:
    """Trigger a build and wait for it; its JSON and its log."""
    build = daemon.wait_build(daemon.trigger(project, *params))
    status, log = daemon.api("GET", f"/builds/{build['id']}/log")
    assert status == 200
    return build, str(log)


def queued(said: str, project: str, ref: str) -> int:
    """The id of the build the hook said it queued, in what `git push` printed."""
    match = re.search(rf"ick: {project} #\d+ \(build (\d+)\) queued for {re.escape(ref)}\s", said)
    assert match is not None, said
    return int(match[1])


def mirrors(daemon: Daemon) -> list[Path]:
    return sorted((daemon.state_dir / "git").glob("*.git"))


def test_push_builds_exactly_the_pushed_commit(ick: Daemon, gitd: Server, repos: Path) -> None:
    repo = Repo(repos, "pushed")
    repo.commit("first")
    repo.push()
    url = f"git://127.0.0.1:{gitd.port}/pushed.git"
    define(ick, "pushed", [
        {"action": "git", "where": "host"},
        {"shell": "git -C pushed rev-parse HEAD; git -C pushed rev-parse --abbrev-ref HEAD; "
                  "git -C pushed remote get-url origin", "where": "host"},
    ], {"git_url": url})
    hook = ick.ick("hook", "pushed")
    assert hook.returncode == 0, hook.stderr
    hook_path = repo.bare / "hooks" / "post-receive"
    hook_path.write_text(hook.stdout)
    hook_path.chmod(0o755)

    first = repo.commit("second")
    said = repo.push()
    build_id = queued(said, "pushed", "refs/heads/main")
    build = ick.wait_build(build_id)
    assert build["state"] == "succeeded", build
    assert build["parameters"] == {"git_url": url, "git_ref": "refs/heads/main",
                                   "git_commit": first, "ick_trigger": "hook", "ick_event": "push"}
    assert build["commit"] == first
    assert build["actions"][0]["git"] == [
        {"url": url, "ref": "refs/heads/main", "commit": first, "dir": "pushed",
         "subject": "second", "author": AUTHOR}]
    log = ick.wait_log(build_id, f"build {build_id} succeeded")
    assert f"ick: git: cloning a new mirror of {url}\n" in log
    assert f"\n{first}\nmain\n{url}\n" in log
    shown = ick.ick("build", str(build_id))
    assert f"  commit: {first}\n" in shown.stdout
    assert f'"commit": "{first}"' in shown.stdout and f'"url": "{url}"' in shown.stdout
    (mirror,) = mirrors(ick)
    packs = {p: p.stat().st_ino for p in (mirror / "objects" / "pack").glob("*.pack")}

    # A push after a push: the same mirror, fetching only what is new, and the newer commit.
    second = repo.commit("third")
    said = repo.push()
    build_id = queued(said, "pushed", "refs/heads/main")
    assert ick.wait_build(build_id)["state"] == "succeeded"
    log = ick.wait_log(build_id, f"build {build_id} succeeded")
    assert f"ick: git: updating the mirror of {url}\n" in log
    assert f"\n{second}\nmain\n" in log
    assert mirrors(ick) == [mirror]
    assert {p: p.stat().st_ino for p in packs} == packs  # not cloned again
    listing = ick.ick("builds", "pushed")
    assert "succeeded" in listing.stdout and second[:10] in listing.stdout


def test_pushed_commit_the_remote_no_longer_has_fails(ick: Daemon, repos: Path) -> None:
    repo = Repo(repos, "forced")
    repo.commit("kept")
    repo.push()
    gone = repo.commit("never pushed, or force-pushed away")
    define(ick, "forced", [{"action": "git", "where": "host"},
                           {"shell": "echo not reached", "where": "host"}],
           {"git_url": str(repo.bare)})
    build, log = run(ick, "forced", f"git_commit={gone}")
    assert build["state"] == "failed"
    message = f"commit {gone} is not in {repo.bare} (was it force-pushed away?)"
    assert build["actions"][0]["message"] == message
    assert build["actions"][1]["state"] == "skipped"
    assert f"ick: {message}\n" in log


def test_ref_tag_branch_and_sha_and_the_listing_shows_the_resolved_commit(
        ick: Daemon, gitd: Server, repos: Path) -> None:
    repo = Repo(repos, "refs")
    tagged = repo.commit("tagged")
    git("tag", "-a", "-m", "v1", "v1.0", cwd=repo.work)
    head = repo.commit("head")
    git("branch", "topic", tagged, cwd=repo.work)
    repo.push("main", "topic", "v1.0")
    url = f"git://127.0.0.1:{gitd.port}/refs.git"
    define(ick, "refs", [{"action": "git", "where": "host", "git_dir": "co"},
                         {"shell": "git -C co rev-parse HEAD", "where": "host"}],
           {"git_url": url})
    cases = [(None, "refs/heads/main", head, "head"), ("v1.0", "refs/tags/v1.0", tagged, "tagged"),
             ("topic", "refs/heads/topic", tagged, "tagged"),
             (tagged[:12], tagged[:12], tagged, "tagged")]
    for ref, full, sha, subject in cases:
        build, log = run(ick, "refs", *([f"git_ref={ref}"] if ref else []))
        assert build["state"] == "succeeded", log
        assert build["actions"][0]["git"] == [{"url": url, "ref": full, "commit": sha, "dir": "co",
                                               "subject": subject, "author": AUTHOR}]
        assert f"\n{sha}\n" in log
    status, listed = ick.api("GET", "/builds?project=refs&limit=1")
    assert status == 200 and listed[0]["commit"] == tagged
    assert "git_commit" not in listed[0]["parameters"]
    assert tagged[:10] in ick.ick("builds", "refs", "--limit", "1").stdout


@pytest.mark.parametrize(("case", "actions", "message"), [
    ("unknown-ref", [{"action": "git", "where": "host", "git_ref": "nope"}],
     "unknown ref 'nope' in {url}"),
    ("not-a-repo", [{"shell": "mkdir -p src && touch src/file", "where": "host"},
                    {"action": "git", "where": "host", "git_dir": "src"}],
     "git_dir 'src' exists and is not a git repository"),
    ("escape", [{"action": "git", "where": "host", "git_dir": "../elsewhere"}],
     "git_dir: '../elsewhere' must stay inside the workspace (no '/' at the start, no '..')"),
    ("link-escape", [{"shell": "ln -s /tmp out", "where": "host"},
                     {"action": "git", "where": "host", "git_dir": "out/x"}],
     "git_dir: out/x leads out of the workspace (through a symbolic link)"),
])
def test_errors_are_one_line_and_fail_the_action(
        ick: Daemon, repos: Path, case: str, actions: list[dict[str, Any]], message: str) -> None:
    repo = Repo(repos, f"err-{case}")
    repo.commit()
    repo.push()
    define(ick, f"err-{case}", [*actions, {"shell": "echo not reached", "where": "host"}],
           {"git_url": str(repo.bare)})
    build, log = run(ick, f"err-{case}")
    message = message.format(url=repo.bare)
    assert build["state"] == "failed"
    failed = build["actions"][len(actions) - 1]
    assert (failed["kind"], failed["state"], failed["message"]) == ("git", "failed", message)
    assert build["actions"][-1]["state"] == "skipped"
    assert f"ick: {message}\n" in log
    shown = ick.ick("build", str(build["id"]))
    assert re.search(rf"\] git \(host\): failed [\d.]+ s \({re.escape(message)}\)\n", shown.stdout)


def test_unreachable_url_fails_in_one_line(ick: Daemon) -> None:
    url = f"git://127.0.0.1:{free_port()}/gone.git"
    define(ick, "unreachable", [{"action": "git", "where": "host", "git_url": url}])
    build, log = run(ick, "unreachable")
    assert build["state"] == "failed"
    message = build["actions"][0]["message"]
    assert message == (f"cannot fetch {url}: unable to connect to 127.0.0.1: "
                       "127.0.0.1[0: 127.0.0.1]: errno=Connection refused")


def test_a_server_that_never_answers_times_out(ick: Daemon) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"git://127.0.0.1:{silent.getsockname()[1]}/silent.git"
        define(ick, "silent", [{"action": "git", "where": "host", "git_url": url,
                                "timeout": 1}])
        build, log = run(ick, "silent")
    assert build["state"] == "failed"
    assert build["actions"][0]["message"] == "timed out after 1 s"
    assert build["actions"][0]["duration"] >= 1  # the action's timeout, not git's own, ended it


def test_passwords_in_urls_are_never_logged(ick: Daemon, httpd: Server, repos: Path) -> None:
    repo = Repo(repos, "private")
    sha = repo.commit()
    repo.push()
    url = f"http://robot:Sekr1t-pw@127.0.0.1:{httpd.port}/private.git"
    shown = f"http://robot:***@127.0.0.1:{httpd.port}/private.git"
    define(ick, "private", [
        {"action": "git", "where": "host", "git_url": url},
        {"shell": "git -C private remote get-url origin", "where": "host"},
        {"action": "git", "where": "host", "git_url": url.replace("private.git", "nothing.git"),
         "git_dir": "other"},
    ])
    build, log = run(ick, "private")
    assert build["state"] == "failed"
    assert build["actions"][0]["git"] == [
        {"url": shown, "ref": "refs/heads/main", "commit": sha, "dir": "private",
         "subject": "change", "author": AUTHOR}]
    assert f"ick: git: cloning a new mirror of {shown}\n" in log
    assert f"\nhttp://robot@127.0.0.1:{httpd.port}/private.git\n" in log  # origin: no password
    assert build["actions"][2]["message"].startswith(f"cannot fetch {shown[:-11]}nothing.git: ")
    for text in (log, str(build), ick.ick("build", str(build["id"])).stdout):
        assert "Sekr1t" not in text
    for config in (ick.state_dir / "git").glob("*.git/config"):
        assert "Sekr1t" not in config.read_text()


def test_concurrent_builds_of_one_url_share_one_whole_mirror(ick: Daemon, gitd: Server,
                                                             repos: Path) -> None:
    repo = Repo(repos, "shared")
    sha = repo.commit("many files", {f"d{i % 20}/f{i}.txt": f"{i}\n" * 50 for i in range(2000)})
    repo.push()
    url = f"git://127.0.0.1:{gitd.port}/shared.git"
    for name in ("shared-a", "shared-b"):
        define(ick, name, [{"action": "git", "where": "host"},
                           {"shell": "git -C shared rev-parse HEAD", "where": "host"}],
               {"git_url": url})
    # Through the API, not the CLI: two triggers a few ms apart, so the builds overlap.
    ids = [ick.api("POST", f"/projects/{name}/+trigger", {})[1]["id"]
           for name in ("shared-a", "shared-b")]
    logs = []
    for build_id in ids:
        assert ick.wait_build(build_id)["state"] == "succeeded"
        logs.append(ick.wait_log(build_id, f"build {build_id} succeeded"))
    assert all(f"\n{sha}\n" in log for log in logs)
    # Without the lock both would have found no mirror and cloned one each.
    assert sum(log.count("cloning a new mirror") for log in logs) == 1, logs
    (mirror,) = [m for m in mirrors(ick)
                 if git("config", "remote.origin.url", cwd=m) == url]
    git("fsck", "--no-progress", cwd=mirror)


def test_git_mirror_fetches_several_sources(ick: Daemon, gitd: Server, repos: Path) -> None:
    app, lib = Repo(repos, "app"), Repo(repos, "lib")
    app_sha = app.commit("app")
    app.push()
    lib_old = lib.commit("lib one")
    git("tag", "v1", cwd=lib.work)
    lib.commit("lib two")
    lib.push("main", "v1")
    app_url = f"git://127.0.0.1:{gitd.port}/app.git"
    define(ick, "several", [
        {"action": "git_mirror", "where": "host", "sources": [
            {"name": "app", "repo": app_url},
            {"name": "lib", "repo": str(lib.bare), "ref": "v1", "location": "deps/lib"},
        ]},
        {"shell": "git -C app rev-parse HEAD; git -C deps/lib rev-parse HEAD", "where": "host"},
    ])
    build, log = run(ick, "several")
    assert build["state"] == "succeeded", log
    assert build["actions"][0]["git"] == [
        {"name": "app", "url": app_url, "ref": "refs/heads/main", "commit": app_sha,
         "dir": "app", "subject": "app", "author": AUTHOR},
        {"name": "lib", "url": str(lib.bare), "ref": "refs/tags/v1", "commit": lib_old,
         "dir": "deps/lib", "subject": "lib one", "author": AUTHOR},
    ]
    assert f"\n{app_sha}\n{lib_old}\n" in log
    assert build["commit"] == app_sha


def test_a_second_git_action_updates_the_existing_clone(ick: Daemon, repos: Path) -> None:
    repo = Repo(repos, "again")
    old = repo.commit("old")
    git("tag", "old", cwd=repo.work)
    new = repo.commit("new")
    repo.push("main", "old")
    define(ick, "again", [
        {"action": "git", "where": "host", "git_ref": "old"},
        {"shell": "git -C again rev-parse HEAD; touch again/untracked", "where": "host"},
        {"action": "git", "where": "host", "git_ref": "main"},
        {"shell": "git -C again rev-parse HEAD; ls again", "where": "host"},
    ], {"git_url": str(repo.bare)})
    build, log = run(ick, "again")
    assert build["state"] == "succeeded", log
    assert f"\n{old}\n" in log and f"\n{new}\n" in log and "untracked" in log
    assert [a["git"][0]["commit"] for a in build["actions"][::2]] == [old, new]


def test_workspace_clone_stands_alone(ick: Daemon, repos: Path) -> None:
    repo = Repo(repos, "alone")
    repo.commit()
    repo.push()
    define(ick, "alone", [
        {"action": "git", "where": "host"},
        {"shell": "test ! -e alone/.git/objects/info/alternates; cp -a alone moved; "
                  "git -C moved fsck --no-progress; echo standalone", "where": "host"},
    ], {"git_url": str(repo.bare)})
    build, log = run(ick, "alone")
    assert build["state"] == "succeeded", log
    assert "\nstandalone\n" in log


def test_private_repository_over_ssh_with_key_and_host_key_from_secrets(
        ick: Daemon, sshd: Sshd, repos: Path) -> None:  # noqa: F811
    repo = Repo(repos, "overssh")
    sha = repo.commit()
    repo.push()
    url = f"ssh://root@127.0.0.1:{sshd.port}{repo.bare}"
    define(ick, "overssh", [{"action": "git", "where": "host", "git_url": url,
                             "ssh_key_secret": "deploy_key",
                             "known_hosts_secret": "known_hosts"}])

    def secrets(known_hosts: str) -> None:
        for name, value in (("deploy_key", sshd.user_key.read_text()),
                            ("known_hosts", known_hosts + "\n")):
            result = ick.ick("secret", "set", "overssh", name, input=value)
            assert result.returncode == 0, result.stderr

    secrets(sshd.known_hosts)
    build, log = run(ick, "overssh")
    assert build["state"] == "succeeded", log
    assert build["commit"] == sha
    assert "Accepted publickey for root" in (sshd.root / "sshd.log").read_text()

    # The host key is checked, always: a server that does not match is refused.
    other = keygen(sshd.root / "other_host_key")
    secrets(f"[127.0.0.1]:{sshd.port} {other}")
    build, log = run(ick, "overssh")
    assert build["state"] == "failed"
    assert build["actions"][0]["message"] == f"cannot fetch {url}: Host key verification failed."
    assert "fatal: Could not read from remote repository." in log
