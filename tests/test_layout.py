"""The tests mirror the package: every test module is named after the module of ick/ it tests.

Tests of ick/a/b.py live in tests/a/test_b.py, and more files may follow its name
(tests/a/test_b_jobs.py). A package's own code (ick/a/__init__.py) is tested beside it, in
tests/test_a.py. tests/e2e/ holds end-to-end tests of the whole daemon, named after what they
drive; modules without the test_ prefix are helpers.
"""

from __future__ import annotations

from pathlib import Path

import ick

TESTS = Path(__file__).parent
PACKAGE = Path(ick.__file__).parent
# Tests of the whole package, or of the tests themselves, rather than of one module of ick.
WHOLE_PACKAGE = {"test_imports.py", "test_layout.py", "test_fixtures.py"}


def module_named_by(test: Path) -> str | None:
    """The module of ick/ that `test` (a path under tests/) is named after, or None."""
    stem = test.stem.removeprefix("test_")
    folder = PACKAGE / test.parent.relative_to(TESTS)
    if not folder.is_dir():
        return None
    # A package's __main__.py is tested in test_main.py.
    names = {p.stem.strip("_") for p in folder.glob("*.py") if p.name != "__init__.py"}
    names |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
    for name in sorted(names, key=len, reverse=True):
        if stem == name or stem.startswith(name + "_"):
            return name
    return None


def test_every_test_module_is_named_after_a_module_at_the_mirrored_path() -> None:
    strays = []
    for test in sorted(TESTS.rglob("test_*.py")):
        relative = test.relative_to(TESTS)
        if relative.parts[0] == "e2e" or str(relative) in WHOLE_PACKAGE:
            continue
        if module_named_by(test) is None:
            strays.append(str(relative))
    assert not strays, (
        "test modules not named after a module of ick/ at the mirrored path "
        f"(tests of ick/a/b.py go in tests/a/test_b.py or tests/a/test_b_*.py): {strays}")


def test_the_rule_reads_a_module_a_package_and_a_following_name() -> None:
    assert module_named_by(TESTS / "storage" / "test_db.py") == "db"
    assert module_named_by(TESTS / "storage" / "test_db_group_commit.py") == "db"
    assert module_named_by(TESTS / "test_ickfile_fuzz.py") == "ickfile"
    assert module_named_by(TESTS / "storage" / "test_dbx.py") is None
    assert module_named_by(TESTS / "nowhere" / "test_db.py") is None
