"""How a categorical or boolean level is spelled, wherever levels are compared.

Training (``CategoryText``, ``BooleanEncoder``), the row checks of batch scoring and the
service, and the ONNX export all compare levels through this one function, so that 3, 3.0 and
'3' are one level everywhere and 'Yes' and 'yes' are the same truth value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0", "0.0"})
_LOWERED = TRUE_WORDS | {"false", "no", "n", "f"}  # the words that are lower-cased


def level_spelling(value: Any) -> str:
    """One canonical spelling: booleans 'true'/'false', integral floats lose their '.0',
    strings are stripped and the true/false words lower-cased."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text.lower() if text.lower() in _LOWERED else text


_STR_OR_NONE = frozenset({str, type(None)})


def level_words(values: pd.Series) -> pd.Series:
    """Each value's canonical spelling, missing values (None, NaN, NA) kept missing.

    Through ``object`` first, so that a categorical dtype does not refuse the new spellings.
    Each distinct value is spelled once (a column holds few levels and many rows); the cache
    is keyed by type too, since ``True == 1`` but they are spelled differently.
    """
    array = values.to_numpy(dtype=object, na_value=None)
    if _STR_OR_NONE.issuperset(map(type, array)):  # the usual column: text and gaps
        codes, uniques = pd.factorize(array)  # None -> -1; equal strings share a code
        spelled = np.array([None, *map(level_spelling, uniques)], dtype=object)[codes + 1]
        return pd.Series(spelled, index=values.index, name=values.name, dtype=object)
    cache: dict[tuple[type, Any], str] = {}
    spelled = np.empty(len(array), dtype=object)
    for i, value in enumerate(array):
        if value is None or value != value:  # None, NaN, NaT
            spelled[i] = None
            continue
        key = (type(value), value)
        found = cache.get(key)
        if found is None:
            found = cache[key] = level_spelling(value)
        spelled[i] = found
    return pd.Series(spelled, index=values.index, name=values.name, dtype=object)
