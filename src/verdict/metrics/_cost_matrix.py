"""The one cost parser: what mistakes cost, in any accepted form, as a validated matrix.

``cost_matrix(costs, classes)`` is how every layer (advice, search, training, the report, the
CLI) turns the costs a user stated into a ``(k, k)`` float matrix whose entry ``[i, j]`` is the
cost of predicting ``classes[j]`` when the truth is ``classes[i]``. ``expected_cost`` is the
mean cost of a set of decisions under such a matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

from verdict.errors import InvalidInputError, InvalidParameterError
from verdict.metrics._cost import cost_matrix_array
from verdict.metrics._sklearn_checks import to_numpy

_EXAMPLE = "costs={'fp': 1, 'fn': 10} for two classes, or a k x k matrix"


def cost_matrix(costs: Any, classes: Sequence[Any], *, pos_label: Any = None) -> np.ndarray:
    """The cost of every (true class, predicted class) pair as a validated float matrix.

    Parameters
    ----------
    costs : mapping, array-like or labelled table
        One of

        - ``{'fp': x, 'fn': y}`` (two classes only): the cost of one false positive and of one
          false negative; correct decisions cost 0;
        - a square array-like, ``costs[i][j]`` = cost of predicting ``classes[j]`` when the
          truth is ``classes[i]`` (rows and columns in the order of ``classes``);
        - a table (a pandas DataFrame) labelled with the classes: index the true class,
          columns the predicted class, in any order. Labels may be text, as a CSV file holds
          them ('1' or '1.0' for the class 1).

        Every cost must be a finite number >= 0.
    classes : sequence
        The class labels, in the order of the returned matrix's rows and columns.
    pos_label : label, default=None
        For ``{'fp', 'fn'}``: the positive class; by default the last of ``classes`` (the
        greater label when they are sorted, as scikit-learn orders them).

    Returns
    -------
    ndarray of shape (k, k), float64

    Raises
    ------
    InvalidParameterError
        When ``costs`` has another form, shape or label set, or a cost that is negative,
        infinite or not a number; the message says how to fix it.

    Examples
    --------
    >>> cost_matrix({"fp": 1, "fn": 20}, ["healthy", "sick"]).tolist()
    [[0.0, 1.0], [20.0, 0.0]]
    """
    labels = list(classes)
    if isinstance(costs, Mapping):
        return _binary(costs, labels, pos_label)
    if hasattr(costs, "columns") and hasattr(costs, "index"):
        return _labelled(costs, labels)
    if costs is None or isinstance(costs, (str, bytes)):
        raise InvalidParameterError(
            f"costs must be a mapping {{'fp': x, 'fn': y}}, a square matrix or a table "
            f"labelled with the classes; got {costs!r}. To fix: pass {_EXAMPLE}."
        )
    matrix = _checked(costs)
    if matrix.shape[0] != len(labels):
        raise InvalidParameterError(
            f"costs is a {matrix.shape[0]} x {matrix.shape[1]} matrix but y_true has "
            f"{len(labels)} classes ({labels[:10]}). To fix: pass one row and one column per "
            "class, in the order of the classes (sorted)."
        )
    return matrix


def expected_cost(
    y_true: Any,
    y_pred: Any,
    *,
    cost_matrix: np.ndarray,
    labels: Sequence[Any],
    sample_weight: Any = None,
) -> float:
    """Mean cost of the decisions ``y_pred`` for the truth ``y_true`` (weighted if given).

    ``cost_matrix`` is in ``labels`` order (see :func:`cost_matrix`); lower is better.
    """
    index = {label: i for i, label in enumerate(np.asarray(labels).tolist())}
    try:
        rows = np.fromiter((index[v] for v in np.asarray(y_true).tolist()), dtype=np.intp)
        cols = np.fromiter((index[v] for v in np.asarray(y_pred).tolist()), dtype=np.intp)
    except KeyError as exc:
        raise InvalidParameterError(
            f"expected_cost: the label {exc.args[0]!r} is not one of the cost matrix's classes "
            f"{list(index)}. To fix: pass labels= with every class, in the matrix's order."
        ) from None
    return float(np.average(np.asarray(cost_matrix)[rows, cols], weights=sample_weight))


def _binary(costs: Mapping[Any, Any], labels: list[Any], pos_label: Any) -> np.ndarray:
    if len(labels) != 2:
        raise InvalidParameterError(
            f"costs={dict(costs)!r} names false positives and negatives, which exist only for "
            f"two classes; y_true has {len(labels)}. To fix: pass a {len(labels)} x "
            f"{len(labels)} cost matrix, C[i, j] = cost of predicting j when the truth is i."
        )
    if set(costs) != {"fp", "fn"}:
        raise InvalidParameterError(
            f"costs must have exactly the keys 'fp' and 'fn', got {sorted(map(str, costs))}. "
            "To fix: pass e.g. costs={'fp': 1, 'fn': 10}."
        )
    for key, value in costs.items():
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < np.inf:
            raise InvalidParameterError(
                f"costs[{key!r}] must be a finite number >= 0, got {value!r}. To fix: pass "
                "the cost of one such error."
            )
    if pos_label is not None and pos_label not in labels:
        raise InvalidParameterError(
            f"pos_label={pos_label!r} is not a class ({labels}). To fix: pass one of them."
        )
    pos = 1 if pos_label is None else labels.index(pos_label)
    matrix = np.zeros((2, 2))
    matrix[1 - pos, pos] = costs["fp"]  # truth negative, predicted positive
    matrix[pos, 1 - pos] = costs["fn"]
    return matrix


def _labelled(table: Any, labels: list[Any]) -> np.ndarray:
    """A table whose index (true class) and columns (predicted class) name the classes."""
    k = len(labels)
    if tuple(table.shape) != (k, k):
        raise InvalidParameterError(
            f"costs has shape {tuple(table.shape)} but the target has {k} classes "
            f"({labels[:10]}). To fix: write a {k} x {k} table of costs with the predicted "
            "classes as header and the true classes as index (cost of predicting the column "
            "when the truth is the row)."
        )
    by_text = {_text(c): i for i, c in enumerate(labels)}
    rows = [_position(v, by_text, labels, "row") for v in table.index]
    cols = [_position(v, by_text, labels, "header") for v in table.columns]
    if len(set(rows)) != k or len(set(cols)) != k:
        raise InvalidParameterError(
            f"costs must name every class once in its header and rows; it has rows "
            f"{[str(v) for v in table.index]} and header {[str(v) for v in table.columns]}. "
            f"To fix: use the classes {labels}."
        )
    values = to_numpy(table, "costs")
    if values.dtype.kind not in "biuf":
        raise InvalidParameterError(
            "costs holds non-numeric costs. To fix: write numbers only (one per cell)."
        )
    matrix = np.empty((k, k))
    matrix[np.ix_(rows, cols)] = values
    return _checked(matrix)


def _position(value: Any, by_text: dict[str, int], labels: list[Any], where: str) -> int:
    position = by_text.get(_text(value))
    if position is None:
        raise InvalidParameterError(
            f"costs ({where}): {str(value)!r} is not a class of the target "
            f"({sorted(map(str, labels))}). To fix: use the class labels exactly as they "
            "appear in the target column."
        )
    return position


def _text(label: Any) -> str:
    """A label as text, '1.0' read as '1' (a CSV header holds integer classes as floats)."""
    text = str(label.item() if isinstance(label, np.generic) else label)
    return text[:-2] if text.endswith(".0") else text


def _checked(values: Any) -> np.ndarray:
    """Square, at least 2 x 2, finite and non-negative (raised as a parameter error)."""
    try:
        return cost_matrix_array(values, "costs")
    except InvalidParameterError:
        raise
    except InvalidInputError as exc:
        raise InvalidParameterError(str(exc)) from None
