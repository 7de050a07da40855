"""Encode a validated count table into arrays a model builder consumes.

:class:`Design` is fitted once on the training data (group levels, covariate
scaling, reference levels, seasonality) and then transforms training and new data
the same way. It is plain data: it serialises to JSON and travels with a saved fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayescount.exceptions import (
    ColumnNotFoundError,
    DataError,
    LevelNotFoundError,
    NestingError,
    UnknownGroupError,
)
from bayescount.prep.design_checks import check_training_design, warn_prediction
from bayescount.prep.prepared import PreparedData
from bayescount.prep.schema import CountSchema
from bayescount.prep.seasonality import (
    Seasonality,
    fourier_center,
    fourier_features,
    information_weights,
)
from bayescount.prep.timegrid import TimeGrid

__all__ = ["CovariateEncoding", "Design", "GroupLevel", "PreparedData"]


@dataclass(frozen=True)
class GroupLevel:
    """One grouping factor: its labels and, when nested, each label's parent.

    Labels of a nested level are ordered by parent, so each parent's children are
    contiguous; ``parent_index[i]`` is the position of label ``i``'s parent in the
    parent level's labels (all zeros for a top-level or crossed factor).

    Attributes
    ----------
    name : str
        The group column.
    labels : tuple of str
        The fitted labels, as text; dim ``<name>`` of the posterior effects.
    parent : str or None
        The parent level of a nested factor.
    parent_index : tuple of int
        Per label, the position of its parent among the parent level's labels.
    """

    name: str
    labels: tuple[str, ...]
    parent: str | None = None
    parent_index: tuple[int, ...] = ()

    @property
    def n_parents(self) -> int:
        """Number of parent groups (1 for a top-level or crossed factor)."""
        return max(self.parent_index, default=-1) + 1


@dataclass(frozen=True)
class CovariateEncoding:
    """How one covariate column becomes design columns.

    Numeric: ``(x - mean) / scale``; ``low`` and ``high`` are the training range
    (``None`` in designs saved before it was stored). Categorical: one indicator per
    level except ``reference``.

    Attributes
    ----------
    name : str
        The covariate column.
    kind : {"numeric", "categorical"}
        How it is encoded.
    mean, scale : float
        Numeric: training mean and standard deviation (1 when constant), in the
        column's units; a coefficient is per standard deviation.
    levels : tuple of str
        Categorical: the training levels, sorted.
    reference : str or None
        Categorical: the baseline level (the most frequent; ties by label).
    low, high : float or None
        Numeric: training minimum and maximum.
    """

    name: str
    kind: str  # "numeric" | "categorical"
    mean: float = 0.0
    scale: float = 1.0
    levels: tuple[str, ...] = ()
    reference: str | None = None
    low: float | None = None
    high: float | None = None

    @property
    def terms(self) -> list[str]:
        """Design column names of this covariate."""
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}[{lvl}]" for lvl in self.levels if lvl != self.reference]

    def encode(self, values: pd.Series) -> np.ndarray:
        """Return the ``(n, len(terms))`` design block for ``values``.

        Parameters
        ----------
        values : pandas.Series
            The covariate column, dim ``obs`` (length ``n``).

        Returns
        -------
        numpy.ndarray
            Shape ``(n, len(terms))``: standardised values, or 0/1 indicators.

        Raises
        ------
        DataError
            A categorical level not seen when fitting.
        """
        if self.kind == "numeric":
            return ((values.to_numpy(dtype=float) - self.mean) / self.scale)[:, None]
        labels = values.astype(str).to_numpy()
        unknown = sorted(set(labels) - set(self.levels))
        if unknown:
            raise DataError(
                f"Covariate {self.name!r} has level(s) {unknown[:5]} not seen when fitting "
                f"(known: {list(self.levels)}). Map them to a known level first."
            )
        kept = [lvl for lvl in self.levels if lvl != self.reference]
        return np.column_stack([labels == lvl for lvl in kept]).astype(float) if kept else (
            np.zeros((len(labels), 0))
        )


@dataclass(frozen=True)
class Design:
    """Fitted encoding of a count table (see module docstring); built by :meth:`fit`.

    Attributes
    ----------
    schema : CountSchema
        The columns.
    levels : tuple of GroupLevel
        The group levels, in schema order.
    encodings : tuple of CovariateEncoding
        One per main-effect covariate.
    seasonality : tuple of Seasonality
        The Fourier components.
    pooled_log_rate : float
        ``log(sum(counts) / sum(exposure))`` of the training rows (events per
        exposure unit; half a count when all are zero); the intercept prior is
        centered on it.
    reference_exposure : float
        Median training exposure (exposure units); the reference of
        ``dispersion_scales_with_exposure``.
    time_grid : TimeGrid or None
        The regular time grid of a latent level.
    fourier_center : tuple of float
        Dim ``fourier_term``: subtracted from every row's Fourier features (their
        information-weighted training mean, :func:`~bayescount.prep.seasonality.fourier_center`),
        so the intercept is the log rate at the training data's average seasonal phase.
        Empty (no centring) in designs saved before it was stored.
    """

    schema: CountSchema
    levels: tuple[GroupLevel, ...]
    encodings: tuple[CovariateEncoding, ...]
    seasonality: tuple[Seasonality, ...]
    pooled_log_rate: float
    reference_exposure: float
    time_grid: TimeGrid | None = None
    fourier_center: tuple[float, ...] = ()

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        schema: CountSchema,
        seasonality: tuple[Seasonality, ...] = (),
        *,
        time_grid: bool = False,
    ) -> Design:
        """Learn levels, scalings and rates from a validated training frame.

        ``time_grid=True`` also fits the regular grid of the time column (needed by a
        latent time-varying level).

        Parameters
        ----------
        frame : pandas.DataFrame
            Validated training rows (:func:`~bayescount.validate_frame`).
        schema : CountSchema
            The columns.
        seasonality : tuple of Seasonality
            Fourier components (need the time column).
        time_grid : bool
            Also fit the regular time grid (a latent level needs it).

        Returns
        -------
        Design

        Raises
        ------
        DataError
            Seasonality or a time grid without a time column.
        NestingError
            A nested label under two parents.
        DesignError
            Coefficients the rows cannot identify (constant or collinear covariates,
            a level with one label, seasonality at the sampling step; see
            :func:`~bayescount.prep.design_checks.check_training_design`).
        TimestampError
            An irregular time column for the time grid.
        """
        if (seasonality or time_grid) and schema.time is None:
            what = "Seasonality" if seasonality else "A time grid"
            raise DataError(f"{what} needs a time column: set the schema's `time`.")
        levels = _fit_levels(frame, schema)
        encodings = tuple(_fit_encoding(frame[c]) for c in schema.main_covariates)
        exposure = _exposure(frame, schema)
        total = float(frame[schema.counts].sum())
        # Half a count keeps the log finite when every count is zero.
        pooled = np.log(max(total, 0.5) / exposure.sum())
        center = ()
        if seasonality:
            weights = information_weights(frame[schema.counts].to_numpy(float), exposure)
            features = fourier_features(frame[schema.time], tuple(seasonality))
            center = tuple(float(c) for c in fourier_center(features, weights))
        design = cls(
            schema=schema,
            levels=levels,
            encodings=encodings,
            seasonality=tuple(seasonality),
            pooled_log_rate=float(pooled),
            reference_exposure=float(np.median(exposure)),
            time_grid=TimeGrid.fit(frame[schema.time]) if time_grid else None,
            fourier_center=center,
        )
        check_training_design(design, frame)
        return design

    # ---------------------------------------------------------------- transform
    @property
    def covariate_terms(self) -> list[str]:
        """Names of the covariate design columns (main effects, then interactions)."""
        by_name = {e.name: e for e in self.encodings}
        terms: list[str] = []
        for term in self.schema.covariates:
            parts = term.split(":")
            if len(parts) == 1:
                terms.extend(by_name[term].terms)
            else:
                a, b = (by_name[p].terms for p in parts)
                terms.extend(f"{x}:{y}" for x in a for y in b)
        return terms

    @property
    def fourier_terms(self) -> list[str]:
        """Names of the Fourier design columns."""
        return [t for comp in self.seasonality for t in comp.terms]

    def fourier(self, time: pd.Series) -> np.ndarray:
        """Return the centred Fourier features of ``time`` (what the model multiplies).

        Parameters
        ----------
        time : pandas.Series
            Parsed timestamps, dim ``obs``.

        Returns
        -------
        numpy.ndarray
            Shape ``(obs, fourier_term)``: :func:`~bayescount.prep.seasonality.fourier_features`
            less :attr:`fourier_center`.
        """
        features = fourier_features(time, self.seasonality)
        if self.fourier_center:
            features = features - np.asarray(self.fourier_center)
        return features

    @property
    def uses_time(self) -> bool:
        """Whether encoding rows needs their time (seasonality or a time grid)."""
        return bool(self.seasonality) or self.time_grid is not None

    def level(self, name: str) -> GroupLevel:
        """Return the group level called ``name``.

        Parameters
        ----------
        name : str
            A group column of the schema.

        Returns
        -------
        GroupLevel

        Raises
        ------
        KeyError
            No level of that name (the message lists the levels).
        """
        for lvl in self.levels:
            if lvl.name == name:
                return lvl
        raise LevelNotFoundError(
            f"No group level {name!r}; levels are {[lv.name for lv in self.levels]}."
        )

    def transform(self, frame: pd.DataFrame, *, for_prediction: bool = False) -> PreparedData:
        """Encode a validated frame with the fitted scalings and levels.

        With ``for_prediction`` the time column may be absent when the design does not
        use it (:attr:`uses_time`), and rows that extrapolate (a numeric covariate far
        outside its training range, a new label of a single-label level) warn with
        :class:`~bayescount.exceptions.DataWarning`; see
        :func:`~bayescount.prep.design_checks.warn_prediction`.

        Parameters
        ----------
        frame : pandas.DataFrame
            Validated rows (:func:`~bayescount.validate_frame`).
        for_prediction : bool
            Encode rows to predict: counts optional, unseen labels allowed (coded past
            the fitted ones, listed in ``new_labels``).

        Returns
        -------
        PreparedData
            The encoded rows, dim ``obs`` in ``frame``'s order.

        Raises
        ------
        DataError
            No counts column when fitting, or an unseen categorical covariate level.
        ColumnNotFoundError
            No time column when the design uses time.
        UnknownGroupError
            Unseen labels when fitting, or a nested label under another parent.
        TimestampError
            Times off the time grid's step.
        """
        schema = self.schema
        counts = None
        if schema.counts in frame:
            counts = frame[schema.counts].to_numpy(dtype=np.int64)
        elif not for_prediction:
            raise DataError(f"Counts column {schema.counts!r} is required to fit.")
        codes, new = self._group_codes(frame, for_prediction)
        time = frame[schema.time] if schema.time and schema.time in frame else None
        if time is None and self.uses_time:
            raise ColumnNotFoundError(
                f"Time column {schema.time!r} not in the data: the model's seasonality or "
                "latent level needs each row's time."
            )
        if for_prediction:
            warn_prediction(self, frame, new)
        return PreparedData(
            index=frame.index,
            counts=counts,
            exposure=_exposure(frame, schema),
            covariates=self._covariate_matrix(frame),
            fourier=(
                self.fourier(time)
                if time is not None
                else np.zeros((len(frame), 0))
            ),
            group_codes=codes,
            new_labels=new,
            time_steps=self.time_grid.steps(time) if self.time_grid is not None else None,
        )

    def _covariate_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = {e.name: e.encode(frame[e.name]) for e in self.encodings}
        cols = []
        for term in self.schema.covariates:
            parts = term.split(":")
            if len(parts) == 1:
                cols.append(blocks[term])
            else:
                a, b = (blocks[p] for p in parts)
                cols.append(np.einsum("ni,nj->nij", a, b).reshape(len(frame), -1))
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    def _group_codes(
        self, frame: pd.DataFrame, for_prediction: bool
    ) -> tuple[dict[str, np.ndarray], dict[str, tuple[str, ...]]]:
        codes: dict[str, np.ndarray] = {}
        new: dict[str, tuple[str, ...]] = {}
        for depth, lvl in enumerate(self.levels):
            labels = frame[lvl.name].astype(str).to_numpy()
            known = {lab: i for i, lab in enumerate(lvl.labels)}
            unseen = tuple(sorted(set(labels) - known.keys()))
            if unseen and not for_prediction:
                raise UnknownGroupError(f"Labels {unseen[:5]} of {lvl.name!r} were not fitted.")
            if lvl.parent is not None:
                self._check_nesting(frame, depth, labels, known)
            lookup = {**known, **{lab: len(lvl.labels) + i for i, lab in enumerate(unseen)}}
            codes[lvl.name] = np.fromiter((lookup[x] for x in labels), np.int64, len(labels))
            if unseen:
                new[lvl.name] = unseen
        return codes, new

    def _check_nesting(
        self, frame: pd.DataFrame, depth: int, labels: np.ndarray, known: dict[str, int]
    ) -> None:
        lvl = self.levels[depth]
        parent = self.levels[depth - 1]
        parents = frame[parent.name].astype(str).to_numpy()
        fitted_parent = np.array([parent.labels[i] for i in lvl.parent_index], dtype=object)
        bad = sorted(
            {
                (child, par, fitted_parent[known[child]])
                for child, par in zip(labels, parents, strict=True)
                if child in known and fitted_parent[known[child]] != par
            }
        )
        if bad:
            shown = ", ".join(f"{c!r} under {p!r} (fitted under {q!r})" for c, p, q in bad[:5])
            raise UnknownGroupError(
                f"Nesting is strict: {len(bad)} {lvl.name} label(s) appear under another "
                f"{parent.name} than when fitted: {shown}. Give them distinct labels."
            )

    # ------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "schema": self.schema.to_dict(),
            "levels": [
                {
                    "name": lv.name,
                    "labels": list(lv.labels),
                    "parent": lv.parent,
                    "parent_index": list(lv.parent_index),
                }
                for lv in self.levels
            ],
            "encodings": [
                {
                    "name": e.name,
                    "kind": e.kind,
                    "mean": e.mean,
                    "scale": e.scale,
                    "levels": list(e.levels),
                    "reference": e.reference,
                    "low": e.low,
                    "high": e.high,
                }
                for e in self.encodings
            ],
            "seasonality": [
                {"name": s.name, "period_days": s.period_days, "order": s.order}
                for s in self.seasonality
            ],
            "pooled_log_rate": self.pooled_log_rate,
            "reference_exposure": self.reference_exposure,
            "time_grid": self.time_grid.to_dict() if self.time_grid is not None else None,
            "fourier_center": list(self.fourier_center),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Design:
        """Rebuild a design from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            The output of :meth:`to_dict` (``low``, ``high``, ``time_grid`` and
            ``fourier_center`` optional, for older files).

        Returns
        -------
        Design
        """
        return cls(
            schema=CountSchema.from_dict(d["schema"]),
            levels=tuple(
                GroupLevel(
                    lv["name"], tuple(lv["labels"]), lv["parent"], tuple(lv["parent_index"])
                )
                for lv in d["levels"]
            ),
            encodings=tuple(
                CovariateEncoding(
                    e["name"],
                    e["kind"],
                    e["mean"],
                    e["scale"],
                    tuple(e["levels"]),
                    e["reference"],
                    e.get("low"),
                    e.get("high"),
                )
                for e in d["encodings"]
            ),
            seasonality=tuple(Seasonality(**s) for s in d["seasonality"]),
            pooled_log_rate=d["pooled_log_rate"],
            reference_exposure=d["reference_exposure"],
            time_grid=TimeGrid.from_dict(d["time_grid"]) if d.get("time_grid") else None,
            fourier_center=tuple(float(c) for c in d.get("fourier_center", ())),
        )


def _exposure(frame: pd.DataFrame, schema: CountSchema) -> np.ndarray:
    if schema.exposure is None:
        return np.ones(len(frame))
    return frame[schema.exposure].to_numpy(dtype=float)


def _fit_encoding(values: pd.Series) -> CovariateEncoding:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.to_numpy(dtype=float)
        scale = float(x.std())
        return CovariateEncoding(
            values.name,
            "numeric",
            mean=float(x.mean()),
            scale=scale if scale > 0 else 1.0,
            low=float(x.min()),
            high=float(x.max()),
        )
    labels = values.astype(str)
    counts = labels.value_counts()
    # Reference level: the most frequent one (ties broken by label), a stable baseline.
    reference = sorted(counts.index, key=lambda lab: (-counts[lab], lab))[0]
    return CovariateEncoding(
        values.name, "categorical", levels=tuple(sorted(counts.index)), reference=reference
    )


def _fit_levels(frame: pd.DataFrame, schema: CountSchema) -> tuple[GroupLevel, ...]:
    levels: list[GroupLevel] = []
    for depth, name in enumerate(schema.groups):
        labels = frame[name].astype(str)
        if schema.nesting == "crossed" or depth == 0:
            uniq = tuple(sorted(labels.unique()))
            levels.append(GroupLevel(name, uniq, None, (0,) * len(uniq)))
            continue
        parent = levels[-1]
        pairs = pd.DataFrame({"child": labels, "parent": frame[parent.name].astype(str)})
        pairs = pairs.drop_duplicates()
        if pairs["child"].duplicated().any():
            dup = pairs[pairs["child"].duplicated(keep=False)].sort_values("child")
            raise NestingError(
                f"{name!r} labels must each sit under one {parent.name!r}; "
                f"{dup['child'].nunique()} do not, e.g. {dup.head(4).to_dict('records')}. "
                f"Make them unique, e.g. '{parent.name}/{name}', or use crossed groups."
            )
        pos = {lab: i for i, lab in enumerate(parent.labels)}
        pairs = pairs.assign(p=pairs["parent"].map(pos)).sort_values(["p", "child"])
        levels.append(
            GroupLevel(
                name,
                tuple(pairs["child"]),
                parent.name,
                tuple(int(i) for i in pairs["p"]),
            )
        )
    return tuple(levels)
