"""``DatetimeExpander`` as ONNX: calendar parts from int64 nanoseconds since the epoch.

ONNX has no date type and no date parsing, so a datetime column enters the graph as int64
nanoseconds since 1970-01-01 of its wall-clock time (what pandas stores; ``NaT`` is the
smallest int64 and means missing). The calendar parts are integer arithmetic: Howard Hinnant's
``civil_from_days``, exact for every date pandas can hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from verdict.data import DatetimeExpander, parse_datetimes
from verdict.registry.onnx._graph import DOUBLE, INT64, GraphBuilder

NAT = np.iinfo(np.int64).min
_MINUTE = 60 * 10**9
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def expand_datetimes(g: GraphBuilder, step: DatetimeExpander, x: str) -> str:
    """The expander's kept parts, per column in fit order, as float64 (NaN for ``NaT``)."""
    missing = g.op("Equal", [x, _int(g, NAT)])
    ns = g.op("Where", [missing, _int(g, 0), x])
    parts = _parts(g, ns, {p for kept in step.parts_.values() for p in kept})
    nan = g.const(np.nan)
    out = []
    for j, name in enumerate(step.feature_names_in_):
        for part in step.parts_[name]:
            value = g.columns(g.cast(parts[part], DOUBLE), [j])
            out.append(g.op("Where", [g.columns(missing, [j]), nan, value]))
    if not out:
        return g.op("Slice", [g.cast(x, DOUBLE), _int(g, [0]), _int(g, [0]), _int(g, [1])])
    return g.concat(out)


def _int(g: GraphBuilder, value: Any) -> str:
    return g.const(value, np.int64, hint="i")


class _Ints:
    """int64 arithmetic on graph tensors; a Python int operand becomes a constant."""

    def __init__(self, g: GraphBuilder) -> None:
        self.g = g

    def _bin(self, op: str, a: str | int, b: str | int) -> str:
        args = [v if isinstance(v, str) else _int(self.g, v) for v in (a, b)]
        return self.g.op(op, args)

    def add(self, a: str | int, b: str | int) -> str:
        return self._bin("Add", a, b)

    def sub(self, a: str | int, b: str | int) -> str:
        return self._bin("Sub", a, b)

    def mul(self, a: str | int, b: str | int) -> str:
        return self._bin("Mul", a, b)

    def div(self, a: str | int, b: str | int) -> str:
        """Integer division, exact floor division for the non-negative operands used here."""
        return self._bin("Div", a, b)

    def mod(self, a: str | int, b: str | int) -> str:
        """Python's ``%``: ONNX integer Mod with fmod=0 takes the divisor's sign."""
        return self.g.op(
            "Mod", [a if isinstance(a, str) else _int(self.g, a), _int(self.g, b)], fmod=0
        )


def _parts(g: GraphBuilder, ns: str, wanted: set[str]) -> dict[str, str]:
    """int64 tensors of the ``wanted`` parts (pandas' conventions: Monday is weekday 0)."""
    i = _Ints(g)
    rest = i.mod(ns, _DAY)
    days = i.div(i.sub(ns, rest), _DAY)
    year, month, day = _civil(i, days)
    parts = {"year": year, "month": month, "day": day}
    parts["hour"] = i.div(rest, _HOUR)
    parts["minute"] = i.div(i.mod(rest, _HOUR), _MINUTE)
    parts["weekday"] = i.mod(i.add(days, 3), 7)  # 1970-01-01 was a Thursday
    parts["quarter"] = i.add(i.div(i.sub(month, 1), 3), 1)
    if "dayofyear" in wanted:
        parts["dayofyear"] = i.add(i.sub(days, _january_first(i, year)), 1)
    return {p: parts[p] for p in wanted}


def _civil(i: _Ints, days: str) -> tuple[str, str, str]:
    """Year, month and day of ``days`` since 1970-01-01 (proleptic Gregorian)."""
    z = i.add(days, 719468)  # days since 0000-03-01, >= 0 for every date pandas holds
    era = i.div(z, 146097)
    doe = i.sub(z, i.mul(era, 146097))
    yoe = i.div(
        i.sub(i.add(i.sub(doe, i.div(doe, 1460)), i.div(doe, 36524)), i.div(doe, 146096)), 365
    )
    doy = i.sub(doe, _year_days(i, yoe))
    mp = i.div(i.add(i.mul(doy, 5), 2), 153)  # month counted from March
    day = i.add(i.sub(doy, i.div(i.add(i.mul(mp, 153), 2), 5)), 1)
    spring = i.g.op("Less", [mp, _int(i.g, 10)])
    month = i.g.op("Where", [spring, i.add(mp, 3), i.sub(mp, 9)])
    year = i.add(i.add(yoe, i.mul(era, 400)), i.g.cast(i.g.op("Not", [spring]), INT64))
    return year, month, day


def _year_days(i: _Ints, yoe: str) -> str:
    """Days before year ``yoe`` of a 400-year era: ``365 yoe + yoe/4 - yoe/100``."""
    return i.sub(i.add(i.mul(yoe, 365), i.div(yoe, 4)), i.div(yoe, 100))


def _january_first(i: _Ints, year: str) -> str:
    """Days from 1970-01-01 to January 1st of ``year`` (``days_from_civil(year, 1, 1)``)."""
    y = i.sub(year, 1)  # January counts in the previous March-based year
    era = i.div(y, 400)
    doe = i.add(_year_days(i, i.sub(y, i.mul(era, 400))), 306)
    return i.sub(i.add(i.mul(era, 146097), doe), 719468)


def datetime_feed(values: pd.Series, fmt: str | None) -> np.ndarray:
    """A column as the graph's int64 input: wall-clock nanoseconds, ``NaT`` the smallest int64."""
    dates = parse_datetimes(values, fmt)
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", utc=True)
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.astype("datetime64[ns]").to_numpy().view(np.int64).reshape(-1, 1)
