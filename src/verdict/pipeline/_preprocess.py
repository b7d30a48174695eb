"""The preprocessing step of every candidate pipeline, built from the schema.

It is the first step of the ``Pipeline`` the search cross-validates, so everything it learns
(medians, fences, category levels, scales) is fitted on the training rows of each fold and
never sees the rows it is scored on. Per kind of column:

- numeric: clip to robust fences (optional) -> scale (only for families that need it;
  standard or min-max) -> median imputation + 0/1 missing indicators;
- categorical: values as strings, missing values as their own level ``'missing'`` -> one-hot
  with rare levels pooled into an "infrequent" column and unseen levels mapped to it (or to
  all zeros when no level was rare);
- boolean: 0/1 -> most-frequent imputation + missing indicators;
- datetime: year/month/day/weekday/hour (``DatetimeExpander``) -> scale where needed ->
  median imputation + indicators.
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from verdict._params import Options, invalid_parameter
from verdict.data import DatetimeExpander, Schema
from verdict.errors import InvalidInputError
from verdict.models import FAMILY_NAMES, SCALED_FAMILIES
from verdict.pipeline._clip import BooleanEncoder, CategoryText, OutlierClipper

DEFAULT_CLIP_FACTOR = 3.0
MIN_FREQUENCY = 0.01  # levels rarer than 1% of the fold's rows pool into 'infrequent'
MAX_CATEGORIES = 30  # per column, the infrequent column included
_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


def build_preprocessor(
    schema: Schema,
    family: str,
    *,
    clip_outliers: bool | float = True,
    scaler: str = "standard",
) -> ColumnTransformer:
    """A ``ColumnTransformer`` turning the schema's feature columns into a numeric matrix.

    Parameters
    ----------
    schema : Schema
        The table's schema (``infer_schema`` / ``check_table``); its feature columns are
        used, everything else in the frame is dropped.
    family : str
        The model family it feeds (see ``model_families``); linear models, the SVM and the
        MLP get standardised numbers, tree families raw ones. ``'none'`` / ``'scaled'`` ask
        for no scaling / scaling directly.
    clip_outliers : bool or float, default=True
        True clips numeric columns to ``[Q1 - 3 IQR, Q3 + 3 IQR]`` learned in fit; a positive
        number is the IQR multiple to use instead; False disables clipping.

    Returns
    -------
    ColumnTransformer
        Unfitted; dense output with feature names (``get_feature_names_out``).
    """
    scale_class = _scaler(scaler)
    scale = scale_class if _needs_scaling(family) else None
    factor = _clip_factor(clip_outliers)
    if not schema.features:
        raise InvalidInputError(
            "The schema has no feature columns, so there is nothing to train on. To fix: keep "
            "at least one numeric, categorical, boolean or datetime column."
        )
    parts = [
        ("numeric", _numeric(factor, scale), list(schema.numeric)),
        ("categorical", _categorical(), list(schema.categorical)),
        ("boolean", _boolean(), list(schema.boolean)),
        ("datetime", _datetime(schema, scale), list(schema.datetime)),
    ]
    return ColumnTransformer(
        [p for p in parts if p[2]],
        remainder="drop",
        sparse_threshold=0.0,
        verbose_feature_names_out=True,
    )


def _needs_scaling(family: str) -> bool:
    if family in ("none", "scaled"):
        return family == "scaled"
    if family not in FAMILY_NAMES:
        families = [Options(*FAMILY_NAMES, "none", "scaled")]
        raise invalid_parameter("family", family, "build_preprocessor", families, "pass a family")
    return family in SCALED_FAMILIES


def _scaler(name: str) -> type[StandardScaler] | type[MinMaxScaler]:
    if name not in _SCALERS:
        scalers = [Options(*sorted(_SCALERS))]
        fix = "pass 'standard' or 'minmax'"
        raise invalid_parameter("scaler", name, "build_preprocessor", scalers, fix)
    return _SCALERS[name]


def _clip_factor(clip_outliers: Any) -> float | None:
    if clip_outliers is True:
        return DEFAULT_CLIP_FACTOR
    if clip_outliers is False or clip_outliers is None:
        return None
    if isinstance(clip_outliers, int | float) and 0 < float(clip_outliers) < float("inf"):
        return float(clip_outliers)
    allowed = "True, False or a positive IQR multiple"
    fix = "pass True (fences at 3 IQR), e.g. 5.0 to clip less, or False"
    raise invalid_parameter("clip_outliers", clip_outliers, "build_preprocessor", allowed, fix)


def _numeric(factor: float | None, scale: type | None) -> Pipeline:
    steps: list[tuple[str, Any]] = []
    if factor is not None:
        steps.append(("clip", OutlierClipper(factor=factor)))
    if scale is not None:  # scalers skip NaN, so scaling first keeps the indicators 0/1
        steps.append(("scale", scale()))
    steps.append(("impute", _imputer("median")))
    return Pipeline(steps)


def _imputer(strategy: str) -> SimpleImputer:
    return SimpleImputer(strategy=strategy, add_indicator=True, keep_empty_features=True)


def _categorical() -> Pipeline:
    encoder = OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        min_frequency=MIN_FREQUENCY,
        max_categories=MAX_CATEGORIES,
        sparse_output=False,
    )
    return Pipeline([("text", CategoryText()), ("onehot", encoder)])


def _boolean() -> Pipeline:
    return Pipeline([("encode", BooleanEncoder()), ("impute", _imputer("most_frequent"))])


def _datetime(schema: Schema, scale: type | None) -> Pipeline:
    steps: list[tuple[str, Any]] = [("expand", DatetimeExpander(formats=schema.datetime_formats))]
    if scale is not None:
        steps.append(("scale", scale()))
    steps.append(("impute", _imputer("median")))
    return Pipeline(steps)
