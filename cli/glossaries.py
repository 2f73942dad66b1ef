"""`vertaal glossaries create | list | show | delete`: the service's global glossaries, written
straight to its Redis (VERTAAL_REDIS_URL), as `vertaal keys` writes keys. Every sender may use
a global glossary; only the operator, here, changes it. Also how `vertaal translate
--glossary` reads a glossary: a file here, or a global glossary by its id.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from cli.exits import exits_cleanly
from workers.connections import redis_client
from workers.errors import GlossaryError
from workers.glossaries import GLOBAL, GlossaryNotFoundError, GlossaryStore, StoredGlossary
from workers.pipeline.terms.glossary import Glossary
from workers.settings import Settings, load_settings


def glossary_store(settings: Settings) -> GlossaryStore:
    return GlossaryStore(redis_client(settings.redis_url), settings.job_ttl)


def read_glossary(path: Path, name: str | None = None, as_csv: bool = False) -> Glossary:
    """A glossary file (TSV; CSV with `as_csv` or a .csv name), named `name` or by its stem."""
    entries_format = "csv" if as_csv or path.suffix.lower() == ".csv" else "tsv"
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise GlossaryError(f"cannot read the glossary {path}: {problem}") from None
    return Glossary.parse(name or path.stem, text, entries_format)


def global_glossary(store: GlossaryStore, glossary_id: str) -> StoredGlossary:
    """A global glossary (what this command manages), or GlossaryNotFoundError."""
    found = store.get(glossary_id)
    if found is None or found.owner != GLOBAL:
        raise GlossaryNotFoundError(
            f"there is no global glossary {glossary_id!r} (see `vertaal glossaries list`)"
        )
    return found


def stored_entries(store: GlossaryStore, record: StoredGlossary) -> Glossary:
    found = store.entries(record.digest)
    if found is None:
        raise GlossaryNotFoundError(f"the entries of glossary {record.id!r} are gone")
    return found


@click.group()
def glossaries() -> None:
    """Create, list, show and delete global glossaries (in the service's Redis): Dutch →
    English terms every sender may use (docs/terms-and-checks.md)."""


@glossaries.command()
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--csv", "as_csv", is_flag=True, help="FILE is CSV (so is a FILE named *.csv).")
@exits_cleanly
def create(name: str, file: Path, as_csv: bool) -> None:
    """Make a global glossary NAME from FILE: one `Dutch<TAB>English` per line."""
    store = glossary_store(load_settings())
    made = store.create(read_glossary(file, name, as_csv), GLOBAL)
    click.echo(f"id:      {made.id}")
    click.echo(f"name:    {made.name}")
    click.echo(f"entries: {made.entries}")
    click.echo(f"version: {made.digest}")


@glossaries.command(name="list")
@exits_cleanly
def list_glossaries() -> None:
    """The global glossaries: id, entries, created, name."""
    click.echo(f"{'id':<34}{'entries':>8}  {'created':<31}name")
    for record in glossary_store(load_settings()).all():
        if record.owner == GLOBAL:
            click.echo(f"{record.id:<34}{record.entries:>8}  {record.created_at:<31}{record.name}")


@glossaries.command()
@click.argument("glossary_id")
@exits_cleanly
def show(glossary_id: str) -> None:
    """A global glossary's entries, as TSV (what `create` reads back); its name on stderr."""
    store = glossary_store(load_settings())
    record = global_glossary(store, glossary_id)
    click.echo(f"{record.name}: {record.entries} entries, version {record.digest}", err=True)
    click.echo(stored_entries(store, record).to_tsv(), nl=False)


@glossaries.command()
@click.argument("glossary_id")
@exits_cleanly
def delete(glossary_id: str) -> None:
    """Delete a global glossary; jobs already sent with it keep their version."""
    store = glossary_store(load_settings())
    record = global_glossary(store, glossary_id)
    store.delete(record)
    click.echo(f"deleted {record.id} ({record.name})")


# What `vertaal translate --glossary` names: a glossary file, or a glossary's id.
GlossaryChoice = Path | str


def glossary_choice(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> GlossaryChoice | None:
    """--glossary's FILE (a file that exists) or ID (32 hexadecimal digits)."""
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_file():
        return path
    if re.fullmatch("[0-9a-f]{32}", value):
        return value
    raise click.BadParameter(f"{value!r} is neither a glossary file nor a glossary id")


def local_glossary(settings: Settings, chosen: GlossaryChoice | None) -> Glossary | None:
    """The glossary to enforce in this process: a file, or a global glossary by its id."""
    if chosen is None:
        return None
    if isinstance(chosen, Path):
        return read_glossary(chosen)
    store = glossary_store(settings)
    return stored_entries(store, global_glossary(store, chosen))
