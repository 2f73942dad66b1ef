"""`vertaal models download | convert | info`: fetch the configured models and check them."""

from __future__ import annotations

import sys

import click

from cli.exits import EXIT_CANNOT_RUN, error, exits_cleanly
from workers.errors import ConfigurationError, VertaalError
from workers.settings import Settings, load_settings


@click.group()
def models() -> None:
    """Fetch the configured models and check that they load."""


def _configured_models(settings: Settings) -> list[tuple[str, str]]:
    return [("translation", settings.translation_model), ("summary", settings.summary_model)]


@models.command()
@exits_cleanly
def download() -> None:
    """Fetch the configured models into the Hugging Face cache (needs network)."""
    from workers.engines.loading import download_model

    settings = load_settings()
    for role, ref in _configured_models(settings):
        source = download_model(ref, role)
        click.echo(f"{role}: {ref} -> {source.path} (revision {source.revision})")


@models.command()
@exits_cleanly
def convert() -> None:
    """Convert the configured models for CTranslate2 (int8 on CPU, float16 on a GPU).

    Workers with VERTAAL_ENGINE=auto convert on first use too; this does it ahead of time.
    """
    from workers.engines.ctranslate2 import convert as convert_model
    from workers.engines.loading import resolve_model
    from workers.engines.runtime import runtime

    settings = load_settings()
    chosen = runtime(settings)
    if chosen.engine != "ctranslate2":
        raise ConfigurationError(f"VERTAAL_ENGINE is {chosen.engine}: there is nothing to convert")
    for role, ref in _configured_models(settings):
        path = convert_model(
            resolve_model(ref, role), settings.converted_root(), chosen.compute_type
        )
        click.echo(f"{role}: {ref} -> {path}")


@models.command()
@exits_cleanly
def info() -> None:
    """Show the engine, the configured models, where they are, and whether they load."""
    from workers.engines.ctranslate2 import converted_dir, is_converted
    from workers.engines.factory import load_engines
    from workers.engines.loading import resolve_model
    from workers.engines.runtime import runtime

    settings = load_settings()
    chosen = runtime(settings)
    precision = f" {chosen.compute_type}" if chosen.engine == "ctranslate2" else ""
    click.echo(f"engine: {chosen.engine}{precision} on {chosen.device}, {chosen.threads} threads")
    problems = []
    for role, ref in _configured_models(settings):
        click.echo(f"{role} model: {ref}")
        try:
            source = resolve_model(ref, role, download=False)
            click.echo(f"  files:    {source.path}\n  revision: {source.revision}")
        except VertaalError as missing:
            problems.append(str(missing))
            click.echo("  files:    missing")
            continue
        if chosen.engine == "ctranslate2":
            target = converted_dir(settings.converted_root(), source, chosen.compute_type)
            state = target if is_converted(target) else "not yet (converted on first use)"
            click.echo(f"  converted: {state}")
    if not problems:
        engines = load_engines(settings, summary=True)
        assert engines.summarizer is not None
        for role, engine in (("translation", engines.translator), ("summary", engines.summarizer)):
            click.echo(
                f"{role}: loads on {engine.backend}; beams {engine.num_beams}, "
                f"input limit {engine.max_input_tokens} tokens"
            )
    for problem in problems:
        error(problem)
    if problems:
        sys.exit(EXIT_CANNOT_RUN)
