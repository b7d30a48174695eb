"""DriftDetector on seeded scenarios built from the bundled datasets.

The population is palmerpenguins resampled to 60,000 rows with a little jitter on the
measurements (so that windows of 1,000 rows exist); the reference is 5,000 of them and every
window is drawn from the rest, so "unchanged" windows are independent draws from the reference's
own distribution, missing values (sex, measurements) included.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from verdict.data import infer_schema
from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.monitoring._stats import psi
from verdict.monitoring.drift._detector import DriftDetector

MEASURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
N_REF = 5000
RATE = 0.05


def _population(frame: pd.DataFrame, columns: list[str], size: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pop = frame.iloc[rng.integers(0, len(frame), size)].reset_index(drop=True)
    for c in columns:
        pop[c] = pop[c] + rng.normal(0, 0.1 * frame[c].std(), size)
    return pop


@pytest.fixture(scope="module")
def penguins():
    raw = load_penguins()
    schema = infer_schema(raw, "species")
    pop = _population(raw, MEASURES, 60_000, seed=0)
    model = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(raw[MEASURES], raw["species"])
    ref, rest = pop.iloc[:N_REF], pop.iloc[N_REF:].reset_index(drop=True)
    detector = DriftDetector(
        ref, schema, false_alarm_rate=RATE, reference_predictions=_predict(model, ref)
    )
    return {"schema": schema, "ref": ref, "rest": rest, "model": model, "detector": detector}


def _predict(model, frame: pd.DataFrame) -> pd.DataFrame:
    proba = model.predict_proba(frame[MEASURES])
    labels = model.classes_[proba.argmax(axis=1)]
    return pd.DataFrame({"label": labels, "confidence": proba.max(axis=1)}, index=frame.index)


def _window(rest: pd.DataFrame, n: int, seed: int, weights: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    p = None if weights is None else weights / weights.sum()
    return rest.iloc[rng.choice(len(rest), n, replace=False, p=p)].copy()


@pytest.mark.parametrize("n", [100, 1000])
def test_unchanged_windows_rarely_alarm(penguins, n):
    det, ref, rest = penguins["detector"], penguins["ref"], penguins["rest"]
    features = penguins["schema"].features
    alarms = psi_alarms = 0
    for seed in range(200):
        window = _window(rest, n, seed=1000 * n + seed)
        alarms += det.check(window, predictions=_predict(penguins["model"], window)).alarm
        psi_alarms += any(psi(ref[c], window[c]) > 0.1 for c in features)
    limit = RATE + 3 * math.sqrt(RATE * (1 - RATE) / 200)  # 5% + 3 binomial standard errors
    # Measured (seeded, 9 tests incl. prediction and confidence): calibrated alarm rate 4.0% at
    # n=100 and 3.0% at n=1,000 (limit 9.6%); on the same windows the fixed rule "PSI > 0.1 on
    # any feature" fires on 82% of the n=100 windows (0% at n=1,000 against 5,000 reference rows).
    assert alarms / 200 <= limit
    if n == 100:
        assert psi_alarms / 200 > 0.5


def test_mean_shift_in_one_feature(penguins):
    window = _window(penguins["rest"], 1000, seed=1)
    window["bill_length_mm"] += 0.3 * penguins["ref"]["bill_length_mm"].std()
    report = penguins["detector"].check(window)
    assert report.alarm
    # the shifted feature is found; any other would be one of the allowed false alarms
    assert report.to_frame().index[0] == "bill_length_mm" and "bill_length_mm" in report.drifted
    shifted = report.features[penguins["schema"].features.index("bill_length_mm")]
    assert shifted.test == "ks" and shifted.p_value == 1 / (report.n_null + 1)
    assert shifted.psi > 0


def test_new_category(penguins):
    window = _window(penguins["rest"], 1000, seed=2)
    window.loc[window.index[:50], "island"] = "Anvers"  # 5% of the rows from a new island
    report = penguins["detector"].check(window)
    assert report.to_frame().index[0] == "island" and "island" in report.drifted
    island = report.features[0]
    assert island.unseen_categories == ("Anvers",)
    assert island.test == "chi2" and island.jensen_shannon > 0


def test_class_prior_change(penguins):
    rest = penguins["rest"]
    # Chinstrap from ~20% of the traffic to ~60%
    weights = np.where(rest["species"] == "Chinstrap", 6.0, 1.0)
    window = _window(rest, 1000, seed=3, weights=weights)
    report = penguins["detector"].check(window, predictions=_predict(penguins["model"], window))
    assert report.alarm
    assert report.prediction is not None and report.prediction.drifted
    assert {"bill_length_mm", "island"} <= set(report.drifted)


def test_missing_share_change_is_drift(penguins):
    window = _window(penguins["rest"], 1000, seed=4)
    window.loc[window.index[:150], "body_mass_g"] = np.nan
    window.loc[window.index[:150], "sex"] = None
    report = penguins["detector"].check(window)
    assert {"body_mass_g", "sex"} <= set(report.drifted)
    mass = report.features[penguins["schema"].features.index("body_mass_g")]
    assert mass.missing_share_current > mass.missing_share_reference
    assert not math.isnan(mass.psi)


def test_report_outputs(penguins):
    det = penguins["detector"]
    window = _window(penguins["rest"], 1000, seed=1)
    window["bill_length_mm"] += 5.0
    report = det.check(window)
    frame = report.to_frame()
    assert list(frame.index[:1]) == ["bill_length_mm"]
    assert len(frame) == len(penguins["schema"].features)
    assert set(frame.columns) >= {"statistic", "p_value", "adjusted_p_value", "psi", "drifted"}
    text = report.summary()
    assert text.startswith("DRIFT") and "bill_length_mm" in text
    assert report.to_dict()["features"][0]["name"] == "island"
    assert "window_size=1000" in str(report)
    assert report.prediction is None and report.confidence is None


def test_null_is_cached_and_seeded(penguins):
    det = penguins["detector"]
    null = det.calibrate(1000)
    assert det.calibrate(1000) is null
    assert null.shape == (det.n_tests, det.n_null) == (9, 999)
    again = DriftDetector(
        penguins["ref"], penguins["schema"], n_null=199, random_state=0
    ).calibrate(50)
    assert again.shape == (7, 199)
    twice = DriftDetector(penguins["ref"], penguins["schema"], n_null=199).calibrate(50)
    np.testing.assert_array_equal(again, twice)


def test_bonferroni_is_no_less_strict_than_holm(penguins):
    ref, schema = penguins["ref"], penguins["schema"]
    window = _window(penguins["rest"], 300, seed=5)
    window["flipper_length_mm"] += 3.0
    holm = DriftDetector(ref, schema, n_null=299).check(window)
    bonf = DriftDetector(ref, schema, n_null=299, correction="bonferroni").check(window)
    for h, b in zip(holm.features, bonf.features, strict=True):
        assert h.p_value == b.p_value
        assert b.adjusted_p_value >= h.adjusted_p_value


def test_breast_cancer_thirty_features():
    data = load_breast_cancer(as_frame=True).frame
    features = [c for c in data.columns if c != "target"]
    pop = _population(data, features, 20_000, seed=7)
    schema = infer_schema(data, "target")
    det = DriftDetector(pop.iloc[:4000], schema)
    rest = pop.iloc[4000:].reset_index(drop=True)
    assert det.n_null >= math.ceil(2 * 30 / RATE)
    assert not det.check(_window(rest, 1000, seed=8)).alarm
    window = _window(rest, 1000, seed=9)
    window["mean texture"] += 0.3 * data["mean texture"].std()
    report = det.check(window)
    assert report.to_frame().index[0] == "mean texture" and "mean texture" in report.drifted


def test_datetime_boolean_and_reference_subsampling():
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
            "flag": rng.random(n) < 0.3,
            "x": rng.normal(size=n),
            "y": rng.integers(0, 2, n),
        }
    )
    schema = infer_schema(frame, "y")
    det = DriftDetector(frame.iloc[:2000], schema, max_reference=1500)
    assert det.n_reference == 1500
    later = frame.iloc[2000:].copy()
    later["when"] += pd.Timedelta(days=60)
    later["flag"] = rng.random(len(later)) < 0.5
    report = det.check(later)
    assert set(report.drifted) == {"when", "flag"}
    kinds = {f.name: (f.kind, f.test) for f in report.features}
    assert kinds == {
        "when": ("datetime", "ks"),
        "flag": ("boolean", "chi2"),
        "x": ("numeric", "ks"),
    }


def test_invalid_arguments(penguins):
    ref, schema, det = penguins["ref"], penguins["schema"], penguins["detector"]
    with pytest.raises(InvalidInputError, match="lacks the columns"):
        det.check(ref.drop(columns=["island"]))
    with pytest.raises(InvalidInputError, match="no rows"):
        det.check(ref.iloc[:0])
    with pytest.raises(InvalidInputError, match="rows but current"):
        det.check(ref.iloc[:10], predictions=_predict(penguins["model"], ref.iloc[:5]))
    plain = DriftDetector(ref, schema, n_null=199)
    with pytest.raises(InvalidInputError, match="reference_predictions"):
        plain.check(ref.iloc[:10], predictions=_predict(penguins["model"], ref.iloc[:10]))
    with pytest.raises(InvalidParameterError, match="too small"):
        DriftDetector(ref, schema, n_null=50)
    with pytest.raises(InvalidParameterError, match="correction"):
        DriftDetector(ref, schema, correction="bh")
    with pytest.raises(InvalidParameterError, match="false_alarm_rate"):
        DriftDetector(ref, schema, false_alarm_rate=1.5)
    with pytest.raises(InvalidInputError, match="DataFrame"):
        DriftDetector(ref.to_numpy(), schema)
