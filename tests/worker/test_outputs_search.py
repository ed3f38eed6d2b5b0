"""Which `outputs:` globs can match anything before the workspace is searched
(ick/worker/outputs.py `may_match`): one whose fixed leading folder is absent matches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.worker.outputs import may_match, output_files


@pytest.mark.parametrize(("pattern", "expected"), [
    ("dist/*.deb", False),
    ("reports/", False),
    ("build/out/**", False),
    ("here/*.txt", True),
    ("here", True),
    ("*.log", True),  # a wildcard first: only a search says
    ("**/x", True),
    ("h[e]re/a", True),
])
def test_a_glob_whose_leading_folder_is_absent_cannot_match(tmp_path: Path, pattern: str,
                                                             expected: bool) -> None:
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "a.txt").write_text("a")
    assert may_match(tmp_path, pattern) is expected
    if not expected:
        assert output_files(tmp_path, [pattern]) == []
