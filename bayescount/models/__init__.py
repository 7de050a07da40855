"""Frozen model specifications, priors and the pure builder ``(spec, data) -> pm.Model``."""

from bayescount.models.builder import build_model, variable_names
from bayescount.models.parameterization import choose_parameterization, information_per_group
from bayescount.models.priors import (
    Beta,
    Exponential,
    HalfNormal,
    HalfStudentT,
    Normal,
    Prior,
    Priors,
    StudentT,
    prior_from_dict,
)
from bayescount.models.spec import FAMILIES, LATENT_KINDS, PARAMETERIZATIONS, ModelSpec, as_spec
from bayescount.models.zerosum import ZeroSumLayout

__all__ = [
    "Beta",
    "Exponential",
    "FAMILIES",
    "HalfNormal",
    "HalfStudentT",
    "LATENT_KINDS",
    "ModelSpec",
    "Normal",
    "PARAMETERIZATIONS",
    "Prior",
    "Priors",
    "StudentT",
    "ZeroSumLayout",
    "as_spec",
    "build_model",
    "choose_parameterization",
    "information_per_group",
    "prior_from_dict",
    "variable_names",
]
