"""Exposure scenarios that rewrite a table of future windows.

Command-line syntax (``bayescount capacity --scenario ...``), one scenario per flag::

    traffic=1.3                      every row's exposure x 1.3
    new_region=eu-2,like=eu-1        add a region whose rows copy eu-1's (new labels)
    nodes=8                          every service spread over 8 nodes
    nodes=8,service=api              only service 'api'

New group labels are unseen by the model, so their effects are drawn from their
level's population distribution: a new region is forecast with the uncertainty of
"some region like the ones we have", not as a clone of ``like``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayescount.exceptions import ColumnNotFoundError, SpecError
from bayescount.prep.schema import CountSchema

__all__ = ["NewRegion", "NodeCount", "Scenario", "Traffic", "parse_scenario"]


def _exposure(schema: CountSchema, frame: pd.DataFrame) -> str:
    if schema.exposure is None:
        raise SpecError("Exposure scenarios need a model with an exposure column.")
    if schema.exposure not in frame:
        raise ColumnNotFoundError(
            f"Exposure column {schema.exposure!r} not in the base table {list(frame.columns)}."
        )
    return schema.exposure


@dataclass(frozen=True)
class Traffic:
    """Multiply every row's exposure by ``factor``."""

    factor: float
    label: str = ""

    def __post_init__(self) -> None:
        if not np.isfinite(self.factor) or self.factor <= 0:
            raise SpecError(f"traffic factor must be > 0, got {self.factor!r}.")
        if not self.label:
            object.__setattr__(self, "label", f"traffic={self.factor:g}")

    def apply(self, frame: pd.DataFrame, schema: CountSchema) -> pd.DataFrame:
        """Return the rewritten table."""
        col = _exposure(schema, frame)
        return frame.assign(**{col: frame[col].astype(float) * self.factor})


@dataclass(frozen=True)
class NewRegion:
    """Add a top-level group ``name`` whose rows copy those of ``like`` (inner labels prefixed)."""

    name: str
    like: str

    @property
    def label(self) -> str:
        """Scenario name."""
        return f"new_region={self.name},like={self.like}"

    def apply(self, frame: pd.DataFrame, schema: CountSchema) -> pd.DataFrame:
        """Return the rewritten table."""
        if not schema.groups:
            raise SpecError("new_region needs a model with group levels.")
        top = schema.groups[0]
        labels = frame[top].astype(str)
        if self.like not in set(labels):
            raise SpecError(f"like={self.like!r} is not a {top} in the base table; "
                            f"choose from {sorted(set(labels))[:10]}.")
        if self.name in set(labels):
            raise SpecError(f"new region {self.name!r} already exists in the base table.")
        copy = frame[labels == self.like].copy()
        copy[top] = self.name
        for inner in schema.groups[1:]:
            copy[inner] = self.name + "/" + copy[inner].astype(str)
        return pd.concat([frame, copy], ignore_index=True)


@dataclass(frozen=True)
class NodeCount:
    """Spread each service's exposure per window evenly over ``nodes`` nodes.

    Uses the innermost group level as nodes and the one above as services. Existing
    node labels are kept (in sorted order) and new ones named ``<service>/new<i>``.
    """

    nodes: int
    service: str | None = None

    def __post_init__(self) -> None:
        if int(self.nodes) != self.nodes or self.nodes < 1:
            raise SpecError(f"nodes must be a positive integer, got {self.nodes!r}.")

    @property
    def label(self) -> str:
        """Scenario name."""
        return f"nodes={self.nodes}" + (f",service={self.service}" if self.service else "")

    def apply(self, frame: pd.DataFrame, schema: CountSchema) -> pd.DataFrame:
        """Return the rewritten table."""
        if len(schema.groups) < 2:
            raise SpecError("nodes=N needs at least two group levels (service, node).")
        col = _exposure(schema, frame)
        parent, node = schema.groups[-2], schema.groups[-1]
        chosen = frame[parent].astype(str) == self.service if self.service else (
            pd.Series(True, index=frame.index))
        if self.service and not chosen.any():
            raise SpecError(f"service={self.service!r} is not a {parent} in the base table.")
        keys = [c for c in [*schema.groups[:-1], schema.time] if c]
        out = []
        for _, part in frame[chosen].groupby(keys, sort=False):
            svc = str(part[parent].iloc[0])
            old = sorted(part[node].astype(str).unique())
            names = (old + [f"{svc}/new{i}" for i in range(self.nodes - len(old))])[: self.nodes]
            base = part.iloc[[0] * self.nodes].copy()
            base[node] = names
            base[col] = float(part[col].sum()) / self.nodes
            out.append(base)
        return pd.concat([frame[~chosen], *out], ignore_index=True)


Scenario = Traffic | NewRegion | NodeCount


def parse_scenario(text: str) -> Scenario:
    """Parse ``traffic=1.3``, ``new_region=NAME,like=EXISTING`` or ``nodes=N[,service=S]``."""
    items = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not value.strip():
            raise SpecError(f"Cannot read scenario {text!r}: write key=value pairs, e.g. "
                            "'traffic=1.3', 'new_region=eu-2,like=eu-1' or 'nodes=8'.")
        items[key.strip()] = value.strip()
    kind = next(iter(items))
    try:
        if kind == "traffic" and len(items) == 1:
            return Traffic(float(items["traffic"]))
        if kind == "new_region" and set(items) == {"new_region", "like"}:
            return NewRegion(items["new_region"], items["like"])
        if kind == "nodes" and set(items) <= {"nodes", "service"}:
            return NodeCount(int(items["nodes"]), items.get("service"))
    except ValueError:
        raise SpecError(f"Scenario {text!r}: the value of {kind!r} must be a number.") from None
    raise SpecError(f"Unknown scenario {text!r}; use 'traffic=K', 'new_region=NAME,like=REGION' "
                    "or 'nodes=N[,service=SERVICE]'.")
