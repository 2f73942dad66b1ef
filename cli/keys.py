"""`vertaal keys create | list | revoke`: the API keys of the service (in its Redis)."""

from __future__ import annotations

import sys

import click

from cli.exits import EXIT_CANNOT_RUN, error, exits_cleanly
from workers.connections import redis_client
from workers.operations.keys import KeyStore, valid_rate
from workers.settings import load_settings


def _store() -> KeyStore:
    return KeyStore(redis_client(load_settings().redis_url))


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (stored hashed in the service's Redis)."""


def _rate(context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    if value is not None and not valid_rate(value):
        raise click.BadParameter(f"{value!r} is not a rate such as 60/minute;1000/day")
    return value


@keys.command()
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option(
    "--chars-per-month", type=click.IntRange(1), help="Monthly quota of characters translated."
)
@click.option(
    "--rate", callback=_rate, help="Its submission rate limit, e.g. 600/minute;10000/day."
)
@click.option(
    "--operator", is_flag=True,
    help="An operator's key: it may read every key's jobs (for support; each read is logged).",
)  # fmt: skip
@exits_cleanly
def create(name: str, chars_per_month: int | None, rate: str | None, operator: bool) -> None:
    """Make a key. It is shown this once: only its hash is kept."""
    made = _store().create(name, chars_per_month=chars_per_month, rate=rate, operator=operator)
    click.echo(f"id:             {made.record.id}")
    click.echo(f"key:            {made.key}")
    click.echo(f"webhook secret: {made.record.webhook_secret}")
    click.echo("Store the key and the secret now: they are not shown again.", err=True)


@keys.command(name="list")
@exits_cleanly
def list_keys() -> None:
    """The keys, with their quota, rate and this month's use (never the keys themselves)."""
    store = _store()
    click.echo(f"{'id':<13}{'name':<24}{'used this month':>16}{'quota':>14}  {'rate':<20}status")
    for record in store.all():
        quota = f"{record.chars_per_month:,}" if record.chars_per_month else "-"
        status = "revoked" if record.revoked else "operator" if record.operator else "active"
        click.echo(
            f"{record.id:<13}{record.name[:23]:<24}{store.usage(record.id):>16,}{quota:>14}  "
            f"{record.rate or 'default':<20}{status}"
        )


@keys.command()
@click.argument("key_id")
@exits_cleanly
def revoke(key_id: str) -> None:
    """Revoke a key at once; its requests get 401 from now on."""
    revoked = _store().revoke(key_id)
    if revoked is None:
        error(f"there is no key with id {key_id!r} (see `vertaal keys list`)")
        sys.exit(EXIT_CANNOT_RUN)
    click.echo(f"revoked {revoked.id} ({revoked.name})")
