"""Every built-in action type, one record each: validation, the runners and `ick doctor` read
this list. A new action type is one new module and one line here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ick.model import ActionTraits
from ick.runners.apt import APT_PUBLISH
from ick.runners.archive import ARCHIVE
from ick.runners.base import ActionType
from ick.runners.debootstrap import DEBOOTSTRAP
from ick.runners.dput import DPUT
from ick.runners.git import GIT
from ick.runners.git_mirror import GIT_MIRROR
from ick.runners.populate_systree import POPULATE_SYSTREE
from ick.runners.populate_workspace import POPULATE_WORKSPACE
from ick.runners.python import PYTHON
from ick.runners.rsync import RSYNC
from ick.runners.shell import SHELL

ACTION_TYPES: tuple[ActionType, ...] = (
    SHELL,
    PYTHON,
    DEBOOTSTRAP,
    ARCHIVE,
    POPULATE_SYSTREE,
    POPULATE_WORKSPACE,
    GIT,
    GIT_MIRROR,
    RSYNC,
    APT_PUBLISH,
    DPUT,
)

BY_KIND: dict[str, ActionType] = {t.kind: t for t in ACTION_TYPES}
BY_VALUE_KEY: dict[str, ActionType] = {t.kind: t for t in ACTION_TYPES if t.value is not None}


def type_of(action: Mapping[str, object]) -> ActionType | None:
    """The type of an action document: its `KIND: VALUE` key, else its `action: KIND`; None
    for a type this catalog does not have (validation says why)."""
    for key in action:
        if key in BY_VALUE_KEY:
            return BY_VALUE_KEY[key]
    name = action.get("action")
    return BY_KIND.get(name) if isinstance(name, str) else None


def traits_of(action: Mapping[str, object]) -> ActionTraits:
    """What the scheduler keeps of an action's type (ActionType.traits). For a type this
    catalog no longer has, the name its document gives: its worker then says it has none."""
    found = type_of(action)
    if found is not None:
        return found.traits
    name = action.get("action")
    return ActionTraits(name if isinstance(name, str) else "?")
