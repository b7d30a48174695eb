"""Batch scoring on a Dask cluster: workers read and score partitions, the caller writes them.

The workers read the file with ``dask.dataframe`` (so the path must be one they can see, as it
is for a local cluster) and score each partition with the same ``score_chunk`` as a local run,
the model sent to each worker once. The scored partitions come back in file order, at most a
few at a time, and are written to one file by the caller with the same column types as a run
without Dask, so the two outputs are identical.

Partitions are read with the column types fixed in advance (numeric features as floats), since
Dask refuses a partition whose types differ from the first; a word where a number belongs is
then a read error without a row number, and the message says to run without Dask to find it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

import pyarrow as pa

from verdict.data import Schema
from verdict.errors import ConfigurationError, InvalidInputError, VerdictError, VerdictWarning
from verdict.registry import LoadedModel
from verdict.serving.batch._io import Chunk, Source, score_chunk

LOCAL = "local"
LOCAL_WORKERS = 2
LOCAL_START_SECONDS = 60  # a worker process that has not joined by then will not
CONNECT_TIMEOUT = "10s"
IN_FLIGHT_PER_WORKER = 2  # partitions computed ahead of the writer, per worker
_BYTES_SAMPLE = 1 << 16


@contextlib.contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client``: a new local cluster for ``'local'``, else the scheduler's."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigurationError(
            f"dask={address!r} asks for a Dask cluster, but dask.distributed is not installed. "
            "To fix: pip install 'verdict[dask]', or leave dask unset to score in this process."
        ) from exc
    cluster = None
    try:
        if address == LOCAL:
            try:
                cluster = _local_cluster(LocalCluster)
            except (RuntimeError, OSError, TimeoutError) as exc:
                raise ConfigurationError(
                    f"Could not start a local Dask cluster: {_said(exc)}. To "
                    "fix: check that this machine lets Python start processes and threads with "
                    "shared memory (/dev/shm), or leave dask unset to score in this process."
                ) from exc
            client = Client(cluster)
        else:
            client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        if cluster is not None:
            cluster.close()
        raise ConfigurationError(
            f"Cannot connect to the Dask scheduler at {address!r}: {type(exc).__name__}: {exc}. "
            "To fix: start it (`dask scheduler`) and pass its address as tcp://host:8786, pass "
            "'local' for a cluster on this machine, or leave dask unset."
        ) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _local_cluster(local_cluster: Any) -> Any:
    """Worker processes, each with one thread; threads in this process where processes cannot
    start (a sandbox without shared memory or one that stalls new processes), said in a warning.

    Worker processes are bounded by ``LOCAL_START_SECONDS``: without it a worker that never
    reports back leaves its nanny, and the caller, waiting for ever.
    """
    # No per-worker memory limit: the writer keeps only a few partitions in flight, and a
    # limit worked out from a small container's memory pauses workers, which then never finish.
    common = {
        "host": "127.0.0.1",
        "dashboard_address": None,
        "silence_logs": logging.ERROR,
        "memory_limit": 0,
    }
    try:
        return local_cluster(
            n_workers=LOCAL_WORKERS,
            threads_per_worker=1,
            processes=True,
            death_timeout=LOCAL_START_SECONDS,
            **common,
        )
    except (RuntimeError, OSError, TimeoutError) as exc:
        warnings.warn(
            f"Dask worker processes could not start ({_said(exc)}); scoring on "
            f"{LOCAL_WORKERS} worker threads in this process instead. To fix: check that this "
            "machine lets Python start processes with shared memory (/dev/shm).",
            VerdictWarning,
            stacklevel=4,
        )
        return local_cluster(
            n_workers=1, threads_per_worker=LOCAL_WORKERS, processes=False, **common
        )


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).rstrip('.')}"


def read_partitions(source: Source, schema: Schema, ids: Sequence[str], chunk_rows: int) -> Any:
    """The file as a ``dask.dataframe``: partitions of about ``chunk_rows`` rows for CSV, one
    per row group for Parquet."""
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise ConfigurationError(
            f"Scoring on Dask needs dask.dataframe, which is not installed ({exc}). To fix: pip "
            "install 'verdict[dask]', or leave dask unset to score in this process."
        ) from exc
    needed = source.needed(schema, ids)
    path = str(source.path)
    if source.format == "parquet":
        return dd.read_parquet(path, columns=needed, split_row_groups=True)
    return dd.read_csv(
        path,
        usecols=needed,
        dtype=source.csv_dtypes(schema, ids, numbers=True),
        blocksize=_blocksize(source, chunk_rows),
        encoding="utf-8-sig",
    )


def _blocksize(source: Source, chunk_rows: int) -> int:
    """Bytes for about ``chunk_rows`` rows, from the length of the file's first lines."""
    with open(source.path, "rb") as handle:
        sample = handle.read(_BYTES_SAMPLE)
    per_row = len(sample) / max(sample.count(b"\n"), 1)
    return max(int(per_row * chunk_rows), 1 << 16)


def score_partitions(
    client: Any,
    frame: Any,
    loaded: LoadedModel,
    ids: Sequence[str],
    schema: pa.Schema,
    name: str,
) -> Iterator[Chunk]:
    """Each partition scored on the cluster, in order, with a bounded number in flight."""
    from dask import delayed

    model = client.scatter(loaded, broadcast=True, hash=False)
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    tasks = (
        client.compute(delayed(_score_partition)(model, part, list(ids), schema, i, name))
        for i, part in enumerate(frame.to_delayed())
    )
    pending = deque(islice(tasks, IN_FLIGHT_PER_WORKER * workers))
    try:
        while pending:
            chunk = _result(pending.popleft(), name)
            pending.extend(islice(tasks, 1))
            yield chunk
    finally:
        client.cancel(list(pending))


def _score_partition(
    loaded: LoadedModel, part: Any, ids: list[str], schema: pa.Schema, number: int, name: str
) -> Chunk:
    what = f"partition {number} of {name!r} (rows counted from the partition's first row)"
    return score_chunk(loaded, part, ids, schema, 0, what)


def _result(future: Any, name: str) -> Chunk:
    try:
        return future.result()
    except VerdictError:
        raise
    except (ValueError, TypeError, OSError) as exc:
        raise InvalidInputError(
            f"{name!r} could not be read on the Dask cluster: {type(exc).__name__}: {exc}. "
            "To fix: run without dask to find the row and column at fault (the workers read "
            "numeric columns as numbers), and check that the workers can see the file."
        ) from exc
