"""`ick hook PROJECT`: a git post-receive hook that triggers PROJECT on every pushed branch
and tag, with the pushed commit's subject and author.

The hook starts with every push, so it imports next to nothing: a socket, HTTP/1.0 by hand,
JSON by hand (git refs hold no quotes, backslashes or control characters; subjects are
escaped), and each pushed commit's subject and author read from its loose object (zlib),
or for those packed from one `git cat-file --batch`.
"""

from __future__ import annotations

import glob
import json
import os

import click

from ick.cli.context import Context, pass_ctx

HOOK = '''#!{python}
# git post-receive hook written by `ick hook`: triggers an ick build of {project}
# for each pushed branch and tag. A push never fails because of it.
import os
import sys

URL = {url}
PROJECT = {project}
PATH = {path}
TOKEN = {token}


def post(body):
    """POST the trigger; (status, the body of the answer)."""
    if not URL.startswith("http://"):
        import urllib.error, urllib.request
        request = urllib.request.Request(URL + PATH, data=body, method="POST", headers={{
            "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
    import _socket
    rest = URL[len("http://"):]
    hostport, _, prefix = rest.partition("/")
    host, _, port = hostport.rpartition(":") if hostport.rfind(":") > hostport.rfind("]") \\
        else (hostport, "", "80")
    host = host.strip("[]")
    # An ASCII host as bytes: a str would load the idna codec, and with it re (12 ms).
    name = host.encode() if host.isascii() else host
    family, kind, proto, _, address = _socket.getaddrinfo(name, int(port), 0,
                                                          _socket.SOCK_STREAM)[0]
    sock = _socket.socket(family, kind, proto)
    try:
        sock.settimeout(10)
        sock.connect(address)
        head = ("POST %s HTTP/1.0\\r\\nHost: %s\\r\\nAuthorization: Bearer %s\\r\\n"
                "Content-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n"
                % (("/" + prefix).rstrip("/") + PATH, hostport, TOKEN, len(body)))
        sock.sendall(head.encode() + body)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, _, answer = data.partition(b"\\r\\n\\r\\n")
    return int(head.split(None, 2)[1]), answer


def field(answer, name):
    """A field of ick's JSON answer, without a JSON parser: '"id": 17,' or '"error": "..."'."""
    text = answer.decode("utf-8", "replace")
    key = '"%s": ' % name
    if key not in text:
        return None
    value = text.split(key, 1)[1]
    if value.startswith('"'):
        return value[1:].rsplit('"', 1)[0].replace('\\\\"', '"').replace("\\\\\\\\", "\\\\")
    return value.split(",", 1)[0].split("}}", 1)[0].strip()


def loose(sha):
    """A loose object's type and body, or None (packed, or not there). A push of a few
    commits arrives as loose objects (git's transfer.unpackLimit): those need no git."""
    import zlib

    if len(sha) not in (40, 64) or sha.strip("0123456789abcdef"):
        return None
    objects = os.environ.get("GIT_OBJECT_DIRECTORY") or \\
        os.environ.get("GIT_DIR", ".") + "/objects"
    try:
        with open("%s/%s/%s" % (objects, sha[:2], sha[2:]), "rb") as f:
            head, _, body = zlib.decompress(f.read()).partition(b"\\0")
    except (OSError, ValueError, zlib.error):
        return None
    return head.split(b" ")[0], body


def peeled(sha):
    """The commit `sha` names (through annotated tags) and its body, from loose objects."""
    for _ in range(8):
        found = loose(sha)
        if found is None:
            return None
        kind, body = found
        if kind == b"commit":
            return sha, body
        if kind != b"tag" or not body.startswith(b"object "):
            return None
        sha = body[7:].split(b"\\n", 1)[0].decode()
    return None


def facts(sha, body):
    """(sha, subject, author) of a commit from its body."""
    headers, _, message = body.decode("utf-8", "replace").partition("\\n\\n")
    author = next((h[7:] for h in headers.split("\\n") if h.startswith("author ")), "")
    author = author.rsplit(" ", 2)[0] if author.count(" ") >= 2 else author
    subject = next((m for m in message.split("\\n") if m.strip()), "")
    return sha, subject, author


def describe(revs):
    """The commit each of `revs` names (a tag peeled): (sha, subject, author), or None. Read
    from loose objects where it can, else from one `git cat-file --batch` in the repository
    the hook runs in (GIT_DIR is git's)."""
    found = []
    for rev in revs:
        commit = peeled(rev)
        found.append(facts(*commit) if commit else None)
    asked = [i for i, fact in enumerate(found) if fact is None]
    if not asked:
        return found
    try:
        r, w = os.pipe()
        rin, win = os.pipe()
        pid = os.posix_spawnp("git", ["git", "cat-file", "--batch"], os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, rin, 0), (os.POSIX_SPAWN_DUP2, w, 1),
            (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    except OSError:
        return found
    os.close(rin)
    os.close(w)
    # A few dozen bytes a ref: it fits the pipe, so git cannot block on an unread answer.
    os.write(win, "".join(revs[i] + "^{{commit}}\\n" for i in asked).encode())
    os.close(win)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    data = b"".join(chunks)
    at = 0
    for i in asked:
        end = data.find(b"\\n", at)
        if end < 0:
            break
        head = data[at:end].split()
        at = end + 1
        if len(head) != 3 or head[1] != b"commit":
            continue  # "REV missing": nothing to say about it
        found[i] = facts(head[0].decode(), data[at:at + int(head[2])])
        at += int(head[2]) + 1
    return found


def text(value):
    """A JSON string of one line: control characters are spaces; at most 200 characters."""
    value = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in value[:200])
    return '"%s"' % value.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"')


pushes = []
for line in sys.stdin:
    parts = line.split()
    if len(parts) != 3:
        continue
    old, new, ref = parts
    # Branches and tags; a deleted one (new is all zeros) builds nothing.
    if not ref.startswith(("refs/heads/", "refs/tags/")) or set(new) == {{"0"}} \\
            or '"' in ref or "\\\\" in ref:
        continue
    pushes.append((new, ref))
try:  # what the push is about is description only: without it, the builds still start
    described = describe([new for new, _ in pushes[:100]]) if pushes else []
except Exception:
    described = []
for i, (new, ref) in enumerate(pushes):
    fact = described[i] if i < len(described) else None
    commit = fact[0] if fact else new  # an annotated tag's commit, not the tag object
    git = ', "git": {{"subject": %s, "author": %s}}' % (text(fact[1]), text(fact[2])) \\
        if fact else ""
    body = ('{{"parameters": {{"git_ref": "%s", "git_commit": "%s", "ick_trigger": "hook"}}%s}}'
            % (ref, commit, git)).encode()
    try:
        status, answer = post(body)
    except Exception as e:
        print("ick: warning: could not reach ick at %s to trigger %s: %s" % (URL, PROJECT, e))
        continue
    if status == 201:
        print("ick: %s #%s (build %s) queued for %s"
              % (PROJECT, field(answer, "number"), field(answer, "id"), ref))
    elif status == 200:  # the project has built (or is building) this commit already
        print("ick: %s #%s (build %s) has %s already: no new build for %s"
              % (PROJECT, field(answer, "number"), field(answer, "id"), commit[:12], ref))
    elif status == 409:  # a ref the project does not build (branches:, tags:)
        print("ick: no build for %s: %s" % (ref, field(answer, "error")))
    else:
        message = field(answer, "error") or "HTTP status %d" % status
        print("ick: warning: could not trigger %s: %s" % (PROJECT, message))
'''


