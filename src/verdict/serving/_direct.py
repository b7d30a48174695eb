"""The fitted pipeline called step by step: the same transforms, without the wrappers' cost.

A served micro-batch is a few rows, and most of ``Pipeline.predict_proba``'s time on a few rows
is the wrappers around the fitted steps, not the steps: the pipeline's and the column
transformer's fitted checks, feature-name checks, metadata routing and output validation, paid
again at every call. :func:`direct_proba` builds, once per loaded version, a function that calls
the fitted leaf transformers' own ``transform`` on the columns ``ColumnTransformer`` would give
them, stacks their outputs as it does and ends with the final estimator's ``predict_proba``:
the same calls on the same values, so the same probabilities to the bit.

It is built only for structures it reproduces exactly (pipelines of transformers and column
transformers with dense numpy output, no transformer weights, no ``set_output`` container, no
metadata routing); anything else, and any output it does not expect at a call (a sparse or
non-2D block), goes through the pipeline's own ``predict_proba``. The pipeline's own checks
have nothing to catch here: the service gives it only rows ``check_rows`` has checked, with
every feature column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

Transform = Callable[[Any], Any]


class _NotReproducedError(Exception):
    """A block the direct path does not reproduce: use the pipeline's own call."""


def direct_proba(model: Any) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """``model.predict_proba`` as direct calls of its fitted steps, or None when ``model`` has
    a structure this does not reproduce exactly.

    verdict's ensembles are reproduced too: a soft ``VotingClassifier`` of pipelines averages
    its members' direct probabilities with ``np.average`` and its weights, as its own
    ``predict_proba`` does, and a ``TemperatureScaled`` model scales its estimator's."""
    try:
        import sklearn
        from sklearn.ensemble import VotingClassifier
        from sklearn.pipeline import Pipeline

        from verdict.models import TemperatureScaled

        if sklearn.get_config().get("enable_metadata_routing"):
            return None
        if type(model) is TemperatureScaled:
            return _scaled(direct_proba(model.estimator_), float(model.temperature))
        if type(model) is VotingClassifier and model.voting == "soft":
            return _averaged([direct_proba(m) for m in model.estimators_], model)
        if type(model) is not Pipeline:
            return None
        steps = [_plan(step) for step in _transformers(model, with_final=False)]
        final_proba = model.steps[-1][1].predict_proba
    except Exception:  # not reproduced, or scikit-learn's internals moved: the pipeline's call
        return None

    def proba(frame: pd.DataFrame) -> np.ndarray:
        data = frame
        try:
            for step in steps:
                data = step(data)
        except _NotReproducedError:
            return model.predict_proba(frame)
        return final_proba(data)

    return proba


def _scaled(
    inner: Callable[[pd.DataFrame], np.ndarray] | None, temperature: float
) -> Callable[[pd.DataFrame], np.ndarray] | None:
    if inner is None:
        return None
    from verdict.models import scale_probabilities

    return lambda frame: scale_probabilities(inner(frame), temperature)


def _averaged(
    members: list[Callable[[pd.DataFrame], np.ndarray] | None], voting: Any
) -> Callable[[pd.DataFrame], np.ndarray] | None:
    if not members or any(m is None for m in members):
        return None
    weights = voting._weights_not_none  # what VotingClassifier.predict_proba averages with

    def proba(frame: pd.DataFrame) -> np.ndarray:
        stacked = np.asarray([member(frame) for member in members])  # type: ignore[misc]
        return np.average(stacked, axis=0, weights=weights)

    return proba


def _transformers(pipeline: Any, *, with_final: bool) -> list[Any]:
    """The steps ``Pipeline`` runs (None and 'passthrough' skipped): all of them when it is a
    transformer, those before the final estimator when it predicts."""
    if _output_config(pipeline):
        raise _NotReproducedError
    return [step for _, _, step in pipeline._iter(with_final=with_final)]


def _output_config(estimator: Any) -> bool:
    """Whether ``estimator`` was told to give other than numpy output (``set_output``)."""
    from sklearn.utils._set_output import _get_output_config

    return _get_output_config("transform", estimator)["dense"] != "default"


def _plan(step: Any) -> Transform:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(step, str):
        raise _NotReproducedError
    if type(step) is Pipeline:
        inner = [_plan(s) for s in _transformers(step, with_final=True)]

        def chain(data: Any) -> Any:
            for transform in inner:
                data = transform(data)
            return data

        return chain
    if type(step) is ColumnTransformer:
        return _columns(step)
    if isinstance(step, Pipeline | ColumnTransformer) or _output_config(step):
        raise _NotReproducedError  # a subclass may change what is called: not reproduced
    if not callable(getattr(step, "transform", None)):
        raise _NotReproducedError
    return step.transform


def _columns(ct: Any) -> Transform:
    """``ColumnTransformer.transform`` for a frame with the columns it was fitted on."""
    if (
        _output_config(ct)
        or ct.transformer_weights
        or getattr(ct, "sparse_output_", True)
        or not hasattr(ct, "feature_names_in_")
    ):
        raise _NotReproducedError
    blocks: list[tuple[np.ndarray, Transform]] = []
    for _, trans, columns, _ in ct._iter(
        fitted=True, column_as_labels=True, skip_drop=True, skip_empty_columns=True
    ):
        if np.isscalar(columns):
            raise _NotReproducedError
        blocks.append((np.asarray(columns), _plan(trans)))
    if not blocks:
        raise _NotReproducedError
    last: list[Any] = [((), [])]  # the columns of the last frame seen, and their positions

    def positions(frame: pd.DataFrame) -> list[np.ndarray]:
        """Each block's column positions in ``frame`` (the frames served all have the same
        columns: found once, then a comparison of names)."""
        names = tuple(frame.columns)
        seen, found = last[0]
        if names != seen:
            if len(set(names)) != len(names):
                raise _NotReproducedError  # a repeated name: .loc would give both columns
            found = [frame.columns.get_indexer(key) for key, _ in blocks]
            if any((where < 0).any() for where in found):
                raise _NotReproducedError  # a column missing: the pipeline's own error
            last[0] = (names, found)
        return found

    def transform(frame: Any) -> np.ndarray:
        if type(frame) is not pd.DataFrame:
            raise _NotReproducedError
        # ColumnTransformer takes frame.loc[:, names]: the same columns, taken by position
        outs = [
            run(frame.take(where, axis=1))
            for where, (_, run) in zip(positions(frame), blocks, strict=True)
        ]
        if not all(type(out) is np.ndarray and out.ndim == 2 for out in outs):
            raise _NotReproducedError
        return np.hstack(outs)

    return transform
