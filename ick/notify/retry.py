"""The test knob that shortens notification retries (ICK_NOTIFY_RETRY_SCALE), read once at start."""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)

# Test knob, not a setting: multiplies every retry delay (0.05 makes the first retry 0.5 s).
SCALE_VARIABLE = "ICK_NOTIFY_RETRY_SCALE"


def retry_scale(environ: Mapping[str, str]) -> float:
    text = environ.get(SCALE_VARIABLE)
    if not text:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        scale = -1.0
    if not 0 < scale <= 1:
        log.warning("ignoring %s=%r: expected a number above 0, at most 1", SCALE_VARIABLE, text)
        return 1.0
    return scale