def hook_python() -> str:
    """Debian's python3 without site-packages (-S): the hook needs only the standard library,
    and site's start-up is a good part of what a push would wait for."""
    if os.access("/usr/bin/python3", os.X_OK):
        return "/usr/bin/python3 -S"
    return "/usr/bin/env python3"


def hook_script(url: str, project: str, token: str) -> str:
    from urllib.parse import quote

    path = "/projects/" + quote(project, safe="/") + "/+trigger"
    return HOOK.format(python=hook_python(), url=json.dumps(url.rstrip("/")),
                       project=json.dumps(project), path=json.dumps(path),
                       token=json.dumps(token))


@click.command()
@click.argument("project")
@click.option("--hook-url", default=None,
              help="The address the git server reaches the daemon at [--url].")
@click.option("--new-token", is_flag=True,
              help="Revoke the project's hook token and mint another (old hooks stop working).")
@click.option("--gate", "gate", is_flag=True,
              help="Print the pre-receive hook that refuses every push to the gated branch "
                   "but ick's own move of it.")
@pass_ctx
def hook(ctx: Context, project: str, hook_url: str | None, new_token: bool,
         gate: bool) -> None:
    """Print a post-receive hook that triggers PROJECT (with the project's one trigger token,
    bound to PROJECT, minted the first time); with --gate, the pre-receive hook that lets
    only ick move the project's gated branch (with a read token bound to PROJECT)."""
    from ick.cli.client import quote_name

    doc = ctx.client.call("GET", f"/projects/{quote_name(project)}")
    if gate:
        _gate_hook(ctx, project, doc, hook_url, new_token)
        return
    name = f"hook for {project}"
    if new_token:
        for token in ctx.client.call("GET", "/tokens"):
            if token.get("reusable") and token["name"] == name:
                ctx.client.call("DELETE", f"/tokens/{token['id']}")
    # Bound to this project alone: a leaked hook can trigger nothing else, and (a trigger
    # token) set only git_ref, git_commit and the project's trigger_parameters.
    doc = ctx.client.call("POST", "/tokens", {"name": name, "scopes": ["trigger"],
                                              "reuse": True, "projects": [glob.escape(project)]})
    click.echo(hook_script(hook_url or ctx.url, project, doc["token"]), nl=False)


def _gate_hook(ctx: Context, project: str, doc: dict[str, object], hook_url: str | None,
               new_token: bool) -> None:
    from ick.cli.gatehook import gate_hook_script
    from ick.errors import ClientError

    gate = doc.get("gate")
    if not isinstance(gate, dict):
        raise ClientError(f"project {project} has no gate: give it `gate: {{branch: ...}}`")
    name = f"gate hook for {project}"
    if new_token:
        for token in ctx.client.call("GET", "/tokens"):
            if token.get("reusable") and token["name"] == name:
                ctx.client.call("DELETE", f"/tokens/{token['id']}")
    # Read only, bound to this project: the hook asks which move of the target ick pushes.
    made = ctx.client.call("POST", "/tokens", {"name": name, "scopes": ["read"],
                                               "reuse": True, "projects": [glob.escape(project)]})
    click.echo(gate_hook_script(hook_python(), hook_url or ctx.url, project,
                                made["token"], str(gate["branch"])), nl=False)
