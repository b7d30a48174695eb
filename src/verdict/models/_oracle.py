"""The solvers' oracle: the loss functions of ``_linear_loss`` summed over row blocks in threads.

Evaluating block by block reads each block of ``X`` from memory once for both matrix products of
an evaluation (the second finds it in cache), and blocks shared between threads parallelise the
whole evaluation (the exponentials and reductions too), not only the matrix products. BLAS is
held to one thread meanwhile: a block's small products gain nothing from more, and idle BLAS
threads spinning for work slow everything else down on a busy machine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count
from threadpoolctl import ThreadpoolController

from verdict.models import _linear_loss as ll

# Rows per block: about 4 MiB of X, which stays in cache between the two products.
_BLOCK_BYTES = 4 << 20
# Below this many multiply-adds per product (n_samples x n_features x n_classes, or nnz x
# n_classes) one thread and one block are fastest: threads cost more than they save.
_SMALL_PROBLEM = 4_000_000


@cache
def _controller() -> ThreadpoolController:
    """One scan of the loaded BLAS libraries per process."""
    return ThreadpoolController()


def single_blas_thread() -> AbstractContextManager:
    """Hold BLAS to one thread while the oracle runs (it parallelises by itself)."""
    return _controller().limit(limits=1, user_api="blas")


def n_threads_for(X, n_columns: int, share: int = 1) -> int:
    """Threads for one oracle: as many as BLAS may use now (so joblib's and threadpoolctl's
    limits are honoured), divided among ``share`` oracles running at once; 1 on small problems.
    """
    size = (X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]) * n_columns
    if size < _SMALL_PROBLEM:
        return 1
    blas = [lib.num_threads for lib in _controller().select(user_api="blas").lib_controllers]
    available = min(max(blas, default=cpu_count()), cpu_count())
    return max(1, available // share)


def _bounds(X, n_threads: int) -> list[tuple[int, int]]:
    """Row ranges: cache-sized blocks for dense ``X``, one per thread for sparse ``X``."""
    n_samples = X.shape[0]
    if n_threads == 1 and (sp.issparse(X) or X.shape[0] * X.shape[1] * 8 <= _BLOCK_BYTES):
        return [(0, n_samples)]
    if sp.issparse(X):
        rows = -(-n_samples // n_threads)
    else:
        rows = max(256, _BLOCK_BYTES // (8 * max(1, X.shape[1])))
    return [(start, min(start + rows, n_samples)) for start in range(0, n_samples, rows)]


@dataclass
class _Block:
    """A block of rows with its targets, weights and buffers."""

    X: object
    target: np.ndarray
    weights: np.ndarray | float
    work: ll.Workspace


class Oracle:
    """``oracle(w) -> (f, g, hessp)`` of a scaled objective of ``_linear_loss``, by row blocks.

    ``hessp`` multiplies by the Hessian at the last ``w`` evaluated and is valid until the next
    call. Use as a context manager: the oracle owns a thread pool when ``n_threads > 1``.

    Parameters
    ----------
    X : ndarray (C order) or CSR matrix of shape (n_samples, n_features), float64
    target : ndarray
        Integer class codes (multinomial) or the 0/1 matrix (n_samples, n_columns) (binomial).
    weights : ndarray of shape (n_samples,) or (n_samples, n_columns), or None
        Normalised sample weights; None for uniform.
    l2_reg : float or ndarray of shape (n_columns,)
    fit_intercept : bool
    n_columns : int
        Rows of the coefficient matrix: classes (multinomial) or binary problems.
    multinomial : bool
    n_threads : int
    """

    def __init__(
        self, X, target, weights, l2_reg, fit_intercept: bool, n_columns: int,
        multinomial: bool, n_threads: int,
    ) -> None:  # fmt: skip
        n_samples = X.shape[0]
        self._blocks = [
            _Block(
                X if (a, b) == (0, n_samples) else X[a:b],
                target[a:b],
                1.0 / n_samples if weights is None else weights[a:b],
                ll.Workspace((b - a, n_columns)),
            )
            for a, b in _bounds(X, n_threads)
        ]
        chunks = np.array_split(np.arange(len(self._blocks)), n_threads)
        self._chunks = [chunk for chunk in chunks if chunk.size]
        self._pool = ThreadPoolExecutor(len(self._chunks)) if len(self._chunks) > 1 else None
        self._l2 = np.broadcast_to(np.asarray(l2_reg, dtype=np.float64), (n_columns,))[:, None]
        self._shape = (n_columns, X.shape[1])
        self._fit_intercept = fit_intercept
        self._multinomial = multinomial

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _sum(self, func) -> tuple[float, np.ndarray]:
        """Sum ``func(block) -> (value, vector)`` over the blocks, a chunk of blocks per thread."""

        def run(chunk: np.ndarray) -> tuple[float, np.ndarray]:
            value, vector = func(self._blocks[chunk[0]])
            for i in chunk[1:]:
                part_value, part_vector = func(self._blocks[i])
                value += part_value
                vector += part_vector
            return value, vector

        mapper = map if self._pool is None else self._pool.map
        parts = list(mapper(run, self._chunks))
        return sum(p[0] for p in parts), np.sum([p[1] for p in parts], axis=0)

    def _add_penalty(self, w: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Add the L2 term's gradient (or Hessian product) ``l2 * W`` to ``vector``."""
        W, _ = ll.unpack(w, *self._shape, self._fit_intercept)
        vector[: W.size] += (self._l2 * W).ravel()
        return vector

    def __call__(self, w: np.ndarray):
        n_columns, fit_intercept = self._shape[0], self._fit_intercept

        def block(b: _Block) -> tuple[float, np.ndarray]:
            if self._multinomial:
                out = ll.multinomial_loss_gradient(
                    w, b.X, b.target, b.weights, 0.0, fit_intercept, n_columns, b.work
                )
            else:
                out = ll.binomial_loss_gradient(
                    w, b.X, b.target, b.weights, 0.0, fit_intercept, b.work
                )
            return out[0], out[1]

        value, grad = self._sum(block)
        W, _ = ll.unpack(w, *self._shape, fit_intercept)
        value += 0.5 * float(self._l2[:, 0] @ np.einsum("ij,ij->i", W, W))
        return value, self._add_penalty(w, grad), self._hessp

    def _hessp(self, v: np.ndarray) -> np.ndarray:
        """Hessian at the last evaluated point times ``v``."""
        hessp = ll.multinomial_hessp if self._multinomial else ll.binomial_hessp

        def block(b: _Block) -> tuple[float, np.ndarray]:
            return 0.0, hessp(v, b.X, b.work.proba, b.weights, 0.0, self._fit_intercept, b.work)

        return self._add_penalty(v, self._sum(block)[1])
