"""`vertaal translate`: article files and folders into an output folder, once or watching.

Parses the options, picks the route (this process, or a running service with --server), and
runs the folder once or keeps watching it; every file's outcome also goes to OUT/index.jsonl.
Errors and stop signals become exit codes in `cli/exits.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.batch import (
    ArticleFile,
    BatchReporter,
    BatchSummary,
    Pending,
    TranslateMany,
    output_identity,
    translate_files,
    translate_files_together,
)
from cli.exits import EXIT_FAILED_ARTICLES, exits_cleanly, stderr, stopped_by_signals
from cli.folders import Found, find_articles
from cli.glossaries import GlossaryChoice, glossary_choice, local_glossary
from cli.index import RunIndex
from cli.reporters import LineReporter, RichReporter, show_ignored, show_refused, show_to_check
from workers.errors import InputError
from workers.pipeline.article import Result
from workers.pipeline.reading import suffix_list
from workers.pipeline.terms.glossary import Glossary
from workers.settings import Settings, load_settings


class MemoryCache(dict[str, str]):
    """The sentence cache of one in-process article: its markup pass reuses its sentences."""

    def get_many(self, sentences: Any) -> dict[str, str]:
        return {s: self[s] for s in sentences if s in self}

    def set_many(self, translations: Any) -> None:
        self.update(translations)


def _local_translate(
    settings: Settings, keep_html: bool, glossary: Glossary | None = None
) -> TranslateMany:
    """Translate in this process, several articles at a time (VERTAAL_BATCH_ARTICLES) with
    their summaries batched, the glossary's terms (if any) enforced; models load on the
    first articles that need them."""
    from workers.engines.factory import load_engines
    from workers.pipeline.article import SourceFile
    from workers.pipeline.reading import read_bytes
    from workers.pipeline.run import Draft, RunOptions, draft_article, finish_articles
    from workers.translating import with_markup

    options = RunOptions.from_settings(settings, glossary)

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


@dataclass(frozen=True)
class TranslateOptions:
    """The options of one `vertaal translate`, bundled."""

    out_dir: Path
    force: bool
    server: str | None
    concurrency: int
    api_key: str | None
    keep_html: bool
    glossary: GlossaryChoice | None = None


# Translates a group of articles by the chosen route, telling a reporter and the index.
Route = Callable[[Sequence[ArticleFile], BatchReporter, RunIndex], BatchSummary]


def _route(settings: Settings, options: TranslateOptions) -> tuple[Route, Callable[[], None]]:
    """How articles are translated (in this process, or by the service at --server), and
    what stops the articles in flight."""
    if options.server:
        from cli.client import ServiceClient

        client = ServiceClient(
            options.server, summary=settings.summary, check_language=settings.check_language,
            api_key=options.api_key, markup=options.keep_html,
        )  # fmt: skip
        digests = client.model_digests()
        glossary_version = client.use_glossary(options.glossary) if options.glossary else None
    else:
        from workers.engines.signature import model_digests, output_signature

        digests = model_digests(output_signature(settings))
        glossary = local_glossary(settings, options.glossary)
        glossary_version = glossary.digest if glossary is not None else None
        translate_many = _local_translate(settings, options.keep_html, glossary)
    identity = output_identity(
        digests, summary=settings.summary, check_language=settings.check_language,
        markup=options.keep_html, glossary=glossary_version,
    )  # fmt: skip

    def route(
        articles: Sequence[ArticleFile], reporter: BatchReporter, index: RunIndex
    ) -> BatchSummary:
        if options.server:
            return translate_files(
                articles, client.translate, reporter, identity=identity, force=options.force,
                concurrency=options.concurrency, index=index,
            )  # fmt: skip
        return translate_files_together(
            articles, translate_many, reporter, identity=identity, force=options.force,
            together=settings.batch_articles, index=index,
        )  # fmt: skip

    # --server: cancels the jobs in flight, so their threads end now.
    return route, (client.stop if options.server else lambda: None)


def _translate_found(
    found: Found, route: Route, index: RunIndex, reporter: BatchReporter
) -> BatchSummary:
    """One pass over what was found: refused and ignored files first to the index, then the
    articles."""
    for path, reason in found.refused:
        index.other(path, "failed", reason)
    for path in found.ignored:
        index.other(path, "ignored", "not an article type Vertaal reads")
    summary = route(found.articles, reporter, index)
    summary.failed[:0] = found.refused
    summary.ignored += found.ignored
    return summary


def _run_once(found: Found, route: Route, index: RunIndex) -> BatchSummary:
    with Progress(
        TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=stderr, transient=False,
    ) as progress:  # fmt: skip
        show_refused(progress.console, found.refused)
        summary = _translate_found(found, route, index, RichReporter(progress, len(found.articles)))
    show_ignored(stderr, summary.ignored, index.path)
    show_to_check(stderr, summary)
    return summary


def _watch(
    paths: Sequence[Path], out_dir: Path, settle: float, route: Route, index: RunIndex
) -> NoReturn:
    """Translate what is there and what lands, until a stop signal; then the session's
    summary line, and the signal's exit code."""
    from cli.watch import watch_folders

    total = BatchSummary()

    def take(found: Found) -> None:
        show_refused(stderr, found.refused)
        total.extend(_translate_found(found, route, index, LineReporter(stderr)))
        show_ignored(stderr, found.ignored, index.path)

    folders = ", ".join(str(p) for p in paths)
    stderr.print(f"Watching {folders}; Ctrl-C or SIGTERM stops.", highlight=False)
    try:
        watch_folders(paths, out_dir, settle, take)
    except KeyboardInterrupt:
        show_to_check(stderr, total)
        click.echo(total.line())
        raise


