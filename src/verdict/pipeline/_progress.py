"""What training shows while it runs: the stage, the config being tried, the best so far.

``train(quiet=True)`` uses :class:`Silent`, so the library prints nothing; otherwise a Rich
display on standard error (standard output stays free for the caller's own output).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from verdict.data import Finding


class Silent:
    """The display of a quiet run: every call does nothing."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def stage(self, text: str) -> None:
        """Announce a step of training."""

    def findings(self, findings: tuple[Finding, ...]) -> None:
        """Show what the data checks found."""

    def search(self, event: dict[str, Any]) -> None:
        """Show one finished config of the search (the search's ``progress`` callback)."""


class Display(Silent):
    """A live line on standard error: the step under way, and during the search a bar over the
    time budget with the config just tried and the best so far. The live part is erased when
    training ends; each new best config and each data warning stay printed."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=None)
        self.searching = False
        self.best: tuple[str | None, float | None] = (None, None)

    def __enter__(self) -> Display:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def stage(self, text: str) -> None:
        self.searching = False
        self.progress.update(self.task, description=text, total=None, completed=0)

    def findings(self, findings: tuple[Finding, ...]) -> None:
        for finding in findings:
            self._print(f"[yellow]data warning:[/] {finding.message}")

    def search(self, event: dict[str, Any]) -> None:
        if not self.searching:
            self.searching = True
            self.progress.update(self.task, total=event["time_budget"])
        best = (event["best_family"], event["best_score"])
        if best != self.best and best[1] is not None:
            self.best = best
            how = _params(event["params"]) if event["family"] == best[0] else "earlier config"
            self._print(f"new best: [bold]{best[0]}[/] {event['metric']} {best[1]:.4f} ({how})")
        if event["failed"]:
            tried = "dropped behind the best" if event.get("dropped") else "failed"
        else:
            tried = f"{event['score']:.4f}"
        shown = "none yet" if best[1] is None else f"{best[0]} {best[1]:.4f}"
        self.progress.update(
            self.task,
            completed=min(event["elapsed"], event["time_budget"]),
            description=f"config {event['n_configs']}: {event['family']} {tried} · best {shown}",
        )

    def _print(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, soft_wrap=True)


def _params(params: dict[str, Any]) -> str:
    if not params:
        return "defaults"
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items()))


def display(quiet: bool) -> Silent:
    """The display for ``train(quiet=...)``."""
    return Silent() if quiet else Display()
