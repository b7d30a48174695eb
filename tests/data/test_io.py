"""read_table: CSV, Parquet and JSON Lines in; clear errors for anything else."""

from __future__ import annotations

import pandas as pd
import pytest

from verdict.data import read_table
from verdict.errors import InvalidInputError

FRAME = pd.DataFrame({"y": ["a", "b", "a"], "x": [1.5, 2.0, 3.25]})


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_round_trip(tmp_path, suffix):
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        FRAME.to_csv(path, index=False)
    elif suffix == ".parquet":
        FRAME.to_parquet(path)
    else:
        FRAME.to_json(path, orient="records", lines=True)
    pd.testing.assert_frame_equal(read_table(path), FRAME)


def test_unknown_suffix(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown file type"):
        read_table(tmp_path / "t.xlsx")


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet")
    with pytest.raises(InvalidInputError, match="Could not parse"):
        read_table(path)
