"""The python action in a tree without python3 (a minbase debootstrap) fails saying what the
tree needs, not with chroot's "No such file or directory" and exit 127 (issue 22, finding
14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.errors import ActionError
from ick.runners.base import ActionContext, BuildScratch, HostSettings
from ick.runners.places import in_tree
from ick.runners.python import PythonRunner

MESSAGE = ("python: needs python3 in the tree (install it in the systree, e.g. apt-get "
           "install python3)")


def tree(root: Path) -> Path:
    """A tiny hand-made root file system, with a shell and no python3."""
    for d in ("proc", "sys", "dev", "run", "usr/bin", "bin"):
        (root / d).mkdir(parents=True)
    (root / "bin/sh").write_text("")
    return root


def context(tmp_path: Path, where: str, systree: Path | None = None) -> ActionContext:
    return ActionContext(
        build_id=17, project="hello", number=3, seq=0,
        action={"python": "print('hi')", "where": where}, parameters={},
        workspace=tmp_path / "ws", run_dir=tmp_path / "run", output=lambda data: None,
        host=HostSettings(state_dir=tmp_path), scratch=BuildScratch(systree=systree),
    )


async def test_a_chroot_without_python3_fails_saying_so(tmp_path: Path) -> None:
    tree(tmp_path / "ws")
    (tmp_path / "run").mkdir()
    with pytest.raises(ActionError) as raised:
        await PythonRunner().run(context(tmp_path, "chroot"))
    assert raised.value.message == MESSAGE


async def test_a_container_without_python3_fails_saying_so(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "run").mkdir()
    with pytest.raises(ActionError) as raised:
        await PythonRunner().run(context(tmp_path, "container", tree(tmp_path / "systree")))
    assert raised.value.message == MESSAGE


def test_python3_is_found_on_the_tree_s_path_also_as_a_symlink(tmp_path: Path) -> None:
    root = tree(tmp_path / "t")
    assert not in_tree(root, "python3")
    (root / "usr/bin/python3").symlink_to("/usr/bin/python3.11")  # absolute, inside the tree
    assert in_tree(root, "python3")
