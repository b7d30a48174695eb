"""Resampling plans for the bootstrap: cells first, rows only when a metric needs them.

The pair bootstrap draws n rows with replacement, i.e. a uniform multinomial over the rows.
Rows are grouped into *cells* (for count metrics: the (true, predicted) pairs, whose rows are
interchangeable), and a uniform multinomial over rows is exactly a multinomial over cells
(probabilities = cell shares) followed, within each cell, by a uniform multinomial over its
rows. So every resample is drawn in two stages:

1. the counts of all cells, for all resamples at once (one ``multinomial`` call; within each
   stratum when stratified, which keeps every class's count fixed);
2. only if some metric needs them (ranking metrics, row means, sample weights, callables), the
   row counts within each cell, chunk by chunk.

Count metrics never pay for stage 2, and every metric computed from one ``Resampler`` sees the
same resamples. Rows are stored in a *layout* order, grouped by cell (and, optionally, sorted
by a key within each cell), so that a ranking metric can read its columns without a gather.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Row-count matrices are built in chunks of about this many entries (int64: 2 MiB, so that a
# chunk and the temporaries computed from it stay in a core's L2 cache).
CHUNK_ENTRIES = 1 << 18
# One bincount covers at most this many bins, so its counters stay in cache.
_BINCOUNT_BINS = 1 << 16
# The jackknife leaves out single rows up to this many rows, then this many groups of rows.
JACKKNIFE_GROUPS = 1000


@dataclass(frozen=True, slots=True)
class Design:
    """How the rows are grouped: cells (in layout order) and the strata they belong to.

    ``layout`` lists the row ids grouped by cell; ``position`` is its inverse (where each row
    sits in the layout); ``weight`` holds the sample weights in layout order (None when
    unweighted); ``cell_code`` is the caller's code of each cell.
    """

    n: int
    cell_code: np.ndarray
    cell_sizes: np.ndarray
    cell_starts: np.ndarray
    cell_stratum: np.ndarray | None
    layout: np.ndarray
    position: np.ndarray
    weight: np.ndarray | None

    @property
    def n_cells(self) -> int:
        return int(self.cell_sizes.shape[0])

    def cell_of_position(self) -> np.ndarray:
        """The cell index of each layout position."""
        return np.repeat(np.arange(self.n_cells), self.cell_sizes)


def make_design(
    cell_of_row: np.ndarray,
    weight: np.ndarray | None,
    stratum_of_row: np.ndarray | None = None,
    key: np.ndarray | None = None,
) -> Design:
    """Group rows by their cell code (ascending), rows within a cell sorted by ``key``.

    ``stratum_of_row`` (constant within each cell) fixes the resampled size of each stratum;
    None resamples all rows together.
    """
    codes, inverse, sizes = np.unique(cell_of_row, return_inverse=True, return_counts=True)
    layout = np.argsort(inverse, kind="stable") if key is None else np.lexsort((key, inverse))
    position = np.empty_like(layout)
    position[layout] = np.arange(layout.shape[0])
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    stratum = None if stratum_of_row is None else np.asarray(stratum_of_row)[layout[starts]]
    w = None if weight is None else np.ascontiguousarray(weight[layout], dtype=np.float64)
    return Design(int(layout.shape[0]), codes, sizes, starts, stratum, layout, position, w)


@dataclass(slots=True)
class Batch:
    """Some resamples: cell counts, and row counts in layout order when they were drawn.

    Quantities several metrics share (per-class tallies, gathered score columns) are cached
    on the batch, so ``evaluate`` computes them once for all its metrics.
    """

    design: Design
    cell_counts: np.ndarray
    rows: np.ndarray | None = None  # int64 counts: integer cumulative sums are exact and fast
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.cell_counts.shape[0])

    def cell_weights(self) -> np.ndarray:
        """Resampled weight of each cell: its count, or its rows' summed sample weights."""
        if "cell_weights" not in self.cache:
            d = self.design
            if d.weight is None:
                value = self.cell_counts.astype(np.float64)
            else:
                value = np.add.reduceat(self.rows * d.weight, d.cell_starts, axis=1)
            self.cache["cell_weights"] = value
        return self.cache["cell_weights"]


class Statistic:
    """A metric evaluated on many resamples at once.

    ``values(batch)`` returns one value per resample of the batch, NaN where the metric is
    undefined (a *degenerate* resample, for the reason given by ``degenerate_reason``).
    ``needs_rows`` says whether it reads row counts (else cell counts suffice), and
    ``cell_jackknife`` whether leaving one row of a cell out is the same as leaving out any
    other row of that cell (true for unweighted count metrics).
    """

    name: str
    needs_rows: bool = True
    cell_jackknife: bool = False
    degenerate_reason: str = "the metric is undefined on it"

    def values(self, batch: Batch) -> np.ndarray:
        raise NotImplementedError

    def estimate(self, design: Design) -> float:
        """The metric on the data as given."""
        return float(self.values(full_batch(design, self.needs_rows))[0])


