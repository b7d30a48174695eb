"""scikit-learn's sklearn/metrics/tests/test_ranking.py, run against verdict.metrics."""

from sklearn_swap import load_into

SWAPPED = load_into(globals(), "test_ranking.py")
