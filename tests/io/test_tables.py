"""Reading tables: labels stay exactly as written; only an empty cell is missing."""

from __future__ import annotations

import io
from functools import partialmethod
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayescount
from bayescount import CountModel, DataError
from bayescount.exceptions import MissingValueError
from bayescount.io import label_columns, load_fit, read_table
from tests.clirun import run_cli

#: Labels that pandas would read as something else (missing, or a number).
TRICKY = ["NA", "007", "1e3", "null", "None", "NaN", "n/a", "0042", "1.50", "+1", "nan", "-"]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --------------------------------------------------------------------- the reader


def test_null_words_stay_text_and_only_an_empty_cell_is_missing(tmp_path):
    path = write(tmp_path / "t.csv", "region,n\nNA,1\nnull,2\nNone,3\nNaN,4\n,5\nn/a,6\n")
    frame = read_table(path)
    assert frame["region"].iloc[:4].tolist() == ["NA", "null", "None", "NaN"]
    assert frame["region"].isna().tolist() == [False] * 4 + [True, False]
    assert frame["region"].iloc[5] == "n/a"
    assert frame["n"].dtype == np.int64


def test_zero_padded_identifiers_stay_text_without_being_named(tmp_path):
    path = write(tmp_path / "t.csv", "node,x\n007,1.5\n0042,2\n9,3\n")
    frame = read_table(path)
    assert frame["node"].tolist() == ["007", "0042", "9"]
    assert frame["x"].dtype == np.float64


def test_text_columns_are_exactly_as_written(tmp_path):
    body = "\n".join(f"{label},{i}" for i, label in enumerate(["1e3", "1.50", "+1", "7"]))
    path = write(tmp_path / "t.csv", "node,n\n" + body + "\n")
    assert read_table(path)["node"].dtype == np.float64  # plain numbers, unnamed
    frame = read_table(path, text_columns=["node", "not-a-column"])
    assert frame["node"].tolist() == ["1e3", "1.50", "+1", "7"]


def test_a_numeric_column_with_a_word_stays_text_for_the_validator(tmp_path):
    path = write(tmp_path / "t.csv", "errors\n1\nNA\n3\n")
    assert read_table(path)["errors"].tolist() == ["1", "NA", "3"]


def test_parquet_strings_are_kept_and_nulls_are_missing(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"region": ["NA", "007", None], "n": [1, 2, 3]}).to_parquet(path)
    frame = read_table(path, text_columns=["region"])
    assert frame["region"].iloc[:2].tolist() == ["NA", "007"]
    assert frame["region"].isna().tolist() == [False, False, True]


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unknown extension '.txt'"):
        read_table(tmp_path / "t.txt")
    with pytest.raises(DataError, match="No such file"):
        read_table(tmp_path / "t.csv")


def test_an_empty_label_is_missing_and_named(tmp_path):
    path = write(tmp_path / "t.csv", "region,errors,requests\nNA,1,10\n,2,10\n")
    schema = bayescount.CountSchema("errors", "requests", groups=("region",))
    with pytest.raises(MissingValueError, match=r"'region' has 1 missing label \(row 1: nan\)"):
        bayescount.validate_frame(read_table(path), schema)


def test_pandas_null_words_get_a_hint_towards_read_table():
    frame = pd.read_csv(io.StringIO("region,errors,requests\nNA,1,10\nEU,2,10\n"))
    schema = bayescount.CountSchema("errors", "requests", groups=("region",))
    with pytest.raises(MissingValueError, match="bayescount.read_table"):
        bayescount.validate_frame(frame, schema)


def test_label_columns_of_a_schema_and_of_a_fitted_model(fake_fit):
    assert label_columns(fake_fit.schema) == ("region", "service", "node")
    assert label_columns(fake_fit) == ("region", "service", "node", "tier")


# ------------------------------------------------------------ end to end (CLI)


@pytest.fixture
def fake_cli_fits(monkeypatch, fake_sampler, loose_thresholds):
    """Make ``bayescount fit`` use the prior-draw fake sampler (no NUTS)."""
    monkeypatch.setattr(
        CountModel,
        "fit",
        partialmethod(CountModel.fit, sample_fn=fake_sampler, thresholds=loose_thresholds),
    )




def test_fit_and_predict_keep_tricky_labels(tmp_path, fake_cli_fits):
    rng = np.random.default_rng(0)
    n = 4 * len(TRICKY)
    rows = pd.DataFrame(
        {
            "region": np.repeat(TRICKY, 4),
            "tier": np.tile(["007", "1e3", "NA", "hi"], len(TRICKY)),
            "requests": rng.integers(100, 200, n),
            "errors": rng.integers(0, 5, n),
        }
    )
    csv = tmp_path / "train.csv"
    rows.to_csv(csv, index=False)
    fit = tmp_path / "fit.nc"
    code, _, err = run_cli(["fit", csv, "--counts", "errors", "--exposure", "requests",
                            "--group", "region", "--covariate", "tier", "--draws", 20,
                            "--chains", 2, "--seed", 1, "--out", fit])
    assert code == 0, err
    model = load_fit(fit)
    assert sorted(model.design.level("region").labels) == sorted(TRICKY)
    assert model.design.encodings[0].levels == ("007", "1e3", "NA", "hi")

    new = tmp_path / "new.csv"
    rows.drop(columns="errors").iloc[::4].to_csv(new, index=False)
    out = tmp_path / "pred.csv"
    code, _, err = run_cli(["predict", fit, "--data", new, "--unseen", "error",
                            "--seed", 1, "--out", out])
    assert code == 0, err  # every label is a fitted one (--unseen error would refuse)
    assert read_table(out, text_columns=["region"])["region"].tolist() == TRICKY
