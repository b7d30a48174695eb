"""What the demo needs from the command line: the commands whose output tells the story.

The demo sits below the CLI, so it cannot import the commands; ``verdict demo`` passes them in
(:class:`DemoCommands`), and each step prints exactly what ``verdict <command>`` prints. Each
field is called with the keyword arguments of the command of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemoCommands:
    """The commands the demo runs, as ``verdict`` prints them.

    Attributes
    ----------
    advise : callable
        ``advise(table, target=...)``: ``verdict advise``.
    train : callable
        ``train(table, target=, time_budget=, seed=, out=, register=, alias=)``.
    evaluate : callable
        ``evaluate(predictions, true=, pred=, proba_prefix=, ci=, seed=)``.
    show : callable
        ``show(ref)``: ``verdict models show``.
    predict : callable
        ``predict(ref, table, out=, quiet=)``: batch scoring.
    plan : callable
        ``plan(spec)``: ``verdict deploy plan``.
    status : callable
        ``status()``: ``verdict deploy status``.
    monitor : callable
        ``monitor(ref, window=)``, returning the command's exit code (1: an alert fired).
    retrain : callable
        ``retrain(name, time_budget=, seed=, quiet=)``.
    """

    advise: Callable[..., None]
    train: Callable[..., None]
    evaluate: Callable[..., None]
    show: Callable[..., None]
    predict: Callable[..., None]
    plan: Callable[..., None]
    status: Callable[..., None]
    monitor: Callable[..., int]
    retrain: Callable[..., None]
