"""Scoring a frame and scoring files: the output's columns, chunked == in memory in every
format, atomic output, clear errors, identical output on Dask, and bounded memory on a
1,000,000-row file (measured in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from palmerpenguins import load_penguins

from verdict.errors import (
    ConfigurationError,
    InvalidInputError,
    InvalidParameterError,
    VerdictWarning,
)
from verdict.pipeline import DecisionPolicy, train
from verdict.registry._loaded import LoadedModel
from verdict.serving._scoring import score_frame
from verdict.serving.batch import _dask as _batch_dask
from verdict.serving.batch._score import BatchSummary, score_file

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
OUTPUT = ["penguin_id", "class", *[f"proba_{c}" for c in CLASSES], "model_version"]
GIB = 1 << 30


def penguins_with_ids(n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """palmerpenguins with a text id first ('p0000' ...); ``n`` rows resampled if given."""
    frame = load_penguins()
    if n is not None:
        frame = frame.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    frame.insert(0, "penguin_id", [f"p{i:07d}" for i in range(len(frame))])
    return frame


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("batch") / "run"
    train(penguins_with_ids(), "species", models=["softmax"], time_budget=5, quiet=True, out=out)
    return out


@pytest.fixture(scope="module")
def loaded(run_dir) -> LoadedModel:
    import skops.io

    from verdict.data import Schema

    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    path = run_dir / "model.skops"
    model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    schema = Schema.from_dict(info["schema"])
    policy = DecisionPolicy.from_decision(info["decision"], schema.classes)
    return LoadedModel("penguins", 3, model, schema, policy, info)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return penguins_with_ids().drop(columns="species")


def write(frame: pd.DataFrame, path: Path, row_group_size: int = 50) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size)
    return path


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


def same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True,
        check_dtype=False,
    )  # fmt: skip


def test_score_frame_returns_ids_class_probabilities_and_version(loaded, table):
    frame = table.set_axis(np.arange(len(table)) + 1000)
    scored = score_frame(loaded, frame)
    assert list(scored.columns) == OUTPUT  # the schema's id column is copied by default
    assert list(scored.index) == list(frame.index)
    assert (scored["penguin_id"] == frame["penguin_id"]).all()
    assert (scored["model_version"] == "penguins@v3").all()
    proba = scored[OUTPUT[2:5]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    features = frame[list(loaded.schema.features)]
    np.testing.assert_array_equal(proba, loaded.predict_proba(features))
    np.testing.assert_array_equal(scored["class"].to_numpy(), loaded.predict(features))
    assert (scored["class"].to_numpy() == load_penguins()["species"].to_numpy()).mean() > 0.9


def test_score_frame_copies_the_id_columns_asked_for(loaded, table):
    scored = score_frame(loaded, table.assign(batch="b1"), id_columns=["batch", "penguin_id"])
    assert list(scored.columns[:3]) == ["batch", "penguin_id", "class"]
    assert list(score_frame(loaded, table, id_columns=()).columns) == OUTPUT[1:]
    with pytest.raises(InvalidInputError, match=r"id_columns \['nope'\] are not columns"):
        score_frame(loaded, table, id_columns=["nope"])
    with pytest.raises(InvalidInputError, match="use one of the output's own names"):
        score_frame(loaded, table.assign(**{"class": 1}), id_columns=["class"])


def test_score_frame_raises_on_bad_rows_with_row_and_column(loaded, table):
    frame = table.astype({"bill_length_mm": object})
    frame.loc[7, "bill_length_mm"] = "long"
    with pytest.raises(InvalidInputError) as caught:
        score_frame(loaded, frame, first_row=500)
    assert "row 507, column 'bill_length_mm': expected a number, got 'long'" in str(caught.value)


def test_score_frame_of_no_rows_has_the_columns(loaded, table):
    scored = score_frame(loaded, table.head(0))
    assert list(scored.columns) == OUTPUT and len(scored) == 0


@pytest.mark.parametrize("source", ["in.csv", "in.parquet"])
@pytest.mark.parametrize("out", ["out.csv", "out.parquet"])
def test_chunked_file_scoring_equals_scoring_in_memory(loaded, table, tmp_path, source, out):
    path = write(table, tmp_path / source)
    summary = score_file(loaded, path, tmp_path / out, chunk_rows=50, progress=False)
    same(read(tmp_path / out), score_frame(loaded, table))
    assert isinstance(summary, BatchSummary)
    assert (summary.n_rows, summary.n_chunks, summary.model) == (344, 7, "penguins@v3")
    assert sum(summary.class_counts.values()) == 344 and list(summary.class_counts) == CLASSES
    assert summary.rows_per_second > 0 and summary.out == str(tmp_path / out)
    assert summary.to_dict()["unknown_categories"] == {}


def test_csv_ids_are_kept_as_written_and_unknown_categories_counted(loaded, table, tmp_path):
    frame = table.assign(penguin_id=[f"{i:05d}" for i in range(len(table))])
    frame.loc[[3, 300], "island"] = "Atlantis"
    path = write(frame, tmp_path / "in.csv")
    summary = score_file(loaded, path, tmp_path / "out.csv", chunk_rows=100, progress=False)
    assert summary.unknown_categories == {"island": 2}
    ids = pd.read_csv(tmp_path / "out.csv", dtype={"penguin_id": str})["penguin_id"]
    assert list(ids[:2]) == ["00000", "00001"]
    parquet = score_file(loaded, path, tmp_path / "out.parquet", progress=False)
    assert pq.read_schema(tmp_path / "out.parquet").field("penguin_id").type == pa.string()
    assert parquet.unknown_categories == {"island": 2}


def test_parquet_id_types_are_kept(loaded, table, tmp_path):
    frame = table.assign(penguin_id=np.arange(len(table), dtype=np.int64))
    path = write(frame, tmp_path / "in.parquet")
    score_file(loaded, path, tmp_path / "out.parquet", chunk_rows=64, progress=False)
    assert pq.read_schema(tmp_path / "out.parquet").field("penguin_id").type == pa.int64()
    assert read(tmp_path / "out.parquet")["penguin_id"].tolist() == list(range(len(table)))


def test_a_bad_row_stops_the_run_names_it_and_leaves_no_output(loaded, table, tmp_path):
    frame = table.astype({"flipper_length_mm": object})
    frame.loc[270, "flipper_length_mm"] = "n/a cm"
    path = write(frame, tmp_path / "in.csv")
    out = tmp_path / "out.parquet"
    out.write_bytes(b"an earlier run")
    with pytest.raises(InvalidInputError) as caught:
        score_file(loaded, path, out, chunk_rows=100, progress=False)
    text = str(caught.value)
    assert "rows 200-299 of 'in.csv'" in text
    assert "row 270, column 'flipper_length_mm': expected a number, got 'n/a cm'" in text
    assert "To fix:" in text
    assert out.read_bytes() == b"an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.parquet"]


def test_a_missing_column_is_reported_before_anything_is_scored(loaded, table, tmp_path):
    path = write(table.drop(columns=["sex"]), tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match="every row, column 'sex': the column is missing"):
        score_file(loaded, path, tmp_path / "out.csv", progress=False)
    assert not (tmp_path / "out.csv").exists()


def test_a_csv_that_is_not_utf8_is_an_error_naming_the_file(loaded, table, tmp_path):
    path = write(table, tmp_path / "in.csv")
    with path.open("ab") as handle:
        handle.write("p9,Bon Accord,1,2,3,4,caf\u00e9,2009\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match=r"in\.csv' could not be read: UnicodeDecodeError"):
        score_file(loaded, path, tmp_path / "out.csv", chunk_rows=100, progress=False)
    assert not (tmp_path / "out.csv").exists()


def test_a_file_with_only_a_header_gives_an_output_with_only_a_header(loaded, table, tmp_path):
    path = write(table.head(0), tmp_path / "in.csv")
    summary = score_file(loaded, path, tmp_path / "out.csv", progress=False)
    assert summary.n_rows == 0 and summary.class_counts == dict.fromkeys(CLASSES, 0)
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == OUTPUT


def test_the_progress_bar_goes_to_standard_error(loaded, table, tmp_path, capsys):
    path = write(table, tmp_path / "in.csv")
    score_file(loaded, path, tmp_path / "out.csv", chunk_rows=100)
    captured = capsys.readouterr()
    assert captured.out == "" and "in.csv -> penguins@v3" in captured.err


@pytest.mark.parametrize(
    ("change", "error", "fragment"),
    [
        ({"chunk_rows": 0}, InvalidParameterError, "'chunk_rows' parameter"),
        ({"chunk_rows": True}, InvalidParameterError, "'chunk_rows' parameter"),
        ({"dask": 8786}, InvalidParameterError, "'dask' parameter"),
        ({"out": "out.txt"}, InvalidInputError, "neither CSV nor Parquet"),
        ({"source": "in.json"}, InvalidInputError, "neither CSV nor Parquet"),
        ({"source": "missing.csv"}, InvalidInputError, "does not exist"),
        ({"out": "no/such/folder/out.csv"}, InvalidInputError, "does not exist"),
        ({"out": "in.csv"}, InvalidInputError, "out is the input file"),
        ({"source": "broken.parquet"}, InvalidInputError, "could not be read"),
    ],
)
def test_bad_arguments_are_refused_with_the_fix(loaded, table, tmp_path, change, error, fragment):
    write(table, tmp_path / "in.csv")
    (tmp_path / "broken.parquet").write_text("not parquet")
    arguments = {"source": "in.csv", "out": "out.csv", **change}
    for name in ("source", "out"):
        arguments[name] = tmp_path / arguments[name]
    with pytest.raises(error, match=fragment) as caught:
        score_file(loaded, progress=False, **arguments)
    assert "To fix:" in str(caught.value)


def test_an_unreachable_dask_scheduler_is_a_clear_error(loaded, table, tmp_path, monkeypatch):
    monkeypatch.setattr(_batch_dask, "CONNECT_TIMEOUT", "1s")
    path = write(table, tmp_path / "in.csv")
    with pytest.raises(ConfigurationError, match="Cannot connect to the Dask scheduler") as caught:
        score_file(loaded, path, tmp_path / "out.csv", dask="tcp://127.0.0.1:9", progress=False)
    assert "To fix:" in str(caught.value) and not (tmp_path / "out.csv").exists()


class _ClusterThatCannotFork:
    """Stands in for LocalCluster on a machine where worker processes cannot start."""

    calls: ClassVar[list[dict]] = []

    def __init__(self, **options):
        type(self).calls.append(options)
        if options["processes"]:
            raise RuntimeError("Nanny failed to start.")


def test_a_local_cluster_falls_back_to_threads_when_processes_cannot_start():
    _ClusterThatCannotFork.calls = []
    with pytest.warns(VerdictWarning, match="worker threads in this process instead"):
        _batch_dask._local_cluster(_ClusterThatCannotFork)
    first, second = _ClusterThatCannotFork.calls
    assert first["processes"] and first["death_timeout"] == _batch_dask.LOCAL_START_SECONDS
    assert not second["processes"] and second["host"] == "127.0.0.1"


def test_a_local_cluster_that_cannot_start_at_all_is_a_clear_error(
    loaded, table, tmp_path, monkeypatch
):
    def never(**options):
        raise RuntimeError("Cluster failed to start: Scheduler failed to start.")

    monkeypatch.setattr("distributed.LocalCluster", never)
    path = write(table, tmp_path / "in.csv")
    with pytest.warns(VerdictWarning), pytest.raises(ConfigurationError) as caught:
        score_file(loaded, path, tmp_path / "out.csv", dask="local", progress=False)
    message = str(caught.value)
    assert "Could not start a local Dask cluster" in message and ".." not in message
    assert "To fix:" in message and not (tmp_path / "out.csv").exists()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_local_dask_cluster_gives_identical_output(loaded, tmp_path):
    frame = penguins_with_ids(3000, seed=1).drop(columns="species")
    path = write(frame, tmp_path / "in.parquet", row_group_size=500)
    start = time.perf_counter()
    summary = score_file(loaded, path, tmp_path / "dask.parquet", chunk_rows=700, dask="local")
    assert time.perf_counter() - start < 40
    score_file(loaded, path, tmp_path / "local.parquet", chunk_rows=700, progress=False)
    assert pq.read_table(tmp_path / "dask.parquet").equals(
        pq.read_table(tmp_path / "local.parquet")
    )
    assert (summary.n_rows, summary.n_chunks, summary.dask) == (3000, 6, "local")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_dask_scheduler_address_gives_identical_csv_and_clear_errors(loaded, tmp_path):
    from distributed import LocalCluster

    frame = penguins_with_ids(5000, seed=2).drop(columns="species")
    frame.loc[10, "year"] = np.nan  # an integer column with a gap further down
    path = write(frame, tmp_path / "in.csv")
    bad = frame.astype({"year": object})
    bad.loc[4000, "year"] = "last year"
    bad_path = write(bad, tmp_path / "bad.csv")
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        summary = score_file(loaded, path, tmp_path / "dask.csv", chunk_rows=1000, dask=address)
        with pytest.raises(InvalidInputError, match="run without dask to find the row"):
            score_file(loaded, bad_path, tmp_path / "bad_out.csv", chunk_rows=1000, dask=address)
    score_file(loaded, path, tmp_path / "local.csv", chunk_rows=1000, progress=False)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert summary.n_chunks > 1 and summary.n_rows == 5000
    assert not (tmp_path / "bad_out.csv").exists()


SCORE_IN_A_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    import skops.io
    from verdict.data import Schema
    from verdict.pipeline import DecisionPolicy
    from verdict.registry._loaded import LoadedModel
    from verdict.serving.batch._score import score_file

    run_dir, source, out = map(Path, sys.argv[1:4])
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    path = run_dir / "model.skops"
    model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    schema = Schema.from_dict(info["schema"])
    policy = DecisionPolicy.from_decision(info["decision"], schema.classes)
    loaded = LoadedModel("penguins", 3, model, schema, policy, info)
    summary = score_file(loaded, source, out, chunk_rows=100_000, progress=False).to_dict()
    summary["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(summary))
    """
)


@pytest.mark.slow
def test_a_million_rows_score_in_bounded_memory_like_in_memory(loaded, run_dir, tmp_path):
    frame = penguins_with_ids(1_000_000, seed=3).drop(columns="species")
    source = write(frame, tmp_path / "big.parquet", row_group_size=100_000)
    out = tmp_path / "scored.parquet"
    child = subprocess.run(
        [sys.executable, "-c", SCORE_IN_A_CHILD, str(run_dir), str(source), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    summary = json.loads(child.stdout)
    # the child's own peak (what RUSAGE_CHILDREN reports here for it, without other children)
    assert summary["peak_rss_bytes"] < GIB, summary
    assert (summary["n_rows"], summary["n_chunks"]) == (1_000_000, 10)
    print(
        f"\n1e6 rows: peak RSS {summary['peak_rss_bytes'] / 2**20:.0f} MiB, "
        f"{summary['seconds']:.1f} s, {summary['rows_per_second']:,.0f} rows/s"
    )
    same(read(out), score_frame(loaded, frame))
