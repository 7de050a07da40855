"""Helpers shared by the command modules: argument types and JSON output.

One copy of each, so every command parses a level or a bounded number and prints
JSON the same way.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from bayescount.checks._display import json_number

__all__ = ["number_in", "parse_levels", "print_json"]


def number_in(low: float, high: float, *, closed_low: bool = False) -> Callable[[str], float]:
    """Return an argparse type accepting finite numbers in ``(low, high)``.

    With ``closed_low`` the interval includes ``low``.
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = (low <= value if closed_low else low < value) and value < high
        if not (math.isfinite(value) and ok):
            raise argparse.ArgumentTypeError(f"must lie in ({low:g}, {high:g}), got {text}")
        return value

    parse.__name__ = "number"
    return parse


def parse_levels(text: str) -> tuple[float, ...]:
    """Parse ``"0.5,0.8,0.9"``: distinct probabilities strictly between 0 and 1."""
    out = []
    for item in (s.strip() for s in text.split(",")):
        try:
            level = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not a number; give levels such as '0.5,0.8,0.9'"
            ) from None
        if not 0 < level < 1:
            raise argparse.ArgumentTypeError(
                f"{item!r} in {text!r} is not strictly between 0 and 1"
            )
        out.append(level)
    if len(set(out)) != len(out):
        raise argparse.ArgumentTypeError(f"{text!r} repeats a level")
    return tuple(out)


def print_json(doc: Mapping[str, Any]) -> None:
    """Print ``doc`` as indented strict JSON (numpy scalars unwrapped, no NaN)."""
    print(json.dumps(doc, indent=2, default=json_number, allow_nan=False))
