"""Helpers shared by the command modules: argument types and JSON output.

One copy of each, so every command parses an integer, a level or a bounded number
and prints JSON the same way.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Range",
    "int_at_least",
    "number_in",
    "parse_levels",
    "parse_quantiles",
    "positive_int",
    "print_json",
    "seed",
]


# ------------------------------------------------------------------------ numbers
@dataclass(frozen=True)
class Range:
    """The values a numeric argument accepts; argparse types carry theirs as ``.range``.

    ``low``/``high`` may be infinite (no bound); ``closed_*`` say whether the bound
    itself is accepted. Non-finite values are never accepted.
    """

    low: float = -math.inf
    high: float = math.inf
    closed_low: bool = True
    closed_high: bool = True
    integer: bool = False

    def __contains__(self, value: float) -> bool:
        above = self.low <= value if self.closed_low else self.low < value
        below = value <= self.high if self.closed_high else value < self.high
        return math.isfinite(value) and above and below

    def describe(self) -> str:
        """Return ``"must be >= 1"``, ``"must be > 0"``, ``"must lie in (0, 1]"``..."""
        low, high = _show(self.low), _show(self.high)
        if math.isinf(self.high):
            return f"must be {'>=' if self.closed_low else '>'} {low}"
        if math.isinf(self.low):
            return f"must be {'<=' if self.closed_high else '<'} {high}"
        left, right = "[" if self.closed_low else "(", "]" if self.closed_high else ")"
        return f"must lie in {left}{low}, {high}{right}"


def _show(bound: float) -> str:
    """Write a bound: whole numbers in full (4294967295), others with ``:g``."""
    return str(int(bound)) if math.isfinite(bound) and bound == int(bound) else f"{bound:g}"


def _typed(parse: Callable[[str], Any], name: str, accepted: Range) -> Callable[[str], Any]:
    parse.__name__ = name
    parse.range = accepted  # type: ignore[attr-defined]
    return parse


def int_at_least(
    low: int, high: float = math.inf, *, name: str = "integer"
) -> Callable[[str], int]:
    """Return an argparse type accepting integers in ``[low, high]``.

    Parameters
    ----------
    low : int
        Smallest accepted value.
    high : float
        Largest accepted value (``inf``: no bound).
    name : str
        The type's name in argparse messages.

    Returns
    -------
    callable
        ``str -> int``; raises :class:`argparse.ArgumentTypeError` (argparse then
        prints ``bayescount: error: ...`` and exits 2) for text that is no integer
        or lies outside the range.
    """
    accepted = Range(low, high, integer=True)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value not in accepted:
            raise argparse.ArgumentTypeError(f"{accepted.describe()}, got {value}")
        return value

    return _typed(parse, name, accepted)


#: argparse type of counts such as ``--origins`` or ``--draws``: integers >= 1.
positive_int = int_at_least(1)

#: argparse type of random seeds: integers in [0, 2**32 - 1], which NumPy, PyMC and
#: nutpie all accept.
seed = int_at_least(0, 2**32 - 1, name="seed")


def _number(text: str) -> float:
    """``float(text)``, or an argparse error naming ``text``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def number_in(
    low: float, high: float, *, closed_low: bool = False, closed_high: bool = False
) -> Callable[[str], float]:
    """Return an argparse type accepting finite numbers in ``(low, high)``.

    Parameters
    ----------
    low, high : float
        The bounds.
    closed_low, closed_high : bool
        Include the bound itself.

    Returns
    -------
    callable
        ``str -> float``; raises :class:`argparse.ArgumentTypeError` for text that
        is no number, not finite or out of range.
    """
    accepted = Range(low, high, closed_low, closed_high)

    def parse(text: str) -> float:
        value = _number(text)
        if value not in accepted:
            raise argparse.ArgumentTypeError(f"{accepted.describe()}, got {text}")
        return value

    return _typed(parse, "number", accepted)


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
    """Parse ``"0.5,0.8,0.9"``: distinct probabilities strictly between 0 and 1.

    Parameters
    ----------
    text : str
        Comma-separated interval probabilities.

    Returns
    -------
    tuple of float

    Raises
    ------
    argparse.ArgumentTypeError
        An item that is no number, outside (0, 1), or repeated.
    """
    return _probabilities(
        text,
        "level",
        lambda level: 0 < level < 1,
        not_a_number="not a number; give levels such as '0.5,0.8,0.9'",
        outside="not strictly between 0 and 1",
    )


def parse_quantiles(text: str) -> tuple[float, ...]:
    """Parse ``"0.05,0.5,0.95"``: distinct numbers in [0, 1], at least one.

    Parameters
    ----------
    text : str
        Comma-separated quantile probabilities.

    Returns
    -------
    tuple of float

    Raises
    ------
    argparse.ArgumentTypeError
        No item, an item that is no number, outside [0, 1], or repeated.
    """
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
def print_json(doc: Mapping[str, Any]) -> None:
    """Print ``doc`` as indented strict JSON (numpy scalars unwrapped, NaN as ``null``).

    Parameters
    ----------
    doc : mapping
        Made JSON-safe by :func:`bayescount.results.json_safe`.
    """
    from bayescount.results import json_safe

    print(json.dumps(json_safe(doc), indent=2, default=json_safe, allow_nan=False))
