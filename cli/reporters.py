"""What `vertaal translate` shows while it works, on stderr (stdout keeps the summary line):
progress bars for a run over a folder, one line per article in watch mode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from cli.batch import OUTPUT_SUFFIX, ArticleFile, BatchSummary, to_check

# Ignored files named on the terminal; the index lists every one.
IGNORED_SHOWN = 5


class RichReporter:
    """Progress bars for articles and the current article's sentences."""

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

    def finished(
        self, article: ArticleFile, outcome: str, reason: str | None, flagged: int = 0
    ) -> None:
        self.bars.advance(self.articles)
        if outcome == "failed":
            self.bars.console.print(f"[red]failed[/] {article.name}: {reason}", highlight=False)
        elif flagged:
            self.bars.console.print(
                f"[yellow]{to_check(flagged)}[/] in {article.name} (notes in its {OUTPUT_SUFFIX})",
                highlight=False,
            )


class LineReporter:
    """A line per article translated or failed, as it ends: what the log of a long-running
    watch needs (articles skipped as current are only counted, and listed in the index)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def started(self, article: ArticleFile) -> None: ...

    def progress(self, article: ArticleFile, done: int, total: int, stage: str) -> None: ...

    def finished(
        self, article: ArticleFile, outcome: str, reason: str | None, flagged: int = 0
    ) -> None:
        if outcome == "failed":
            self.console.print(f"[red]failed[/] {article.name}: {reason}", highlight=False)
        elif outcome == "translated":
            checks = f" ([yellow]{to_check(flagged)}[/])" if flagged else ""
            self.console.print(f"[green]translated[/] {article.name}{checks}", highlight=False)


def show_to_check(console: Console, summary: BatchSummary) -> None:
    """The run's sentences to check, before its summary line (stdout keeps that alone)."""
    line = summary.to_check()
    if line:
        console.print(line, highlight=False)


def show_refused(console: Console, refused: Sequence[tuple[Path, str]]) -> None:
    for path, reason in refused:
        console.print(f"[red]failed[/] {path}: {reason}", highlight=False)


def show_ignored(console: Console, ignored: Sequence[Path], index: Path) -> None:
    """Name the first few ignored files, and where the rest are listed."""
    if not ignored:
        return
    names = ", ".join(str(p) for p in ignored[:IGNORED_SHOWN])
    more = len(ignored) - IGNORED_SHOWN
    rest = f" and {more} more (all in {index})" if more > 0 else ""
    console.print(
        f"[yellow]ignored[/] (not an article type Vertaal reads): {names}{rest}", highlight=False
    )
