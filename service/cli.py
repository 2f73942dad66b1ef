"""`vertaal`: translate files and folders, run the service, manage the models.

A thin client: it parses options into Settings, calls the pipeline (or a running service), and
maps errors to exit codes here and nowhere else: 0 all done, 1 some articles failed, 2 Vertaal
cannot run as configured (model missing, bad setting, Redis or service unreachable),
130 interrupted. Heavy modules are imported inside commands: `vertaal serve` never loads torch.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.batch import ArticleFile, TranslateFile, find_articles, translate_files
from workers.connections import RedisUnavailable
from workers.errors import ConfigurationError, VertaalError
from workers.settings import Settings, load_settings

EXIT_FAILED_ARTICLES = 1
EXIT_CANNOT_RUN = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True)


def exits_cleanly(command: F) -> F:
    """Turn configuration and model errors into one readable message and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except VertaalError as error:
            stderr.print(f"[bold red]Error:[/] {error}", highlight=False)
            sys.exit(EXIT_CANNOT_RUN)
        except RedisUnavailable as error:
            stderr.print(f"[bold red]Error:[/] Redis is not answering: {error}", highlight=False)
            sys.exit(EXIT_CANNOT_RUN)
        except ValidationError as error:
            problems = "; ".join(
                f"VERTAAL_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in error.errors()
            )
            stderr.print(f"[bold red]Invalid setting:[/] {problems}", highlight=False)
            sys.exit(EXIT_CANNOT_RUN)
        except KeyboardInterrupt:
            stderr.print("Interrupted; finished outputs are kept, none is half-written.")
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="vertaal")
def main() -> None:
    """Vertaal: Dutch news articles to English translations and summaries."""


class RichReporter:
    """Progress bars for articles and the current article's sentences, on stderr."""

    def __init__(self, bars: Progress, total: int) -> None:
        self.bars = bars
        self.articles = bars.add_task("articles", total=total)
        self.sentences = bars.add_task("sentences", total=None, visible=False)

    def started(self, article: ArticleFile) -> None:
        self.bars.update(self.sentences, completed=0, total=None, visible=False)

    def progress(self, article: ArticleFile, done: int, total: int, stage: str) -> None:
        label = "sentences" if stage == "translate" else stage
        self.bars.update(
            self.sentences, completed=done, total=total, description=label, visible=True
        )

    def finished(self, article: ArticleFile, outcome: str, reason: str | None) -> None:
        self.bars.advance(self.articles)
        if outcome == "failed":
            self.bars.console.print(f"[red]failed[/] {article.name}: {reason}", highlight=False)


def _local_translate(settings: Settings) -> TranslateFile:
    """Translate in this process; models load on the first article that needs them."""
    from workers.engines import load_engines
    from workers.pipeline.reading import read_bytes
    from workers.pipeline.run import RunOptions, translate_article

    options = RunOptions.from_settings(settings)

    def translate(article: ArticleFile, data: bytes, on_progress: Any) -> Any:
        document = read_bytes(data, article.path.name)
        return translate_article(document, load_engines(settings), options, on_progress=on_progress)

    return translate


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out", "-o", "out_dir", required=True, envvar="VERTAAL_OUT", show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path), help="Folder for the outputs.",
)  # fmt: skip
@click.option(
    "--summary/--no-summary", default=None,
    help="Write a summary of each article (default on). [env var: VERTAAL_SUMMARY]",
)  # fmt: skip
@click.option(
    "--force", is_flag=True, envvar="VERTAAL_FORCE", show_envvar=True,
    help="Translate again even when the outputs are current.",
)  # fmt: skip
@click.option(
    "--any-language", is_flag=True, default=False,
    help="Translate even text that looks like another language than Dutch. "
    "[env var: VERTAAL_CHECK_LANGUAGE=false]",
)  # fmt: skip
@click.option(
    "--server", envvar="VERTAAL_SERVER", show_envvar=True, metavar="URL",
    help="Send the articles to a running Vertaal service instead of translating here.",
)  # fmt: skip
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
    envvar="VERTAAL_CONCURRENCY", show_envvar=True,
    help="With --server: articles in flight at once.",
)  # fmt: skip
@exits_cleanly
def translate(
    paths: tuple[Path, ...],
    out_dir: Path,
    summary: bool | None,
    force: bool,
    any_language: bool,
    server: str | None,
    concurrency: int,
) -> None:
    """Translate article files and folders (.txt .md .html .docx) into OUT.

    For each article, writes OUT/<relative path>/<stem>.json (the full result) and
    <stem>.en.md (title, date, summary, translation). Articles whose outputs are current are
    skipped. Exit code: 0 all done, 1 some articles failed, 2 cannot run as configured.
    """
    settings = load_settings(summary=summary, check_language=False if any_language else None)
    articles, refused = find_articles(list(paths), out_dir)
    translate_one: TranslateFile
    if server:
        from service.client import ServiceClient

        client = ServiceClient(
            server, summary=settings.summary, check_language=settings.check_language
        )
        signature, translate_one = client.signature(), client.translate
    else:
        from workers.engines import output_signature

        signature, translate_one, concurrency = (
            output_signature(settings),
            _local_translate(settings),
            1,
        )
    with Progress(
        TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=stderr, transient=False,
    ) as progress:  # fmt: skip
        for path, reason in refused:
            progress.console.print(f"[red]failed[/] {path}: {reason}", highlight=False)
        try:
            summary_ = translate_files(
                articles,
                translate_one,
                RichReporter(progress, len(articles)),
                signature=signature,
                force=force,
                concurrency=concurrency,
            )
        except BaseException:
            if server:
                client.stop()  # cancels the jobs in flight, so their threads end now
            raise
    summary_.failed[:0] = refused
    click.echo(summary_.line())
    if summary_.failed:
        sys.exit(EXIT_FAILED_ARTICLES)


