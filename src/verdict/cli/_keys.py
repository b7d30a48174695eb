"""``verdict keys``: create, list and revoke the API keys of the prediction service.

Keys live in the service's state database (``VERDICT_STATE_URL``, default
``sqlite:///.verdict/service.db``), stored hashed: a token is printed once, at creation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from verdict.cli._output import (
    JsonFlag,
    command_group,
    console,
    domain_errors,
    err_console,
    service_settings,
)

keys_app = command_group(
    "keys",
    "Manage the prediction service's API keys: create, list, revoke.",
)


@contextmanager
def _store() -> Iterator[Any]:
    from verdict.state import KeyStore, open_state  # heavy imports only when a command runs

    engine = open_state(service_settings().state_database())
    try:
        yield KeyStore(engine, cache_seconds=0)
    finally:
        engine.dispose()


@keys_app.command("create")
def create(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="What the key is for, e.g. billing-service.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Create a key and print its token: the only time it is shown."""
    with domain_errors(), _store() as store:
        created = store.create(name)
    if as_json:
        return typer.echo(json.dumps(created.to_dict(), indent=2))
    err_console.print(
        "[bold yellow]warning:[/] store this token now; it is not kept and will not be shown "
        "again (revoke the key and create another if it is lost).",
        highlight=False,
    )
    console.print(f"key {created.key_id} ({created.name}) created", highlight=False)
    typer.echo(created.token)


@keys_app.command("list")
def list_keys(as_json: JsonFlag = False) -> None:
    """List every key with its id, name and dates (never a token or a hash)."""
    with domain_errors(), _store() as store:
        keys = [key.to_dict() for key in store.list()]
    if as_json:
        return typer.echo(json.dumps(keys, indent=2))
    table = Table(title="API keys")
    for column in ("key id", "name", "created", "status"):
        table.add_column(column)
    for key in keys:
        status = "active" if key["revoked"] is None else f"revoked {key['revoked'][:19]}"
        table.add_row(key["key_id"], key["name"], key["created"][:19], status)
    if not keys:
        table.caption = "none yet: verdict keys create NAME"
    console.print(table)


@keys_app.command("revoke")
def revoke(
    key: Annotated[
        str, typer.Argument(metavar="KEY", help="The key id, or the name of exactly one key.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key for good: requests with it get 403 within a second."""
    with domain_errors(), _store() as store:
        revoked = store.revoke(key)
    if as_json:
        return typer.echo(json.dumps(revoked.to_dict(), indent=2))
    console.print(f"key {revoked.key_id} ({revoked.name}) revoked", highlight=False)
