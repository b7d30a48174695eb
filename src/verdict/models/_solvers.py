"""Solvers for the smooth convex objectives of ``_linear_loss``: L-BFGS and Newton-CG.

A solver gets an *oracle* ``oracle(w) -> (f, g, hessp)`` where ``hessp(v)`` multiplies the Hessian
at ``w`` by ``v`` and is valid until the oracle is called again. Both stop when
``max |g| <= tol`` (scikit-learn's criterion for its lbfgs and newton-cg solvers) or after
``max_iter`` iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

Oracle = Callable[[np.ndarray], tuple[float, np.ndarray, Callable[[np.ndarray], np.ndarray]]]

_ARMIJO = 1e-4
_MAX_BACKTRACKS = 40
_MAX_CG = 200


@dataclass
class SolverResult:
    """Where a solver stopped: parameters, iterations, objective, gradient size, success."""

    w: np.ndarray
    n_iter: int
    objective: float
    grad_max: float
    converged: bool
    message: str


def _report(verbose: int, solver: str, it: int, f: float, grad_max: float) -> None:
    """Print one progress line when ``verbose``."""
    if verbose:
        print(f"[{solver}] iter {it:4d}  objective {f:.12g}  max|grad| {grad_max:.3e}")


def lbfgs(oracle: Oracle, w0: np.ndarray, tol: float, max_iter: int, verbose: int) -> SolverResult:
    """Minimise with scipy's L-BFGS-B using scikit-learn's settings (maxls=50, tiny ftol)."""
    last: dict[str, float] = {}

    def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
        f, g, _ = oracle(w)
        last["f"], last["g"] = f, float(np.abs(g).max(initial=0.0))
        return f, g

    def callback(intermediate_result) -> None:
        callback.it += 1
        _report(verbose, "lbfgs", callback.it, last["f"], last["g"])

    callback.it = 0
    res = minimize(
        fun,
        w0,
        method="L-BFGS-B",
        jac=True,
        callback=callback if verbose else None,
        options={"maxiter": max_iter, "maxls": 50, "gtol": tol, "ftol": 64 * np.finfo(float).eps},
    )
    grad_max = float(np.abs(res.jac).max(initial=0.0))
    converged = res.status == 0 or grad_max <= tol
    message = "reached max_iter" if res.nit >= max_iter else f"L-BFGS-B stopped ({res.message})"
    return SolverResult(res.x, int(res.nit), float(res.fun), grad_max, converged, message)


def _truncated_cg(hessp: Callable, b: np.ndarray, rtol: float) -> np.ndarray:
    """Approximately solve ``H x = b`` by conjugate gradients, stopping at ``rtol * ||b||``."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    stop = (rtol**2) * rr
    for _ in range(_MAX_CG):
        if rr <= stop:
            break
        Hp = hessp(p)
        curvature = float(p @ Hp)
        if curvature <= 1e-14 * float(p @ p):
            return x if x.any() else b  # flat or negative direction: fall back to steepest
        alpha = rr / curvature
        x += alpha * p
        r -= alpha * Hp
        rr_new = float(r @ r)
        p *= rr_new / rr
        p += r
        rr = rr_new
    return x


def _backtrack(oracle: Oracle, w: np.ndarray, f: float, g: np.ndarray, d: np.ndarray):
    """Armijo backtracking from step 1 along ``d``; None when no step decreases ``f``."""
    slope = float(g @ d)
    if slope >= 0:
        d, slope = -g, -float(g @ g)
    step = 1.0
    slack = 16 * np.finfo(float).eps * abs(f)  # rounding noise at the optimum
    for _ in range(_MAX_BACKTRACKS):
        w_new = w + step * d
        f_new, g_new, hessp = oracle(w_new)
        if f_new <= f + _ARMIJO * step * slope + slack:
            return w_new, f_new, g_new, hessp
        step *= 0.5
    return None


def newton_cg(
    oracle: Oracle, w0: np.ndarray, tol: float, max_iter: int, verbose: int
) -> SolverResult:
    """Truncated Newton: CG on the exact Hessian-vector products, then a backtracking search.

    The CG forcing term ``min(0.5, sqrt(||g||))`` gives superlinear convergence near the optimum.
    """
    w = np.array(w0, dtype=np.float64)
    f, g, hessp = oracle(w)
    grad_max = float(np.abs(g).max(initial=0.0))
    message = "converged: max|grad| <= tol"
    it = 0
    while grad_max > tol:
        if it == max_iter:
            message = "reached max_iter"
            break
        gnorm = float(np.linalg.norm(g))
        d = _truncated_cg(hessp, -g, min(0.5, np.sqrt(gnorm)))
        step = _backtrack(oracle, w, f, g, d)
        if step is None:
            message = "line search could not decrease the objective (precision limit)"
            break
        w, f, g, hessp = step
        grad_max = float(np.abs(g).max(initial=0.0))
        it += 1
        _report(verbose, "newton-cg", it, f, grad_max)
    return SolverResult(w, it, f, grad_max, grad_max <= tol, message)


SOLVERS = {"lbfgs": lbfgs, "newton-cg": newton_cg}
