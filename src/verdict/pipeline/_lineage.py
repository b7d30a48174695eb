"""Lineage of a run: what it takes to reproduce it (seed, data fingerprint, versions, arguments)."""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from verdict._results import plain

# The packages whose versions decide a run's numbers (distribution names).
PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "joblib", "skops", "verdict")


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the table written as UTF-8 CSV without the index.

    CSV rather than Parquet: its bytes depend only on the values, the column names and their
    order, not on the writer's version or metadata, so the same table always gives the same
    fingerprint and anyone can recompute it with pandas.
    """
    text = frame.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None when it is not installed)."""
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def lineage(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    """The ``lineage`` block of run.json: seed, Python, package versions, the train arguments."""
    return {
        "seed": seed,
        "python": platform.python_version(),
        "packages": package_versions(),
        "params": plain(params),
    }
