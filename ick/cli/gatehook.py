"""The pre-receive hook `ick hook PROJECT --gate` prints: only ick moves a gated target. A
push updating the target is let through only if it is exactly the move ick is pushing now
(the ref, its old and its new commit, as `GET /projects/{name}/gate` says under "moving");
anything else, and every push while ick cannot be asked, is refused."""

from __future__ import annotations

import json
from urllib.parse import quote

GATE_HOOK = '''#!{python}
# git pre-receive hook written by `ick hook {project} --gate`: only ick moves the gated
# branch {target} (it merges what passes its gate). Push changes to gate/{target}/NAME.
import json
import sys
import urllib.request

URL = {url}
PATH = {path}
TOKEN = {token}
TARGET = {target}

updates = [line.split() for line in sys.stdin if len(line.split()) == 3]
try:
    request = urllib.request.Request(URL + PATH, headers={{"Authorization": "Bearer " + TOKEN}})
    with urllib.request.urlopen(request, timeout=10) as response:
        doc = json.load(response)
    target = doc.get("target") or TARGET
    moving = [(m["ref"], m["old"], m["new"]) for m in doc.get("moving", [])]
except Exception as e:
    doc, target, moving = None, TARGET, []
    reason = str(e)
refused = [(old, new, ref) for old, new, ref in updates
           if ref == "refs/heads/" + target and (ref, old, new) not in moving]
if refused:
    if doc is None:
        print("ick: cannot ask ick whether it moves %s (%s): refused" % (target, reason))
    print("ick: only ick moves %s: push your change to gate/%s/NAME instead" % (target, target))
    sys.exit(1)
'''


def gate_hook_script(python: str, url: str, project: str, token: str, target: str) -> str:
    path = "/projects/" + quote(project, safe="/") + "/gate"
    return GATE_HOOK.format(python=python, url=json.dumps(url.rstrip("/")),
                            project=project.replace("\n", " "), path=json.dumps(path),
                            token=json.dumps(token), target=json.dumps(target))
