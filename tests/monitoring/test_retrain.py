"""``retrain``: a challenger on data plus feedback, promoted only when significantly better."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import typer
from monitor_support import World, make_world, population, send, utc
from sqlalchemy import select, update
from typer.testing import CliRunner

from verdict.cli._retrain import retrain as cli_retrain
from verdict.errors import InvalidInputError
from verdict.monitoring._retrain import EVENT_KIND, RetrainResult, retrain
from verdict.state._database import feedback

SWAP = {"Adelie": "Chinstrap", "Chinstrap": "Adelie"}


@pytest.fixture
def world(tmp_path: Path) -> World:
    made = make_world(tmp_path)
    yield made
    made.close()


def _retrain(world: World, **options: object) -> RetrainResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return retrain("penguins", registry=world.registry, log=world.log, time_budget=6,
                       out=world.home / "retrain", **options)  # fmt: skip


def _decisions(world: World) -> list[dict]:
    return [e.payload for e in world.registry.events("penguins") if e.kind == EVENT_KIND]


def _show(world: World, ref: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from verdict.cli import app

    monkeypatch.setenv("VERDICT_HOME", str(world.home))
    result = CliRunner().invoke(app, ["models", "show", ref])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.mark.slow
def test_challenger_trained_on_shifted_labels_is_promoted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = population(1500, seed=1)
    shifted = rows["species"].replace(SWAP)  # the relationship changed: two species swapped
    send(world, rows, start=utc(0), labels=shifted)

    result = _retrain(world)

    assert result.promoted and result.decision.promote
    assert result.decision.p_value < 0.05
    assert result.decision.challenger_score > result.decision.champion_score + 0.2
    assert (result.champion, result.challenger) == ("penguins@v1", "penguins@v2")
    assert result.n_holdout == 450 and result.n_feedback_train == 1050
    assert world.registry.get("penguins@production").version == 2
    assert world.registry.get("penguins@challenger").version == 2
    (stored,) = _decisions(world)
    assert stored["promote"] is True and stored["test"] == result.decision.test
    assert stored["p_value"] == pytest.approx(result.decision.p_value)
    assert stored["summary"].startswith("promoted: penguins@v2 vs penguins@v1")
    assert " ".join(stored["summary"].split()) in _show(world, "penguins@production", monkeypatch)


@pytest.mark.slow
def test_challenger_differing_only_by_noise_is_not_promoted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = population(1000, seed=2)
    send(world, rows, start=utc(0), labels=rows["species"])  # nothing changed
    monkeypatch.setenv("VERDICT_HOME", str(world.home))  # the CLI's registry and log

    command = typer.Typer()
    command.command()(cli_retrain)
    args = ["penguins", "--time-budget", "6", "--out", str(world.home / "cli-run"), "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shown = CliRunner().invoke(command, args)
        as_json = CliRunner().invoke(
            command, [*args[:3], "--out", str(world.home / "b"), "--quiet", "--json"]
        )

    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "KEPT: production stays penguins@v1" in text and "paired_bootstrap" in text
    result = json.loads(as_json.stdout)
    assert result["promoted"] is False and result["decision"]["p_value"] >= 0.05
    assert world.registry.get("penguins@production").version == 1
    assert world.registry.get("penguins@challenger").version == 3  # one version per retrain
    stored = _decisions(world)
    assert [d["promote"] for d in stored] == [False, False]
    assert stored[-1]["p_value"] == pytest.approx(result["decision"]["p_value"])
    assert stored[-1]["summary"].startswith("kept: penguins@v3 vs penguins@v1")
    assert stored[0]["test"] == "paired_bootstrap"  # the primary metric is f1_macro


def test_bad_input_is_refused_and_changes_nothing(world: World) -> None:
    rows = population(60, seed=3)
    send(world, rows, start=utc(0), labels=rows["species"])
    before = [e.kind for e in world.registry.events("penguins")]

    with pytest.raises(InvalidInputError, match=r"60 labelled row.*at least 100"):
        _retrain(world)

    more = population(200, seed=4)
    labels = more["species"].copy()
    labels.iloc[[5, 17, 90]] = ["Emperor", "Emperor", "King"]
    with pytest.raises(InvalidInputError, match=r"lacks the column\(s\) \['species'\]"):
        _retrain(world, data=more.drop(columns="species"), min_holdout=50)
    with pytest.raises(InvalidInputError, match=r"new data holds 3 label"):
        _retrain(world, data=more.assign(species=labels), min_holdout=50)

    send(world, more, start=utc(10), labels=more["species"])
    _relabel(world, {5: "Emperor", 17: "Emperor", 90: "King"}, 200)  # labels of no class
    left_out = r"257 usable .*left out 3 feedback labels: 3 not one of .*'Emperor', 'King'"
    with pytest.raises(InvalidInputError, match=left_out):
        _retrain(world, min_holdout=300)  # are left out, and said so; not a refusal

    assert [v.version for v in world.registry.versions("penguins")] == [1]
    assert [e.kind for e in world.registry.events("penguins")] == before
    assert len(world.log.labelled("penguins")) == 260  # the feedback is all still there


def _relabel(world: World, labels: dict[int, str], sent: int) -> None:
    """Overwrite labels among the ``sent`` newest (by the position they were sent at), as a
    database written before the service checked labels would hold them."""
    with world.log._engine.begin() as connection:
        ids = connection.scalars(select(feedback.c.id).order_by(feedback.c.id)).all()[-sent:]
        for position, label in labels.items():
            query = update(feedback).where(feedback.c.id == ids[position])
            connection.execute(query.values(label=label))


def test_options_are_checked() -> None:
    unused = World(Path("."), None, None)  # type: ignore[arg-type]  # checked before any use
    with pytest.raises(InvalidInputError, match="'holdout' parameter of retrain must be a share"):
        _retrain(unused, holdout=1.5)
    with pytest.raises(
        InvalidInputError, match="'min_holdout' parameter of retrain must be a positive"
    ):
        _retrain(unused, min_holdout=0)
