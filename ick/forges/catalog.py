"""Every forge ick speaks to, one record each: `forge:` checks, the webhook route and the
commit statuses read this list. A new forge is one new module and one line here."""

from __future__ import annotations

from ick.forges.forge import Forge
from ick.forges.forgejo import FORGEJO, GITEA
from ick.forges.github import GITHUB
from ick.forges.gitlab import GITLAB

FORGES: tuple[Forge, ...] = (FORGEJO, GITEA, GITHUB, GITLAB)

BY_TYPE: dict[str, Forge] = {f.type: f for f in FORGES}
