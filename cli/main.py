"""`vertaal`: translate files and folders, run the service, manage the models.

A thin client: it parses options into Settings and calls the pipeline (or a running service).
Errors become exit codes in `cli/exits.py`. Heavy modules are imported inside commands:
`vertaal serve` never loads torch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.batch import (
    ArticleFile,
    Pending,
    TranslateMany,
    find_articles,
    output_identity,
    translate_files,
    translate_files_together,
)
from cli.exits import EXIT_FAILED_ARTICLES, F, exits_cleanly, stderr
from cli.keys import keys
from cli.models import models
from cli.probes import worker_alive
from workers.errors import InputError
from workers.pipeline.article import Result
from workers.pipeline.reading import suffix_list
from workers.settings import Settings, load_settings


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


class MemoryCache(dict[str, str]):
    """The sentence cache of one in-process article: its markup pass reuses its sentences."""

    def get_many(self, sentences: Any) -> dict[str, str]:
        return {s: self[s] for s in sentences if s in self}

    def set_many(self, translations: Any) -> None:
        self.update(translations)


def _local_translate(settings: Settings, keep_html: bool) -> TranslateMany:
    """Translate in this process, several articles at a time (VERTAAL_BATCH_ARTICLES) with
    their summaries batched; models load on the first articles that need them."""
    from workers.engines.factory import load_engines
    from workers.pipeline.article import SourceFile
    from workers.pipeline.reading import read_bytes
    from workers.pipeline.run import Draft, RunOptions, draft_article, finish_articles
    from workers.translating import with_markup

    options = RunOptions.from_settings(settings)

    def translate(
        group: Sequence[Pending], progress: Callable[[ArticleFile], Any]
    ) -> list[Result | Exception]:
        engines, caches = load_engines(settings), [MemoryCache() for _ in group]
        outcomes: dict[int, Result | Exception] = {}
        drafts: dict[int, Draft] = {}
        for i, item in enumerate(group):
            try:
                document = read_bytes(item.data, item.article.path.name)
                drafts[i] = draft_article(document, engines, options, cache=caches[i],
                                          on_progress=progress(item.article))  # fmt: skip
            except InputError as error:
                outcomes[i] = error
        for i, result in zip(drafts, finish_articles(list(drafts.values()), engines), strict=True):
            if keep_html and isinstance(result, Result):
                source = SourceFile(group[i].article.path.name, group[i].data)
                result = with_markup(result, source, engines, options, caches[i])
            outcomes[i] = result
        return [outcomes[i] for i in range(len(group))]

    return translate


TRANSLATE_HELP = f"""Translate article files and folders ({suffix_list()}) into OUT.

For each article, writes OUT/<relative path>/<stem>.json (the full result) and <stem>.en.md
(title, date, summary, translation). Articles whose outputs are current are skipped. Exit code:
0 all done, 1 some articles failed, 2 cannot run as configured.
"""


@main.command(help=TRANSLATE_HELP)
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
@click.option(
    "--api-key", envvar="VERTAAL_API_KEY", show_envvar=True, metavar="KEY",
    help="With --server: the API key to send.",
)  # fmt: skip
@click.option(
    "--keep-html", is_flag=True, envvar="VERTAAL_KEEP_HTML", show_envvar=True,
    help="For .html articles also write <stem>.en.html: the page translated, its markup kept.",
)  # fmt: skip
@click.option(
    "--notify", envvar="VERTAAL_NOTIFY", show_envvar=True, metavar="URL",
    help="POST the run's summary (JSON, signed with VERTAAL_WEBHOOK_SECRET if set) to URL.",
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
    api_key: str | None,
    keep_html: bool,
    notify: str | None,
) -> None:
    settings = load_settings(summary=summary, check_language=False if any_language else None)
    articles, refused = find_articles(list(paths), out_dir)
    if server:
        from cli.client import ServiceClient

        client = ServiceClient(
            server, summary=settings.summary, check_language=settings.check_language,
            api_key=api_key, markup=keep_html,
        )  # fmt: skip
        digests = client.model_digests()
    else:
        from workers.engines.signature import model_digests, output_signature

        digests = model_digests(output_signature(settings))
        translate_many = _local_translate(settings, keep_html)
    identity = output_identity(
        digests, summary=settings.summary, check_language=settings.check_language,
        markup=keep_html,
    )  # fmt: skip
    with Progress(
        TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=stderr, transient=False,
    ) as progress:  # fmt: skip
        for path, reason in refused:
            progress.console.print(f"[red]failed[/] {path}: {reason}", highlight=False)
        reporter = RichReporter(progress, len(articles))
        try:
            if server:
                summary_ = translate_files(
                    articles, client.translate, reporter, identity=identity, force=force,
                    concurrency=concurrency,
                )  # fmt: skip
            else:
                summary_ = translate_files_together(
                    articles, translate_many, reporter, identity=identity, force=force,
                    together=settings.batch_articles,
                )  # fmt: skip
        except BaseException:
            if server:
                client.stop()  # cancels the jobs in flight, so their threads end now
            raise
    summary_.failed[:0] = refused
    click.echo(summary_.line())
    if notify:
        from cli.notify import notify_summary

        notify_summary(notify, summary_, settings.webhook_secret)
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
@click.option(
    "--queues", default="vertaal,vertaal-short,vertaal-webhooks", show_default=True,
    help="The queues to take: vertaal (articles and documents), vertaal-short (LibreTranslate "
    "and DeepL texts, answered while the client waits), vertaal-webhooks (callbacks).",
)  # fmt: skip
@exits_cleanly
def worker(processes: int | None, loglevel: str, queues: str) -> None:
    """Run a Celery worker that translates queued jobs (and delivers their callbacks).

    Checks that the models are there and tells the web process what they are before it
    starts; the models themselves load in each worker process on its first job.
    """
    from workers.worker import run_worker

    taken = tuple(q.strip() for q in queues.split(",") if q.strip())
    run_worker(load_settings(worker_processes=processes), loglevel, taken)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--port", default=5555, show_default=True, help="Port Flower listens on.")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.pass_context
@exits_cleanly
def flower(context: click.Context, port: int, address: str) -> None:
    """Run Celery Flower against Vertaal's broker: every job's task, its state and runtime.

    Further options go to Flower itself (for example --basic-auth=user:password).
    """
    from workers.celery_app import create_celery

    app = create_celery(load_settings())
    app.start(["flower", f"--port={port}", f"--address={address}", *context.args])


@main.command()
@listen_options
@exits_cleanly
def up(host: str | None, port: int | None) -> None:
    """Run everything on this machine: Redis (started if none answers), a worker, the web app.

    Ctrl-C stops all of it.
    """
    from cli.stack import default_data_dir, run_stack
    from workers.engines.signature import output_signature

    settings = load_settings(host=host, port=port)
    output_signature(settings)  # a missing model stops everything before anything starts
    sys.exit(run_stack(settings, default_data_dir(), announce=click.echo))


main.add_command(models)
main.add_command(keys)
main.add_command(worker_alive)
