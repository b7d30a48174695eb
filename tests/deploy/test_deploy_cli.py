"""`verdict deploy plan`: tables, JSON, and refusals as one line with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from verdict.cli._deploy import deploy_app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "deploy.yaml"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(deploy_app, list(args))


def test_plan_prints_tables_and_reasons() -> None:
    result = invoke("plan", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    for text in ("Replicas per target", "Per provider", "total", "Binding constraints", "aws"):
        assert text in result.output


def test_plan_json() -> None:
    result = invoke("plan", str(EXAMPLE), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["model"] == "penguins@production"
    assert data["monthly_cost"] == data["hourly_cost"] * 730
    assert {t["name"] for t in data["targets"]} >= {"aws-eu", "gcp-eu", "azure-us"}


def test_infeasible_spec_exits_2_naming_the_constraint(tmp_path: Path) -> None:
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    spec["targets"] = [t for t in spec["targets"] if t["name"] != "gcp-eu"]
    spec["routing"]["failover"] = [t["name"] for t in spec["targets"]]
    path = tmp_path / "deploy.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = invoke("plan", str(path))
    assert result.exit_code == 2
    assert "residency: strict zone eu" in result.output and "To fix:" in result.output
    assert "Traceback" not in result.output


def test_invalid_spec_exits_2_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    path.write_text(text.replace("max_replicas: 6", "max_replicas: -1", 1), encoding="utf-8")
    result = invoke("plan", str(path))
    assert result.exit_code == 2
    assert "targets[0].max_replicas" in result.output
