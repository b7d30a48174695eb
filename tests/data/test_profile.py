"""profile_table: class balance, missingness, summaries, correlations, association; JSON-ready."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from palmerpenguins import load_penguins
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

from verdict.data import Profile, check_table, profile_table
from verdict.errors import InvalidInputError, InvalidParameterError


def test_penguins():
    frame = load_penguins()
    profile = profile_table(frame, "species")
    balance = profile.class_balance
    assert balance.classes == ("Adelie", "Chinstrap", "Gentoo")
    assert balance.counts == (152, 68, 124) and balance.imbalance_ratio == pytest.approx(152 / 68)
    assert profile.missing["sex"] == pytest.approx(11 / 344) and profile.missing["species"] == 0
    mass = profile.numeric["body_mass_g"]
    expected = frame["body_mass_g"]
    assert (mass.count, mass.missing) == (342, 2)
    assert mass.mean == pytest.approx(expected.mean()) and mass.q3 == pytest.approx(
        expected.quantile(0.75)
    )
    assert mass.skew == pytest.approx(expected.skew())
    assert profile.categorical["island"].top_levels == (
        ("Biscoe", 168),
        ("Dream", 124),
        ("Torgersen", 52),
    )
    top = profile.correlations[0]
    assert {top.a, top.b} == {"flipper_length_mm", "body_mass_g"} and top.pearson == pytest.approx(
        0.871, abs=1e-3
    )
    assert list(profile.association)[:1] in (["flipper_length_mm"], ["bill_length_mm"])
    assert profile.association["year"] < 0.05  # the study year says nothing about the species


def test_outlier_share_uses_tukey_fences():
    values = np.r_[np.arange(20.0), 100.0, -50.0]
    frame = pd.DataFrame({"v": values, "y": ["a", "b"] * 11})
    assert profile_table(frame, "y").numeric["v"].outlier_share == pytest.approx(2 / 22)


@pytest.mark.parametrize("loader", [load_wine, load_digits, load_breast_cancer])
def test_sklearn_datasets(loader):
    frame = loader(as_frame=True).frame
    profile = profile_table(frame, "target")
    assert profile.n_rows == len(frame) and sum(profile.class_balance.counts) == len(frame)
    assert set(profile.association) == set(check_table(frame, "target", warn=False).schema.features)
    values = list(profile.association.values())
    assert values == sorted(values, reverse=True) and values[0] > 0.2
    json.dumps(profile.to_dict())


def test_datetime_and_boolean_columns():
    n = 50
    frame = pd.DataFrame(
        {
            "when": [f"2020-0{i % 9 + 1}-1{i % 10}" for i in range(n)],
            "member": ["yes", "no"] * (n // 2),
            "y": ["a"] * 25 + ["b"] * 25,
        }
    )
    profile = profile_table(frame, "y")
    assert profile.kinds == {"when": "datetime", "member": "boolean"}
    assert (
        profile.datetime["when"].min == "2020-01-10T00:00:00"
        and profile.datetime["when"].count == n
    )
    assert profile.categorical["member"].n_levels == 2


def test_to_dict_is_plain_json():
    frame = load_penguins()
    frame.loc[0, "bill_length_mm"] = np.inf
    data = json.loads(json.dumps(profile_table(frame, "species").to_dict(), allow_nan=False))
    assert data["class_balance"]["counts"] == [152, 68, 124]
    assert set(data) == set(Profile.__dataclass_fields__) - {"_hidden"}


def test_errors():
    with pytest.raises(InvalidInputError, match="did you mean 'species'"):
        profile_table(load_penguins(), "Species")
    with pytest.raises(InvalidInputError, match="target 'species' has no values"):
        profile_table(load_penguins().assign(species=None), "species")
    schema = check_table(load_penguins(), "species", warn=False).schema
    with pytest.raises(InvalidInputError, match="schema feature='island' is not a column"):
        profile_table(load_penguins().drop(columns="island"), "species", schema)
    with pytest.raises(InvalidInputError, match="the schema is for target 'species'"):
        profile_table(load_penguins().rename(columns={"species": "kind"}), "kind", schema)
    with pytest.raises(InvalidParameterError, match="'top_pairs' parameter of profile_table"):
        profile_table(load_penguins(), "species", top_pairs=-1)


def test_fast_on_a_hundred_thousand_rows():
    rng = np.random.default_rng(0)
    n = 100_000
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(12)})
    frame["shop"] = rng.choice([f"s{i}" for i in range(300)], n)
    frame["flag"] = rng.random(n) < 0.2
    frame["y"] = rng.choice(["p", "q", "r"], n)
    start = time.perf_counter()
    report = check_table(frame, "y", warn=False)
    profile = profile_table(frame, "y", report.schema)
    assert time.perf_counter() - start < 15  # about 1.5 s alone; generous for a shared machine
    assert profile.n_rows == n and [f.code for f in report.findings] == ["high_cardinality"]


LABELS = st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(labels=LABELS, seed=st.integers(0, 1000))
def test_invariants(labels, seed):
    if all(v is None for v in labels):
        labels = [*labels, "a"]
    rng = np.random.default_rng(seed)
    n = len(labels)
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "z": rng.integers(-3, 3, n).astype(float),
            "c": rng.choice(["u", "v", None], n),
            "y": labels,
        }
    )
    profile = profile_table(frame, "y")
    balance = profile.class_balance
    assert sum(balance.shares) == pytest.approx(1.0)
    assert sum(balance.counts) == n - profile.n_unlabelled and balance.imbalance_ratio >= 1.0
    assert all(0.0 <= share <= 1.0 for share in profile.missing.values())
    for summary in profile.numeric.values():
        if summary.count:
            assert summary.min <= summary.q1 <= summary.median <= summary.q3 <= summary.max
            assert 0.0 <= summary.outlier_share <= 1.0
    assert all(-1.0 - 1e-12 <= p.pearson <= 1.0 + 1e-12 for p in profile.correlations)
    assert all(v >= 0.0 for v in profile.association.values())
    json.dumps(profile.to_dict(), allow_nan=False)
