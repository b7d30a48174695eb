"""The link between one deployment target and the central state database.

Each target's replicas log to the target's own state database, a local buffer that keeps
filling while the link is cut. The link ships that buffer to the central database (the one
``verdict monitor`` reads), tagged with the target, and carries the central API keys back, so a
key created or revoked centrally reaches every target within one round. Each successful key
sync is recorded in the target's ``state_meta`` (``keys_synced_at``, rewritten at most once a
second so a quiet round takes no write lock), so a replica can refuse to trust keys that a cut
link has left stale (``VERDICT_KEYS_MAX_STALENESS_SECONDS``).

Exactly once: the rows and the marks of what was shipped are the state database's business
(``verdict.state.ship_log``): a crash or a replayed round never loses a row nor stores one
twice.

The process runs ``python -m verdict.deploy.local._link`` with the command line that
:func:`link_command` writes (the one place that knows its flags): it ships every ``interval``
seconds unless the cut flag file exists, never dies on a database error (it logs it and retries
next round), and on SIGTERM ships once more and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from verdict.errors import InvalidInputError
from verdict.state import open_state, salts_match, share_keys, ship_log

__all__ = ["ShipResult", "link_command", "main", "run_link", "ship"]

logger = logging.getLogger("verdict.deploy.link")

_FINAL_TRIES = 3  # database errors tolerated while shipping the last time before exiting


@dataclass(frozen=True)
class ShipResult:
    """What one :func:`ship` call did.

    Attributes
    ----------
    predictions, feedback : int
        Rows newly inserted centrally by this call.
    keys : int
        API key rows copied to the target, or revoked there to match the center.
    backlog : int
        Rows still waiting in the target after this call (0 when caught up).
    """

    predictions: int
    feedback: int
    keys: int
    backlog: int


def ship(target: str, source: Engine, central: Engine, *, batch_rows: int = 500) -> ShipResult:
    """Copy the target's new predictions, feedback and prediction_classes to the central
    database, and central api_keys out to the target.

    Parameters
    ----------
    target : str
        The target's name, stored centrally with every row shipped.
    source, central : sqlalchemy.Engine
        The target's state database and the central one (both from ``verdict.state.open_state``).
    batch_rows : int, default 500
        Rows per central transaction; a call ships at most 40 transactions per table.

    Returns
    -------
    ShipResult
    """
    _check(target, batch_rows)
    keys = share_keys(central, source)
    shipped = ship_log(target, source, central, batch_rows=batch_rows)
    return ShipResult(shipped.predictions, shipped.feedback, keys, shipped.backlog)


def _check(target: Any, batch_rows: Any) -> None:
    if not isinstance(target, str) or not 0 < len(target) <= 63:
        raise InvalidInputError(
            f"target must be a name of 1 to 63 characters; got {target!r}. To fix: pass the "
            f"target's name from the deploy spec, e.g. 'aws-eu'."
        )
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InvalidInputError(
            f"batch_rows must be an integer >= 1; got {batch_rows!r}. To fix: pass e.g. 500."
        )


def run_link(
    target: str,
    source_url: str,
    central_url: str,
    cut_flag: Path,
    *,
    interval: float = 0.25,
    stop: threading.Event | None = None,
    follow: Callable[[], object] | None = None,
) -> None:
    """Loop: every interval, unless cut_flag exists (the link is cut), ship(); on SIGTERM or
    stop.set() ship once more (if not cut) and return. ``follow``, when given, runs in every
    uncut round too: the artifacts going out (see ``ArtifactFollower``).

    Never dies on a database error: logs it and retries next round (a central database that is
    briefly locked or down must not kill the link). SIGTERM and SIGINT are handled only when
    called from the main thread; elsewhere use ``stop``.
    """
    _check(target, 1)
    if not interval > 0:
        raise InvalidInputError(f"interval must be > 0; got {interval!r}. To fix: pass e.g. 0.25.")
    stop = stop or threading.Event()
    restore = _handle_signals(stop)
    link = _Link(target, source_url, central_url)
    try:
        while not stop.is_set():
            if not Path(cut_flag).exists():
                link.round()
                if follow is not None:
                    follow()
            stop.wait(interval)
        if not Path(cut_flag).exists():
            link.last_rounds()
    finally:
        restore()
        link.close()


class _Link:
    """The engines of one link, opened on first use and reopened after an error."""

    def __init__(self, target: str, source_url: str, central_url: str) -> None:
        self.target, self.urls = target, (source_url, central_url)
        self.engines: tuple[Engine, Engine] | None = None

    def round(self) -> ShipResult | None:
        """One ship; None if it failed (logged, engines dropped for a fresh start)."""
        try:
            if self.engines is None:
                self.engines = self._open()
            result = ship(self.target, *self.engines)
        except Exception as exc:  # a database error must not end the link: retry next round
            first = (str(exc).splitlines() or [""])[0]
            logger.warning("link %s: shipping failed, will retry: %s: %s", self.target,
                           type(exc).__name__, first)  # fmt: skip
            self.close()
            return None
        if result.predictions or result.feedback or result.keys:
            logger.info("link %s: %s", self.target, result)
        return result

    def last_rounds(self) -> None:
        """Ship until caught up or stuck, tolerating a few failures (the process is exiting)."""
        failures, before = 0, None
        while failures < _FINAL_TRIES:
            result = self.round()
            if result is None:
                failures += 1
            elif result.backlog == 0 or (before is not None and result.backlog >= before):
                return  # caught up, or not gaining: what is left ships on the next start
            else:
                before = result.backlog

    def close(self) -> None:
        if self.engines is not None:
            for engine in self.engines:
                engine.dispose()
            self.engines = None

    def _open(self) -> tuple[Engine, Engine]:
        source = open_state(self.urls[0])
        try:
            central = open_state(self.urls[1])
        except Exception:
            source.dispose()
            raise
        if not salts_match(source, central):
            logger.warning(
                "link %s: the target's salt differs from the central one, so hashed sensitive "
                "columns will not match across targets. To fix: adopt_salt() before serving.",
                self.target,
            )
        return source, central


def _handle_signals(stop: threading.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set ``stop`` (main thread only); return the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


_MODULE = "verdict.deploy.local._link"


def link_command(
    target: str,
    source_url: str,
    central_url: str,
    cut_flag: Path,
    *,
    interval: float | None = None,
    model: str | None = None,
    registry_url: str | None = None,
    store: str | None = None,
    artifacts: str | Path | None = None,
) -> list[str]:
    """The command that runs one link as a process (:func:`main` parses it).

    ``model`` (``NAME@ALIAS``) with ``registry_url``, ``store`` and ``artifacts`` makes the link
    also keep the target's artifact folder in step with the central registry.
    """
    values = {"target": target, "source": source_url, "central": central_url,
              "cut-flag": cut_flag, "interval": interval, "model": model,
              "registry": registry_url, "store": store, "artifacts": artifacts}  # fmt: skip
    command = [sys.executable, "-m", _MODULE]
    for flag, value in values.items():
        if value is not None:
            command += [f"--{flag}", str(value)]
    return command


def _parser() -> argparse.ArgumentParser:
    """The parser of :func:`link_command`'s flags."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {_MODULE}", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--target", required=True, help="the target's name, e.g. aws-eu")
    parser.add_argument("--source", required=True, help="the target's state database URL")
    parser.add_argument("--central", required=True, help="the central state database URL")
    parser.add_argument("--cut-flag", required=True, type=Path, help="cut while this file exists")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between rounds")
    parser.add_argument("--model", help="NAME@ALIAS whose artifacts the target must hold")
    parser.add_argument("--registry", help="the central registry's URL (with --model)")
    parser.add_argument("--store", help="the central artifact store (with --model)")
    parser.add_argument("--artifacts", help="the target's artifact folder (with --model)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one link until SIGTERM (the process :func:`link_command` starts); the exit status."""
    args = _parser().parse_args(argv)
    follow = None
    if args.model:
        from verdict.deploy.local._artifacts import ArtifactFollower

        follow = ArtifactFollower(args.target, args.model, args.registry, args.store,
                                  args.artifacts)  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        run_link(args.target, args.source, args.central, args.cut_flag, interval=args.interval,
                 follow=follow)  # fmt: skip
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if follow is not None:
            follow.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
