"""The door checks of feedback: the plain forms of an item, and the rows sent with a label.

Features sent with a label pass the row checks of predictions (``check_rows``, infinite
numbers), so that retraining and monitoring read them as they read logged inputs. Labels are
checked where the model they belong to is known: for a request id, that is the logged
prediction's, found when the feedback is stored (``store_feedback`` in ``verdict.state``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verdict.data import RowProblem
from verdict.serving._served import ServedModels
from verdict.serving._work import Rows, check_only
from verdict.state import FeedbackItem, OrphanLimitError

_LABEL_TYPES = frozenset({str, int, float, bool})
_BY_REQUEST = frozenset({"label", "request_id", "row", "model"})
_WITH_FEATURES = frozenset({"label", "features", "model"})
_ABSENT = object()
_ABSENT_MESSAGE = "the feature is missing (send null for a missing value)"

__all__ = ["OrphanLimitError", "check_features", "feedback_item_ok"]


def feedback_item_ok(item: Any) -> bool:
    """True only for an item in one of the two plain forms ``FeedbackRequest`` accepts as is."""
    if type(item) is not dict or type(item.get("label")) not in _LABEL_TYPES:
        return False
    keys = item.keys()
    if keys == _WITH_FEATURES:
        return type(item["features"]) is dict and type(item["model"]) is str
    if not (keys <= _BY_REQUEST and "request_id" in keys):
        return False
    rid, row, model = item["request_id"], item.get("row", 0), item.get("model")
    return (
        type(rid) is str
        and 0 < len(rid) <= 128
        and type(row) is int
        and row >= 0
        and (model is None or type(model) is str)
    )


def check_features(items: Sequence[FeedbackItem], served: ServedModels) -> list[RowProblem]:
    """The problems of the features sent with labels, ``row`` being the item's position."""
    by_model: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        if item.features is not None and item.model is not None:
            by_model.setdefault(item.model, []).append(i)
    problems: list[RowProblem] = []
    for name, positions in by_model.items():
        model = served.get(name)
        if model is None:
            continue
        features = model.loaded.schema.features
        records = [items[i].features or {} for i in positions]
        columns = {f: [r.get(f, _ABSENT) for r in records] for f in features}
        for f, values in columns.items():
            for j, v in enumerate(values):
                if v is _ABSENT:
                    problems.append(RowProblem(positions[j], f, "missing_feature", _ABSENT_MESSAGE))
                    values[j] = None
        found = check_only(model.loaded, model.required, Rows(columns, len(records)))
        problems += [RowProblem(positions[p.row or 0], p.column, p.kind, p.message) for p in found]
    return sorted(problems, key=lambda p: (p.row or 0, p.column))
