"""A failover drill on the local multi-cloud topology: a steady EU stream while clouds die.

The topology is the README's, ``examples/deploy-local.yaml``: three targets on three providers
(``aws-eu`` and ``gcp-eu`` in zone ``eu``, strict; ``azure-us`` in ``us``), one replica each,
links to the center, the supervisor, and HAProxy in front with TLS, all as processes on
127.0.0.1. A few threads send
EU-marked predictions through the gateway over kept-alive connections, without pause, while
the drill kills a provider (SIGKILL of its replicas, marked as an outage so the supervisor
leaves it down, the way a cloud disappears), revives it, does the same to the other, then
kills both and revives both.

What it counts, from the client's side and from the center's database after ``down``:

- **answered then lost**: a 200 whose request id is not in the central log, once per row
  (``verdict logs export``), after ``down`` shipped every target's backlog; duplicates too;
- **closed without an answer**: a request that got no HTTP answer at all;
- **EU answered outside the EU**: a 200 from a target not in zone ``eu``;
- 503 ``no_target_in_zone``: expected, and only while both EU providers are down;
- latency percentiles per phase, and the p99 of the whole drill.

No peer runs the same drill (the point is what verdict's own gateway, replicas and log do),
so the figures are absolute. Not part of ``make test``; the tests run a shorter version.

    .venv/bin/python bench/failover.py                  # phases of 6 s, 4 client threads
    .venv/bin/python bench/failover.py --phase 3 --threads 2      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import ssl
import statistics
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from palmerpenguins import load_penguins

from verdict.deploy.local import _ops as ops
from verdict.deploy.local._state import DeploymentState
from verdict.deploy.local._up import down, up
from verdict.pipeline import train
from verdict.registry import Registry
from verdict.state import export_log, open_state

EU = {"aws-eu", "gcp-eu"}
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "deploy-local.yaml"
# (phase name, what happens at its start): kill/revive take provider names.
PLAN: list[tuple[str, list[tuple[str, str]]]] = [
    ("steady", []),
    ("aws killed", [("kill", "aws")]),
    ("aws revived", [("revive", "aws")]),
    ("gcp killed", [("kill", "gcp")]),
    ("gcp revived", [("revive", "gcp")]),
    ("both killed", [("kill", "aws"), ("kill", "gcp")]),
    ("both revived", [("revive", "aws"), ("revive", "gcp")]),
]


@dataclass
class Outcome:
    phase: str
    seconds: float
    status: int | None  # None: no HTTP answer
    target: str | None = None
    request_id: str | None = None
    kind: str | None = None  # the error kind of a refusal
    error: str | None = None


@dataclass
class Drill:
    state: DeploymentState
    rows: list[dict[str, Any]]
    phase: str = "steady"
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.state.gateway_url,
            verify=ssl.create_default_context(cafile=self.state.ca_certificate),
            headers={"Authorization": f"Bearer {self.state.api_key()}", "X-Verdict-Zone": "eu"},
            timeout=30,
        )

    def run(self, n: int) -> None:
        body = {"instances": self.rows[n % len(self.rows) :][:1] or self.rows[:1]}
        with self.client() as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    reply = client.post("/v1/models/penguins/predict", json=body)
                except httpx.HTTPError as exc:
                    self.outcomes.append(Outcome(self.phase, time.perf_counter() - started, None,
                                                 error=repr(exc)))  # fmt: skip
                    continue
                seconds, phase = time.perf_counter() - started, self.phase  # when it ended
                data = _json(reply)
                self.outcomes.append(Outcome(
                    phase, seconds, reply.status_code, reply.headers.get("X-Verdict-Target"),
                    data.get("request_id"), (data.get("error") or {}).get("kind"),
                ))  # fmt: skip


def _json(reply: httpx.Response) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def prepare(home: Path) -> Path:
    with warnings.catch_warnings(), Registry(home=home) as registry:
        warnings.simplefilter("ignore")
        run = train(load_penguins(), "species", models=["softmax"], time_budget=3, cv=3,
                    quiet=True, out=home / "run")  # fmt: skip
        registry.register(run, "penguins", alias="production")
    spec = home / "deploy.yaml"
    shutil.copyfile(EXAMPLE, spec)
    return spec


def drill(home: Path, phase_seconds: float, threads: int) -> tuple[Drill, dict[str, Any]]:
    state, _ = up(prepare(home), home=home, max_replicas=1)
    rows = load_penguins().drop(columns="species").dropna().head(50).to_dict("records")
    run = Drill(state, rows)
    workers = [threading.Thread(target=run.run, args=(i,)) for i in range(threads)]
    actions: list[tuple[str, str, float]] = []
    try:
        for worker in workers:
            worker.start()
        for phase, steps in PLAN:
            run.phase = phase
            started = time.monotonic()
            for action, provider in steps:
                begun = time.perf_counter()
                (ops.kill if action == "kill" else ops.revive)(provider, home=home)
                actions.append((action, provider, time.perf_counter() - begun))
            time.sleep(max(0.0, phase_seconds - (time.monotonic() - started)))
    finally:
        run.stop.set()
        for worker in workers:
            worker.join(timeout=60)
        report = down(home)
    central = open_state(state.central_state_url)
    try:
        out = home / "log.jsonl"
        export_log(central, "penguins", out)
        logged = Counter(
            json.loads(line)["request_id"] for line in out.read_text().splitlines() if line
        )
    finally:
        central.dispose()
    facts = {"actions": actions, "left": report.left, "backlog": report.backlog,
             "logged": logged}  # fmt: skip
    return run, facts


def summarise(run: Drill, facts: dict[str, Any]) -> dict[str, Any]:
    outcomes, logged = run.outcomes, facts["logged"]
    answered = [o for o in outcomes if o.status == 200]
    lost = [o.request_id for o in answered if logged.get(o.request_id, 0) == 0]
    twice = [o.request_id for o in answered if logged.get(o.request_id, 0) > 1]
    closed = [o for o in outcomes if o.status is None]
    outside = [o for o in answered if o.target not in EU]
    refused = Counter((o.phase, o.status, o.kind) for o in outcomes if o.status not in (200,))
    phases = {}
    for phase, _ in PLAN:
        mine = [o for o in outcomes if o.phase == phase]
        ms = sorted(o.seconds * 1000 for o in mine)
        phases[phase] = {
            "requests": len(mine),
            "ok": sum(o.status == 200 for o in mine),
            "503": sum(o.status == 503 for o in mine),
            "p50_ms": _pct(ms, 50),
            "p99_ms": _pct(ms, 99),
            "max_ms": ms[-1] if ms else None,
            "served_by": dict(Counter(o.target for o in mine if o.status == 200)),
        }
    everything = sorted(o.seconds * 1000 for o in outcomes)
    return {
        "requests": len(outcomes),
        "answered_200": len(answered),
        "answered_then_lost": len(lost),
        "logged_twice": len(twice),
        "closed_without_answer": len(closed),
        "eu_answered_outside_eu": len(outside),
        "other_answers": {f"{p}: {s} {k}": n for (p, s, k), n in refused.items()},
        "p50_ms": _pct(everything, 50),
        "p99_ms": _pct(everything, 99),
        "max_ms": everything[-1] if everything else None,
        "phases": phases,
        "actions_s": [(a, p, round(s, 2)) for a, p, s in facts["actions"]],
        "down_left_pids": facts["left"],
        "down_backlog": facts["backlog"],
        "examples": {"lost": lost[:3], "closed": [o.error for o in closed[:3]]},
    }


def _pct(sorted_ms: list[float], q: float) -> float | None:
    if not sorted_ms:
        return None
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[int(q) - 1]


def show(summary: dict[str, Any]) -> None:
    print(f"{'phase':<14} {'requests':>8} {'200':>6} {'503':>5} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8}  served by")  # fmt: skip
    for phase, p in summary["phases"].items():
        print(f"{phase:<14} {p['requests']:>8} {p['ok']:>6} {p['503']:>5} "
              f"{_fmt(p['p50_ms']):>8} {_fmt(p['p99_ms']):>8} {_fmt(p['max_ms']):>8}  "
              f"{p['served_by']}")  # fmt: skip
    print()
    for key in ("requests", "answered_200", "answered_then_lost", "logged_twice",
                "closed_without_answer", "eu_answered_outside_eu"):  # fmt: skip
        print(f"{key:<24} {summary[key]}")
    print(f"{'p50 / p99 / max (ms)':<24} {_fmt(summary['p50_ms'])} / "
          f"{_fmt(summary['p99_ms'])} / {_fmt(summary['max_ms'])}")  # fmt: skip
    print(f"{'other answers':<24} {summary['other_answers']}")
    print(f"{'kill/revive took (s)':<24} {summary['actions_s']}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--phase", type=float, default=6.0, help="seconds per phase")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--out", type=Path, default=Path("bench/out/failover.json"))
    parser.add_argument("--keep", action="store_true", help="keep the deployment's folder")
    args = parser.parse_args()
    if args.keep:  # for a post-mortem: the gateway's, replicas' and links' logs stay
        home = Path(tempfile.mkdtemp(prefix="verdict-failover-"))
        run, facts = drill(home, args.phase, args.threads)
        print(f"kept {home}")
    else:
        with tempfile.TemporaryDirectory(prefix="verdict-failover-") as tmp:
            run, facts = drill(Path(tmp), args.phase, args.threads)
    summary = summarise(run, facts)
    summary["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()}  # fmt: skip
    show(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    failed = (summary["answered_then_lost"] or summary["logged_twice"]
              or summary["closed_without_answer"] or summary["eu_answered_outside_eu"])  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
