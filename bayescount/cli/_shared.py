"""Helpers shared by the command modules: argument types and JSON output.

One copy of each, so every command parses an integer, a level or a bounded number
and prints JSON the same way.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from bayescount.checks._display import json_number

__all__ = [
    "finite_number",
    "int_at_least",
    "number_in",
    "parse_levels",
    "parse_quantiles",
    "positive_int",
    "print_json",
    "time_zone",
]


# ------------------------------------------------------------------------ numbers
def int_at_least(low: int) -> Callable[[str], int]:
    """Return an argparse type accepting integers >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


#: argparse type of counts such as ``--origins`` or ``--draws``: integers >= 1.
positive_int = int_at_least(1)


def _number(text: str) -> float:
    """``float(text)``, or an argparse error naming ``text``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def finite_number(text: str) -> float:
    """Parse any finite number (argparse type; range checks are left to the library)."""
    value = _number(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def number_in(low: float, high: float, *, closed_low: bool = False) -> Callable[[str], float]:
    """Return an argparse type accepting finite numbers in ``(low, high)``.

    With ``closed_low`` the interval includes ``low``.
    """

    def parse(text: str) -> float:
        value = _number(text)
        ok = (low <= value if closed_low else low < value) and value < high
        if not (math.isfinite(value) and ok):
            raise argparse.ArgumentTypeError(f"must lie in ({low:g}, {high:g}), got {text}")
        return value

    parse.__name__ = "number"
    return parse


def time_zone(text: str) -> str:
    """Parse an IANA time zone name such as ``Europe/Paris`` (argparse type)."""
    from bayescount.exceptions import SpecError
    from bayescount.prep.timestamps import check_timezone

    try:
        return check_timezone(text)
    except SpecError as err:
        raise argparse.ArgumentTypeError(str(err).rstrip(".")) from None


time_zone.__name__ = "time zone"


# ------------------------------------------------------------ lists of probabilities
def _probabilities(
    text: str, noun: str, inside: Callable[[float], bool], not_a_number: str, outside: str
) -> tuple[float, ...]:
    """Parse comma-separated distinct numbers for which ``inside`` holds.

    An item that is no number is reported as ``"'x' in 'text' is <not_a_number>"``,
    one outside the range as ``"'x' in 'text' is <outside>"``; a repeat names ``noun``.
    """
    out = []
    for item in (s.strip() for s in text.split(",")):
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is {not_a_number}") from None
        if not inside(value):  # also rejects NaN
            raise argparse.ArgumentTypeError(f"{item!r} in {text!r} is {outside}")
        out.append(value)
    if len(set(out)) != len(out):
        raise argparse.ArgumentTypeError(f"{text!r} repeats a {noun}")
    return tuple(out)


def parse_levels(text: str) -> tuple[float, ...]:
    """Parse ``"0.5,0.8,0.9"``: distinct probabilities strictly between 0 and 1."""
    return _probabilities(
        text,
        "level",
        lambda level: 0 < level < 1,
        not_a_number="not a number; give levels such as '0.5,0.8,0.9'",
        outside="not strictly between 0 and 1",
    )


def parse_quantiles(text: str) -> tuple[float, ...]:
    """Parse ``"0.05,0.5,0.95"``: distinct numbers in [0, 1], at least one."""
    if not any(item.strip() for item in text.split(",")):
        raise argparse.ArgumentTypeError("give at least one quantile, e.g. '0.05,0.5,0.95'")
    return _probabilities(
        text,
        "quantile",
        lambda q: 0 <= q <= 1,
        not_a_number="not a number; give comma-separated levels in [0, 1], e.g. "
        "'0.05,0.5,0.95'",
        outside="outside [0, 1]; quantile levels are probabilities",
    )


# --------------------------------------------------------------------------- JSON
def _strict(value: Any) -> Any:
    """``value`` with numpy scalars unwrapped and NaN and infinities as ``None``, recursively."""
    if isinstance(value, Mapping):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(item) for item in value]
    return json_number(value)


def print_json(doc: Mapping[str, Any]) -> None:
    """Print ``doc`` as indented strict JSON (numpy scalars unwrapped, NaN as ``null``)."""
    print(json.dumps(_strict(doc), indent=2, default=json_number, allow_nan=False))
