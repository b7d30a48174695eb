"""Features as the prediction log returns them: an input named like a log column is prefixed.

The log's own columns come first in its frames, so an input feature called ``label`` or
``target`` comes back as ``input_label`` / ``input_target``; monitoring and retraining read
features through here so such a feature is never mistaken for the log's column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOG_COLUMNS = (
    "request_id", "row", "created", "model", "version", "label", "target", "true_label",
    "source",
)  # fmt: skip


def logged_column(frame: pd.DataFrame, feature: str) -> pd.Series:
    """``feature`` as logged (all NaN if it never was, e.g. a window with no rows)."""
    prefixed = f"input_{feature}"
    clashes = feature in LOG_COLUMNS or feature.startswith("proba_")
    if clashes and prefixed in frame.columns:
        return frame[prefixed]
    if feature in frame.columns and not clashes:
        return frame[feature]
    return pd.Series(np.nan, index=frame.index)


def logged_features(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The logged inputs ``features`` under their own names."""
    return pd.DataFrame({f: logged_column(frame, f) for f in features}, index=frame.index)
