"""The data contract: which column holds what."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bayescount.exceptions import SpecError
from bayescount.prep.timestamps import check_timezone

__all__ = ["MAX_COUNT", "CountSchema"]

#: Largest count bayescount accepts: 2**53, the largest integer float64 holds exactly.
#: Counts enter the model's data as float64 (PyMC would store them as int32, which
#: wraps counts of 2**31 and more without a word).
MAX_COUNT = 2**53

Nesting = Literal["nested", "crossed"]


@dataclass(frozen=True)
class CountSchema:
    """Names the columns of a count table.

    Parameters
    ----------
    counts : str
        Column of non-negative integer counts (errors, restarts, alerts...).
    exposure : str or None
        Column of the exposure each count was observed over (requests served,
        node-seconds, window length). Required: pass ``None`` explicitly to model
        counts without exposure (every row then has exposure 1).
    exposure_unit : str, optional
        Human-readable unit of the exposure (``"requests"``, ``"node-hours"``); used
        in reports and to label rates.
    time : str, optional
        Timestamp column. Needed for seasonality, duplicate detection per series,
        and time-based splits.
    groups : tuple of str
        Grouping columns, outer to inner when ``nesting="nested"``
        (``("region", "service", "node")``).
    nesting : {"nested", "crossed"}
        ``"nested"``: each inner label belongs to exactly one outer label and its
        effect is centered on its parent's. ``"crossed"``: independent factors.
    covariates : tuple of str
        Covariate columns. Numeric columns are standardised; string, boolean or
        categorical columns are one-hot encoded against a reference level.
        ``"a:b"`` names the product (interaction) of two covariates.
    timezone : str, optional
        IANA time zone (``"Europe/Paris"``) in which *naive* timestamps of ``time``
        were written: they are localised to it and converted to UTC, here and in
        every table later validated against this schema (new rows to predict
        included). A local time repeated or skipped by a daylight-saving change is
        refused, naming its rows. Timestamps with an explicit offset or zone are
        instants already and are converted to UTC whatever ``timezone`` says.
    """

    counts: str
    exposure: str | None
    exposure_unit: str = ""
    time: str | None = None
    groups: tuple[str, ...] = ()
    nesting: Nesting = "nested"
    covariates: tuple[str, ...] = field(default=())
    timezone: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "covariates", tuple(self.covariates))
        if not isinstance(self.counts, str) or not self.counts:
            raise SpecError(f"counts must name a column, got {self.counts!r}.")
        if self.nesting not in ("nested", "crossed"):
            raise SpecError(
                f"nesting must be 'nested' or 'crossed', got {self.nesting!r}."
            )
        if self.timezone is not None:
            check_timezone(self.timezone)
        if len(set(self.groups)) != len(self.groups):
            raise SpecError(f"groups repeat a column: {list(self.groups)}.")
        roles = {"counts": self.counts, "exposure": self.exposure, "time": self.time}
        roles |= {f"group {g!r}": g for g in self.groups}
        seen: dict[str, str] = {}
        for role, column in roles.items():
            if column is None:
                continue
            if column in seen:
                hint = (
                    " Exposure is what the counts were observed over (requests served, "
                    "node-hours), not the counts themselves."
                    if role == "exposure"
                    else ""
                )
                raise SpecError(
                    f"Column {column!r} is named as both {seen[column]} and {role}; each "
                    f"role needs its own column.{hint}"
                )
            seen[column] = role
        used = [self.counts, self.exposure, self.time, *self.groups]
        terms = [":".join(sorted(t.split(":"))) for t in self.covariates]
        repeated = sorted({t for t, k in zip(self.covariates, terms, strict=True)
                           if terms.count(k) > 1})
        if repeated:
            raise SpecError(f"covariates repeat a term: {repeated} (a:b and b:a are the same).")
        for term in self.covariates:
            for part in term.split(":"):
                if part in used:
                    raise SpecError(
                        f"covariate {term!r} uses column {part!r}, which already serves "
                        "as counts, exposure, time or a group."
                    )
            if term.count(":") > 1:
                raise SpecError(
                    f"covariate {term!r}: only two-way interactions 'a:b' are supported."
                )

    @property
    def main_covariates(self) -> tuple[str, ...]:
        """Covariate columns used on their own or inside interactions, in order."""
        seen: dict[str, None] = {}
        for term in self.covariates:
            for part in term.split(":"):
                seen[part] = None
        return tuple(seen)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column this schema reads."""
        cols = [self.counts, self.exposure, self.time, *self.groups, *self.main_covariates]
        return tuple(c for c in cols if c is not None)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        d = asdict(self)
        d["groups"] = list(self.groups)
        d["covariates"] = list(self.covariates)
        if self.timezone is None:  # as before time zones: same JSON and hash, older readers
            del d["timezone"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CountSchema:
        """Rebuild a schema from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            The output of :meth:`to_dict` (``timezone`` optional).

        Returns
        -------
        CountSchema

        Raises
        ------
        SpecError
            The stored options are invalid.
        """
        return cls(**{**d, "groups": tuple(d["groups"]), "covariates": tuple(d["covariates"])})

    def to_json(self) -> str:
        """Return the schema as canonical JSON."""
        return json.dumps(self.to_dict(), sort_keys=True)