def listen_options(command: F) -> F:
    """--host and --port, for the commands that run the web server."""
    command = click.option(
        "--port", type=int, envvar="VERTAAL_PORT", show_envvar=True, help="Port to listen on."
    )(command)
    return click.option(
        "--host", envvar="VERTAAL_HOST", show_envvar=True, help="Address to listen on."
    )(command)


@main.command()
@listen_options
@exits_cleanly
def serve(host: str | None, port: int | None) -> None:
    """Run the web app and job API under gunicorn (default http://127.0.0.1:8000/)."""
    from service.server import serve as run_server

    run_server(load_settings(host=host, port=port))


@main.command()
@click.option(
    "--processes", "-c", type=click.IntRange(1, 64), envvar="VERTAAL_WORKER_PROCESSES",
    show_envvar=True, help="Worker processes (each loads the models once).",
)  # fmt: skip
@click.option("--loglevel", default="INFO", show_default=True, help="Celery log level.")
@exits_cleanly
def worker(processes: int | None, loglevel: str) -> None:
    """Run a Celery worker that translates queued jobs.

    Checks that the models are there and tells the web process what they are before it
    starts; the models themselves load in each worker process on its first job.
    """
    from workers.cache import publish_signature
    from workers.celery_app import QUEUE, create_celery
    from workers.connections import redis_client
    from workers.engines import worker_signature

    settings = load_settings(worker_processes=processes)
    app = create_celery(settings)
    publish_signature(redis_client(settings.redis_url), worker_signature(settings))
    app.worker_main(
        [
            "worker",
            f"--concurrency={settings.worker_processes}",
            "--pool=prefork",
            f"--loglevel={loglevel}",
            f"--queues={QUEUE}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@main.command()
@listen_options
@exits_cleanly
def up(host: str | None, port: int | None) -> None:
    """Run everything on this machine: Redis (started if none answers), a worker, the web app.

    Ctrl-C stops all of it.
    """
    from service.stack import default_data_dir, run_stack
    from workers.engines import output_signature

    settings = load_settings(host=host, port=port)
    output_signature(settings)  # a missing model stops everything before anything starts
    sys.exit(run_stack(settings, default_data_dir(), announce=click.echo))


@main.group()
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
    from workers.engines import runtime
    from workers.engines.ctranslate2 import convert as convert_model
    from workers.engines.loading import resolve_model

    settings = load_settings()
    chosen = runtime(settings)
    if chosen.engine != "ctranslate2":
        raise ConfigurationError("VERTAAL_ENGINE is transformers: there is nothing to convert")
    for role, ref in _configured_models(settings):
        path = convert_model(
            resolve_model(ref, role), settings.converted_root(), chosen.compute_type
        )
        click.echo(f"{role}: {ref} -> {path}")


@models.command()
@exits_cleanly
def info() -> None:
    """Show the engine, the configured models, where they are, and whether they load."""
    from workers.engines import load_engines, runtime
    from workers.engines.ctranslate2 import converted_dir, is_converted
    from workers.engines.loading import resolve_model

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
        except VertaalError as error:
            problems.append(str(error))
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
                f"{role}: loads; beams {engine.num_beams}, "
                f"input limit {engine.max_input_tokens} tokens"
            )
    for problem in problems:
        stderr.print(f"[bold red]Error:[/] {problem}", highlight=False)
    if problems:
        sys.exit(EXIT_CANNOT_RUN)
