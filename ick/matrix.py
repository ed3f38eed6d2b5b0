"""Matrix jobs: `matrix:` as axes (each combination a job) or as a list of parameter
mappings (one job each), checked and multiplied out. Pure code."""

from __future__ import annotations

import itertools
from typing import Any

MAX_JOBS = 64  # more jobs than this in one build is a mistake, not a matrix

RULE = ("a mapping of parameter names to lists of values (each combination is a job), or a "
        "list of parameter mappings (one job each)")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def matrix_problems(matrix: object) -> list[tuple[tuple[object, ...], str]]:
    """What is wrong with a `matrix:` value: (where inside it, what) for each problem."""
    if isinstance(matrix, dict):
        if not matrix:
            return [((), f"'matrix' must be {RULE}, not an empty mapping")]
        out: list[tuple[tuple[object, ...], str]] = []
        for key, values in matrix.items():
            if not isinstance(key, str) or not key:
                out.append(((key,), f"matrix: a parameter name must be a non-empty string, "
                                    f"not {_show(key)}"))
            elif not isinstance(values, list):
                out.append(((key,), f"matrix: axis '{key}' must be a list of values, "
                                    f"not {_show(values)}"))
            elif not values:
                out.append(((key,), f"matrix: axis '{key}' is empty (give it at least one "
                                    "value, or leave it out)"))
        if not out:
            count = 1
            for values in matrix.values():
                count *= len(values)
            if count > MAX_JOBS:
                out.append(((), f"matrix: {count} jobs is more than {MAX_JOBS} in one build"))
        return out
    if isinstance(matrix, list):
        if not matrix:
            return [((), f"'matrix' must be {RULE}, not an empty list")]
        out = []
        for index, item in enumerate(matrix):
            if not isinstance(item, dict) or not item:
                out.append(((index,), f"matrix: job {index + 1} must be a mapping of parameter "
                                      f"names to values, not {_show(item)}"))
            elif not all(isinstance(k, str) and k for k in item):
                out.append(((index,), f"matrix: job {index + 1}: parameter names must be "
                                      "non-empty strings"))
        if len(matrix) > MAX_JOBS:
            out.append(((), f"matrix: {len(matrix)} jobs is more than {MAX_JOBS} in one build"))
        return out
    return [((), f"'matrix' must be {RULE}, not {_show(matrix)}")]


def expand(matrix: object) -> list[dict[str, Any]]:
    """The jobs' own parameters, in order (the last axis varies fastest); [{}] without a
    matrix: one job with the build's parameters alone. `matrix` has been checked."""
    if isinstance(matrix, dict):
        keys = list(matrix)
        return [dict(zip(keys, combination, strict=True))
                for combination in itertools.product(*(matrix[k] for k in keys))]
    if isinstance(matrix, list):
        return [dict(item) for item in matrix]
    return [{}]
