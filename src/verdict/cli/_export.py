"""``verdict export``: a registered model as a portable ONNX file, checked against the original."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verdict.cli._output import MODEL_REF, console, domain_errors
from verdict.errors import InvalidParameterError


def export(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help=f"The model version to export: {MODEL_REF}.",
        ),
    ],
    format: Annotated[
        str, typer.Option("--format", help="Export format; onnx is the only one.")
    ] = "onnx",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output file.", show_default="NAME-vN.onnx"),
    ] = None,
) -> None:
    """Export a registered model to ONNX; its outputs are checked on the held-out test rows.

    The file's 'label' output applies the model's decision policy and 'probabilities' follows
    the model's class order; both must match the native model (labels equal, probabilities
    within 1e-5) or nothing is written.
    """
    from verdict.registry import Registry, export_onnx

    with domain_errors():
        if format.lower() != "onnx":
            raise InvalidParameterError(
                f"--format {format!r} is not supported. To fix: use --format onnx."
            )
        with Registry() as registry:
            loaded = registry.load(ref)
            holdout = registry.frame(ref, "test_rows.parquet")
        target = loaded.schema.target
        check = holdout.drop(columns=[target]) if target in holdout.columns else holdout
        path = out or Path(f"{loaded.name}-v{loaded.version}.onnx")
        result = export_onnx(loaded, path, check=check)
    console.print(
        f"exported {loaded.ref} ({result.family}) to {result.path}: {result.n_bytes:,} bytes, "
        f"sha256 {result.sha256[:16]}; on {result.n_checked} held-out rows labels equal, max "
        f"|probability difference| {result.max_abs_proba_diff:.2e}",
        highlight=False,
    )
