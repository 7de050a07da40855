"""``fit``, ``summary`` and ``predict`` commands (placeholder until written)."""

from __future__ import annotations


def register(sub) -> None:
    """Add this module's subcommands to ``sub``."""