TRANSLATE_HELP = f"""Translate article files and folders ({suffix_list()}) into OUT.

For each article, writes OUT/<relative path>/<stem>.json (the full result) and <stem>.en.md
(title, date, summary, translation), and a line per file to OUT/index.jsonl. Articles whose
outputs are current are skipped; files of other types in a folder are ignored (counted and
listed). With --watch, keeps translating files as they land, once each has stopped changing.

Exit code: 0 all done, 1 some articles failed, 2 cannot run as configured, 130 interrupted
(Ctrl-C, SIGINT), 143 stopped by SIGTERM; on either signal the articles in flight are
cancelled and no output is left half-written.
"""


@click.command(help=TRANSLATE_HELP)
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
    "--glossary", envvar="VERTAAL_GLOSSARY", show_envvar=True, metavar="FILE|ID",
    callback=glossary_choice,
    help="Enforce a glossary's terms: a file of Dutch → English entries (TSV, or CSV named "
    "*.csv), or a glossary's id (in-process: a global one, from VERTAAL_REDIS_URL; with "
    "--server: any the key may use). Outputs made with other terms are made again.",
)  # fmt: skip
@click.option(
    "--notify", envvar="VERTAAL_NOTIFY", show_envvar=True, metavar="URL",
    help="POST the run's summary (JSON, signed with VERTAAL_WEBHOOK_SECRET if set) to URL.",
)  # fmt: skip
@click.option(
    "--watch", is_flag=True, envvar="VERTAAL_WATCH", show_envvar=True,
    help="After translating what is there, keep translating files that land or change, "
    "until Ctrl-C or SIGTERM.",
)  # fmt: skip
@click.option(
    "--settle", type=click.FloatRange(0, 3600), default=2.0, show_default=True,
    envvar="VERTAAL_WATCH_SETTLE", show_envvar=True, metavar="SECONDS",
    help="With --watch: how long a file must stay unchanged before it is taken.",
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
    glossary: GlossaryChoice | None,
    notify: str | None,
    watch: bool,
    settle: float,
) -> None:
    options = TranslateOptions(out_dir, force, server, concurrency, api_key, keep_html, glossary)
    with stopped_by_signals():
        settings = load_settings(summary=summary, check_language=False if any_language else None)
        route, stop = _route(settings, options)
        index = RunIndex(out_dir)
        try:
            if watch:
                _watch(list(paths), out_dir, settle, route, index)
            summary_ = _run_once(find_articles(list(paths), out_dir), route, index)
        except BaseException:
            stop()
            raise
        finally:
            index.close()
        click.echo(summary_.line())
        if notify:
            from cli.notify import notify_summary

            notify_summary(notify, summary_, settings.webhook_secret)
    if summary_.failed:
        sys.exit(EXIT_FAILED_ARTICLES)
