"""Priors and ModelSpec: validation with helpful errors, JSON round trips, stable hash."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayescount import (
    Beta,
    Exponential,
    HalfNormal,
    HalfStudentT,
    ModelSpec,
    Normal,
    Priors,
    SpecError,
    StudentT,
)
from bayescount.models import FAMILIES, prior_from_dict
from bayescount.prep import CountSchema, Seasonality

SCHEMA = CountSchema(
    "errors", "requests", time="timestamp", groups=("region", "service", "node"),
    covariates=("load",),
)

# ------------------------------------------------------------------ priors


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Normal(0.0, -1.0), "sigma"),
        (lambda: Normal(0.0, 0.0), "sigma"),
        (lambda: Normal(math.nan, 1.0), "mu"),
        (lambda: Normal(0.0, math.inf), "sigma"),
        (lambda: StudentT(nu=-3.0), "nu"),
        (lambda: HalfNormal(-2.0), "sigma"),
        (lambda: HalfStudentT(3.0, 0.0), "sigma"),
        (lambda: Exponential(0.0), "lam"),
        (lambda: Beta(1.0, -1.0), "beta"),
        (lambda: Normal(0.0, "1"), "sigma"),
    ],
)
def test_invalid_prior_parameters_raise_naming_the_parameter(make, field):
    with pytest.raises(SpecError, match=rf"\b{field} must be a (positive )?finite number"):
        make()


@pytest.mark.parametrize(
    ("kwargs", "needs"),
    [
        ({"intercept": Beta(2.0, 2.0)}, "real line"),
        ({"intercept": HalfNormal(1.0)}, "real line"),
        ({"coefficients": Exponential(1.0)}, "real line"),
        ({"seasonality": Beta(1.0, 1.0)}, "real line"),
        ({"group_sd": Normal(0.0, 1.0)}, "positive reals"),
        ({"inv_sqrt_alpha": StudentT()}, "positive reals"),
        ({"zero_inflation": HalfNormal(1.0)}, "Beta prior"),
        ({"group_sd": 1.0}, "must be a bayescount prior"),
    ],
)
def test_priors_refuse_a_prior_on_the_wrong_support(kwargs, needs):
    (name,) = kwargs
    with pytest.raises(SpecError, match=needs) as err:
        Priors(**kwargs)
    assert f"Priors.{name}" in str(err.value)


def test_unknown_prior_names_are_listed_with_the_valid_ones():
    with pytest.raises(SpecError) as err:
        Priors.from_dict({"group_sigma": {"dist": "HalfNormal", "sigma": 1.0}, "intercept": {}})
    message = str(err.value)
    assert "group_sigma" in message
    for valid in ("intercept", "group_sd", "coefficients", "zero_inflation"):
        assert valid in message


def test_unknown_distribution_lists_the_choices():
    with pytest.raises(SpecError, match="Gamma") as err:
        prior_from_dict({"dist": "Gamma", "alpha": 2.0})
    assert "HalfNormal" in str(err.value) and "Normal" in str(err.value)


def test_shifting_a_scale_prior_is_an_error():
    assert Normal(1.0, 2.0).shifted(-3.5) == Normal(-2.5, 2.0)
    assert StudentT(4.0, 0.0, 1.0).shifted(2.0) == StudentT(4.0, 2.0, 1.0)
    with pytest.raises(SpecError, match="no location"):
        HalfNormal(1.0).shifted(1.0)


positive = st.floats(1e-3, 1e3)
real = st.floats(-1e3, 1e3)
location = st.one_of(
    st.builds(Normal, real, positive), st.builds(StudentT, positive, real, positive)
)
scale = st.one_of(
    st.builds(HalfNormal, positive),
    st.builds(HalfStudentT, positive, positive),
    st.builds(Exponential, positive),
)


@given(
    intercept=location,
    group_sd=scale,
    coefficients=location,
    seasonality=location,
    dispersion=scale,
    zero=st.builds(Beta, positive, positive),
)
def test_priors_round_trip_through_json(
    intercept, group_sd, coefficients, seasonality, dispersion, zero
):
    priors = Priors(intercept, group_sd, coefficients, seasonality, dispersion, zero)
    again = Priors.from_dict(json.loads(json.dumps(priors.to_dict())))
    assert again == priors
    assert again.to_dict() == priors.to_dict()


def test_missing_prior_entries_keep_their_defaults():
    priors = Priors.from_dict({"group_sd": {"dist": "HalfNormal", "sigma": 0.5}})
    assert priors.group_sd == HalfNormal(0.5)
    assert priors.intercept == Priors().intercept


# ------------------------------------------------------------------ spec


def rich_spec(**changes) -> ModelSpec:
    kwargs = {
        "schema": SCHEMA,
        "family": "negative_binomial",
        "seasonality": (Seasonality("daily", 1.0, 3), Seasonality("weekly", 7.0, 2)),
        "dispersion_by": "service",
        "dispersion_scales_with_exposure": True,
        "parameterization": {"node": "non_centered", "region": "centered"},
        "centered_threshold": 5.0,
        "priors": Priors(group_sd=HalfStudentT(3.0, 0.5), intercept=StudentT(4.0, 0.0, 2.0)),
    }
    return ModelSpec(**(kwargs | changes))


@pytest.mark.parametrize("family", FAMILIES)
def test_spec_round_trips_through_json(family):
    nb = family.endswith("negative_binomial")
    spec = rich_spec(
        family=family,
        dispersion_by="service" if nb else None,
        dispersion_scales_with_exposure=nb,
    )
    again = ModelSpec.from_dict(json.loads(spec.to_json()))
    assert again == spec
    assert again.hash() == spec.hash()


def test_hash_is_canonical_and_sensitive():
    spec = rich_spec()
    # The order parameterization entries were given in does not matter.
    reordered = rich_spec(parameterization={"region": "centered", "node": "non_centered"})
    assert reordered.hash() == spec.hash()
    assert len(spec.hash()) == 64 and int(spec.hash(), 16) >= 0
    # Any change of meaning changes the hash.
    changed = [
        rich_spec(family="zero_inflated_negative_binomial"),
        rich_spec(centered_threshold=6.0),
        rich_spec(dispersion_by=None),
        rich_spec(parameterization={"node": "centered"}),
        rich_spec(seasonality=(Seasonality("daily", 1.0, 4),)),
        rich_spec(priors=Priors()),
        rich_spec(schema=CountSchema("errors", "requests", groups=("region", "service", "node"))),
    ]
    hashes = {c.hash() for c in changed}
    assert len(hashes) == len(changed) and spec.hash() not in hashes


def test_unknown_family_lists_the_valid_ones():
    with pytest.raises(SpecError, match="'gaussian'") as err:
        ModelSpec(SCHEMA, family="gaussian")
    for family in FAMILIES:
        assert family in str(err.value)


@pytest.mark.parametrize("option", [{"dispersion_by": "service"},
                                    {"dispersion_scales_with_exposure": True}])
@pytest.mark.parametrize("family", ["poisson", "zero_inflated_poisson"])
def test_dispersion_options_on_a_poisson_family_are_refused(family, option):
    with pytest.raises(SpecError, match="negative binomial") as err:
        ModelSpec(SCHEMA, family=family, **option)
    assert family in str(err.value)


def test_dispersion_by_must_be_a_group():
    with pytest.raises(SpecError, match="'pod' is not a group") as err:
        ModelSpec(SCHEMA, family="negative_binomial", dispersion_by="pod")
    assert "['region', 'service', 'node']" in str(err.value)


def test_parameterization_of_an_unknown_level_names_the_groups():
    with pytest.raises(SpecError, match="'pod', not a group") as err:
        ModelSpec(SCHEMA, parameterization={"pod": "centered"})
    assert "['region', 'service', 'node']" in str(err.value)


def test_unknown_parameterization_lists_the_choices():
    with pytest.raises(SpecError, match="'centred'") as err:
        ModelSpec(SCHEMA, parameterization={"node": "centred"})
    for choice in ("auto", "centered", "non_centered"):
        assert choice in str(err.value)


def test_other_invalid_specs():
    with pytest.raises(SpecError, match="centered_threshold"):
        ModelSpec(SCHEMA, centered_threshold=0.0)
    with pytest.raises(SpecError, match="repeat a name"):
        ModelSpec(SCHEMA, seasonality=(Seasonality("d", 1.0, 1), Seasonality("d", 2.0, 1)))
    with pytest.raises(SpecError, match="exposure column"):
        ModelSpec(CountSchema("errors", None), family="negative_binomial",
                  dispersion_scales_with_exposure=True)


def test_spec_is_frozen_and_copies_its_inputs():
    choice = {"node": "centered"}
    spec = ModelSpec(SCHEMA, parameterization=choice)
    choice["node"] = "non_centered"
    assert spec.parameterization == {"node": "centered"}
    with pytest.raises(AttributeError):
        spec.family = "negative_binomial"


def test_equal_specs_have_equal_hashes():
    pairs = [
        (ModelSpec(SCHEMA, centered_threshold=10), ModelSpec(SCHEMA, centered_threshold=10.0)),
        (ModelSpec(SCHEMA, priors=Priors(intercept=Normal(0, 2))), ModelSpec(SCHEMA)),
    ]
    for a, b in pairs:
        assert a == b
        assert a.hash() == b.hash()


def test_the_nb_prior_is_named_after_alpha_and_the_old_name_still_works():
    import warnings

    from bayescount.models.priors import HalfNormal, Priors

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = Priors(inv_sqrt_dispersion=HalfNormal(2.0))
    assert [w.category for w in caught] == [FutureWarning]
    assert old.inv_sqrt_alpha == HalfNormal(2.0) and "inv_sqrt_alpha" in old.to_dict()
    stored = {"inv_sqrt_dispersion": HalfNormal(3.0).to_dict()}  # a fit file before the rename
    assert Priors.from_dict(stored).inv_sqrt_alpha == HalfNormal(3.0)
