"""``verdict predict``: score a CSV or Parquet file with a registered model, in chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from verdict.cli._output import MODEL_REF, console, domain_errors


def predict(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help=f"The model version to score with: {MODEL_REF}.",
        ),
    ],
    data: Annotated[
        Path, typer.Argument(metavar="DATA", help="CSV or Parquet file of rows to score.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output file, .csv or .parquet (replaced).")
    ],
    id_columns: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Comma-separated columns copied to the output.",
            show_default="the schema's id columns",
        ),
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", help="Rows per chunk: bounds the memory used.")
    ] = 100_000,
    dask: Annotated[
        str | None,
        typer.Option("--dask", help="Score on a Dask cluster: a scheduler address, or 'local'."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Hide the progress display.")] = False,
) -> None:
    """Score every row of DATA with a registered model; write class, probabilities, version.

    Rows are checked against the model's schema exactly as the service checks them.
    """
    from verdict.registry import Registry
    from verdict.serving import score_file

    ids = None if id_columns is None else [c.strip() for c in id_columns.split(",") if c.strip()]
    with domain_errors(options=("chunk_rows", "dask")):
        with Registry() as registry:
            loaded = registry.load(ref)
        summary = score_file(
            loaded, data, out, chunk_rows=chunk_rows, id_columns=ids, progress=not quiet,
            dask=dask,
        )  # fmt: skip
    console.print(
        f"scored {summary.n_rows:,} rows with {loaded.ref} in {summary.seconds:.1f} s "
        f"({summary.rows_per_second:,.0f} rows/s) -> {summary.out}",
        highlight=False,
    )
    unknown = {c: n for c, n in summary.unknown_categories.items() if n}
    if unknown:
        console.print(f"[yellow]unknown categories (scored as unseen):[/] {unknown}")
