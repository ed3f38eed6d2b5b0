"""`max_outputs_mb` in ick.yaml: one build's outputs in all, 1024 MiB unless set."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.config import load_settings
from ick.errors import InputError


def test_max_outputs_mb_defaults_to_1024_and_is_read(tmp_path: Path) -> None:
    assert load_settings(None, {}, {}).max_outputs_mb == 1024
    path = tmp_path / "ick.yaml"
    path.write_text("max_outputs_mb: 5\n")
    assert load_settings(str(path), {}, {}).max_outputs_mb == 5


@pytest.mark.parametrize("value", ["0", "true", "1.5", "big"])
def test_a_bad_max_outputs_mb_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "ick.yaml"
    path.write_text(f"max_outputs_mb: {value}\n")
    with pytest.raises(InputError) as info:
        load_settings(str(path), {}, {})
    assert info.value.message == (
        f"{path}: max_outputs_mb: expected a whole number of mebibytes from 1 to 1048576")