def full_batch(design: Design, with_rows: bool) -> Batch:
    """The data as given: every row once."""
    rows = np.ones((1, design.n), dtype=np.int64) if with_rows else None
    return Batch(design, design.cell_sizes[None, :].astype(np.int64), rows)


class Resampler:
    """Draws ``n_resamples`` pair-bootstrap resamples of a design, cells first.

    The cell counts of all resamples are drawn at construction; ``batches`` then yields them
    in chunks, drawing row counts per chunk when ``with_rows``. The random stream is consumed
    in that fixed order, so a seed reproduces the same resamples.
    """

    def __init__(self, design: Design, n_resamples: int, rng: np.random.Generator) -> None:
        self.design = design
        self.n_resamples = n_resamples
        self.rng = rng
        self.cell_counts = _draw_cells(design, n_resamples, rng)

    def batches(self, with_rows: bool) -> Iterator[tuple[slice, Batch]]:
        d = self.design
        step = self.n_resamples
        if with_rows:
            step = max(1, min(step, CHUNK_ENTRIES // max(d.n, 1)))
            buffer = np.empty((step, d.n), dtype=np.int64)  # reused: batches are used in turn
        for lo in range(0, self.n_resamples, step):
            hi = min(lo + step, self.n_resamples)
            counts = self.cell_counts[lo:hi]
            rows = _draw_rows(d, counts, self.rng, buffer[: hi - lo]) if with_rows else None
            yield slice(lo, hi), Batch(d, counts, rows)


def _draw_cells(design: Design, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    sizes = design.cell_sizes
    if design.cell_stratum is None:
        return rng.multinomial(design.n, sizes / design.n, size=n_resamples)
    out = np.empty((n_resamples, sizes.shape[0]), dtype=np.int64)
    for stratum in np.unique(design.cell_stratum):
        cells = np.flatnonzero(design.cell_stratum == stratum)
        total = int(sizes[cells].sum())
        out[:, cells] = rng.multinomial(total, sizes[cells] / total, size=n_resamples)
    return out


def _draw_rows(
    design: Design, cell_counts: np.ndarray, rng: np.random.Generator, out: np.ndarray
) -> np.ndarray:
    """Row counts (layout order) given the cell counts: uniform draws within each cell."""
    r = cell_counts.shape[0]
    for c in range(design.n_cells):
        size, start = int(design.cell_sizes[c]), int(design.cell_starts[c])
        block = out[:, start : start + size]
        if size == 1:
            block[:, 0] = cell_counts[:, c]
            continue
        step = max(1, _BINCOUNT_BINS // size)
        for lo in range(0, r, step):
            hi = min(lo + step, r)
            m = cell_counts[lo:hi, c]
            draws = rng.integers(0, size, int(m.sum()), dtype=np.int32)  # twice as fast as int64
            if hi - lo > 1:  # several resamples in one bincount: offset each one's draws
                draws = draws + np.repeat(np.arange(hi - lo) * size, m)
            block[lo:hi] = np.bincount(draws, minlength=(hi - lo) * size).reshape(hi - lo, size)
    return out


# --------------------------------------------------------------------------- jackknife


def cell_jackknife(design: Design) -> tuple[Batch, np.ndarray]:
    """Leave one row out of each cell in turn; each stands for the cell's rows (multiplicity)."""
    sizes = design.cell_sizes
    counts = np.repeat(sizes[None, :], sizes.shape[0], axis=0) - np.eye(sizes.shape[0], dtype=int)
    return Batch(design, counts), sizes.copy()


def row_jackknife(
    design: Design, rng: np.random.Generator
) -> tuple[Iterator[tuple[slice, Batch]], int]:
    """Leave out one row at a time, or one of ``JACKKNIFE_GROUPS`` random groups of rows.

    Grouping keeps the cost at ``JACKKNIFE_GROUPS`` metric evaluations for large samples; the
    acceleration estimated from groups is consistent with the one from single rows (both are
    the skewness of the influence values), only a little noisier.
    """
    n = design.n
    if n <= JACKKNIFE_GROUPS:
        group_of = np.arange(n)
        n_groups = n
    else:
        group_of = rng.permutation(n) % JACKKNIFE_GROUPS
        n_groups = JACKKNIFE_GROUPS
    return _group_batches(design, group_of, n_groups), n_groups


def _group_batches(
    design: Design, group_of: np.ndarray, n_groups: int
) -> Iterator[tuple[slice, Batch]]:
    cells = design.cell_of_position()
    per_group = np.zeros((n_groups, design.n_cells), dtype=np.int64)
    np.add.at(per_group, (group_of, cells), 1)
    step = max(1, min(n_groups, CHUNK_ENTRIES // max(design.n, 1)))
    for lo in range(0, n_groups, step):
        hi = min(lo + step, n_groups)
        rows = np.ones((hi - lo, design.n), dtype=np.int64)
        members = (group_of >= lo) & (group_of < hi)
        rows[group_of[members] - lo, np.flatnonzero(members)] = 0
        counts = design.cell_sizes[None, :] - per_group[lo:hi]
        yield slice(lo, hi), Batch(design, counts, rows)
