"""Every Python example in the README runs, so the README cannot rot."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from palmerpenguins import load_penguins

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _namespace() -> dict:
    """The variables the examples talk about, on small seeded data."""
    rng = np.random.default_rng(0)
    n, k = 400, 3
    y_true = rng.integers(0, k, n)

    def proba_of(strength: float) -> np.ndarray:
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), y_true] += strength
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    proba_a, proba_b = proba_of(1.5), proba_of(1.0)
    y_bin = (y_true == 0).astype(int)
    X = rng.normal(size=(n, 4)) + y_true[:, None]
    return {
        "y_true": y_true,
        "y_pred": proba_a.argmax(1),
        "proba": proba_a,
        "proba_a": proba_a,
        "proba_b": proba_b,
        "pred_a": proba_a.argmax(1),
        "pred_b": proba_b.argmax(1),
        "y_bin": y_bin,
        "score_a": proba_a[:, 0],
        "score_b": proba_b[:, 0],
        "cost_matrix": np.array([[0, 1, 4], [1, 0, 1], [8, 1, 0]]),
        "y_val": y_true,
        "proba_val": proba_a,
        "proba_test": proba_b,
        "X": X,
        "y": y_true,
        "frame": load_penguins(),
    }


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write (a run directory) write here
    namespace = _namespace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(block, str(README), "exec"), namespace)
