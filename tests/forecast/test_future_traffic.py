"""Future totals from a scenario (scale_traffic) or from a request-count model."""

import numpy as np
import pandas as pd
import pytest
from forecast_fakes import GROUPS, LOOSE, truth_sampler

from bayescount import CountModel
from bayescount.exceptions import ColumnNotFoundError
from bayescount.forecast.burn import forecast_burn
from bayescount.forecast.future import future_draws, scale_traffic
from bayescount.forecast.slo import ObservedSoFar, SLOSpec


@pytest.fixture(scope="module")
def traffic_model(sim_nb):
    """Requests per 5-minute window ~ Poisson(11_000) for every node (truth sampler)."""
    frame = sim_nb.frame.assign(minutes=5.0)
    labels = {lv: frame[lv].unique() for lv in GROUPS}
    truth = {"intercept": np.log(11_000 / 5.0),
             **{f"{lv}_effect": dict.fromkeys(labels[lv], 0.0) for lv in GROUPS},
             **{f"{lv}_sd": 0.1 for lv in GROUPS}}
    model = CountModel("requests", "minutes", time="timestamp", groups=GROUPS)
    return model.fit(frame.assign(requests=frame["requests"].round().astype(int)), draws=100,
                     chains=2, random_seed=0, thresholds=LOOSE,
                     sample_fn=truth_sampler(truth, noise=0.001))


def test_scale_traffic_copies_and_shifts():
    frame = pd.DataFrame({"timestamp": pd.to_datetime(["2026-01-01"]), "requests": [100]})
    out = scale_traffic(frame, 1.3, shift="7d")
    assert out["requests"].tolist() == [130.0]
    assert out["timestamp"].tolist() == [pd.Timestamp("2026-01-08")]
    assert frame["requests"].tolist() == [100]
    with pytest.raises(ColumnNotFoundError, match="'requests'"):
        scale_traffic(frame.rename(columns={"requests": "n"}), 2.0)


def test_traffic_model_draws_become_future_totals(sim_nb, nb_truth_model, traffic_model):
    frame = sim_nb.frame
    last = frame[frame["timestamp"] > frame["timestamp"].max() - pd.Timedelta(hours=1)]
    future = last.assign(timestamp=last["timestamp"] + pd.Timedelta(hours=1), minutes=5.0)
    future = future.drop(columns=["requests", "errors"])
    fd = future_draws(nb_truth_model, future, traffic_model=traffic_model, random_seed=4)
    # Totals vary by draw, around 11_000 per row.
    assert fd.total.std(axis=(0, 1)).min() > 0
    assert fd.total.mean() == pytest.approx(11_000, rel=0.02)
    # Errors per request follow the error model: the node's true rate times requests.
    rates = np.array([np.exp(sim_nb.truth["intercept"] + sum(
        sim_nb.truth[f"{lv}_effect"][row[lv]] for lv in GROUPS)) for _, row in
        future.iterrows()])
    assert fd.bad.sum(-1).mean() == pytest.approx((rates * 11_000).sum(), rel=0.05)
    fc = forecast_burn(nb_truth_model, SLOSpec(0.999, "30d"),
                       ObservedSoFar(0, 1e6, "29d23h",
                                     future["timestamp"].min()), future,
                       traffic_model=traffic_model, random_seed=4)
    expected_burn = (rates * 11_000).sum() / (11_000 * len(future)) / 0.001
    assert fc.burn_rates().set_index("horizon").loc["1h", "q0.5"] == pytest.approx(
        expected_burn, rel=0.05)
