"""Translate article files into an output folder, for `vertaal translate`.

Skips the articles whose outputs are current, translates the rest through a given function
(in-process or via a server), and writes `<stem>.json` and `<stem>.en.md` atomically, so an
interrupted run never leaves a half-written file; each article's end goes to the run index.
One bad article is reported and the others go on. (`cli/folders.py` finds the articles.)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workers.errors import InputError, JobFailedError
from workers.pipeline.article import Result
from workers.pipeline.reading import suffix_of
from workers.pipeline.run import PIPELINE_VERSION, ProgressCallback

if TYPE_CHECKING:
    from cli.index import RunIndex


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
# The translation's name beside `<stem>.json`; never read back as an input from the output.
OUTPUT_SUFFIX = ".en.md"


@dataclass(frozen=True)
class ArticleFile:
    """One input file and where its outputs go."""

    path: Path
    json_out: Path
    md_out: Path

    @property
    def html_out(self) -> Path:
        """Beside the others, for an HTML article translated with its markup."""
        return self.md_out.with_name(self.md_out.name.removesuffix(OUTPUT_SUFFIX) + ".en.html")

    @property
    def name(self) -> str:
        return str(self.path)


class StopRequested(Exception):
    """Raised in a translating thread when the run is being interrupted."""


# Translates one article's bytes; raises InputError when the article itself is unusable, or
# JobFailedError when its job ended without a result.
TranslateFile = Callable[[ArticleFile, bytes, ProgressCallback], Result]


class BatchReporter(Protocol):
    def started(self, article: ArticleFile) -> None: ...

    def progress(self, article: ArticleFile, done: int, total: int, stage: str) -> None: ...

    def finished(
        self, article: ArticleFile, outcome: str, reason: str | None, flagged: int = 0
    ) -> None:
        """`reason`: why it failed; `flagged`: the sentences of a translated article that the
        per-sentence checks flagged."""


@dataclass
class BatchSummary:
    translated: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)  # files of types Vertaal does not read
    # The translated articles with sentences the checks flagged, and how many of them.
    flagged: list[tuple[Path, int]] = field(default_factory=list)

    def line(self) -> str:
        """The run's last line on stdout: one format, whichever counts are zero."""
        return (
            f"{len(self.translated)} translated, {len(self.skipped)} skipped, "
            f"{len(self.failed)} failed, {len(self.ignored)} ignored"
        )

    def extend(self, other: BatchSummary) -> None:
        """Add another round's counts (watch mode)."""
        self.translated += other.translated
        self.skipped += other.skipped
        self.failed += other.failed
        self.ignored += other.ignored
        self.flagged += other.flagged

    def to_check(self) -> str | None:
        """A line naming the sentences to check in what was translated; None when none is."""
        if not self.flagged:
            return None
        sentences = sum(count for _, count in self.flagged)
        return (
            f"{to_check(sentences)} in {counted(len(self.flagged), 'article')} translated: "
            f"see the notes in their {OUTPUT_SUFFIX} files"
        )


def counted(count: int, noun: str) -> str:
    """`1 sentence`, `3 sentences`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def to_check(sentences: int) -> str:
    """What a reader is told of flagged sentences, the same per file and for the run."""
    return counted(sentences, "sentence") + " to check"


def output_identity(
    model_digests: Mapping[str, str],
    *,
    summary: bool,
    check_language: bool,
    markup: bool = False,
    glossary: str | None = None,
) -> dict[str, Any]:
    """What decides an output besides its input: the options, the glossary's version (its
    digest: changed terms translate again) and the models (digests of their versions and
    generation settings), whichever route, in-process or a service, makes it."""
    models = {role: d for role, d in model_digests.items() if role == "translation" or summary}
    identity = {"models": models, "summary": summary, "check_language": check_language}
    identity |= {"glossary": glossary} if glossary else {}
    return identity | ({"markup": True} if markup else {})


def _identity_of(article: ArticleFile, identity: Mapping[str, Any]) -> Mapping[str, Any]:
    """Keeping markup changes only an HTML article's outputs: the others stay current."""
    if suffix_of(article.path.name) in (".html", ".htm"):
        return identity
    return {name: value for name, value in identity.items() if name != "markup"}


def fingerprint(data: bytes, identity: Mapping[str, Any]) -> str:
    """Identifies an output: the input bytes, the pipeline version and the output identity."""
    payload = json.dumps(
        {
            "pipeline": PIPELINE_VERSION,
            "output": identity,
            "input": hashlib.sha256(data).hexdigest(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def current_document(article: ArticleFile, expected: str) -> dict[str, Any] | None:
    """The JSON output when both outputs exist and were made from this input with these
    settings; else None."""
    if not article.md_out.is_file():
        return None
    try:
        document = json.loads(article.json_out.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(document, dict) and document.get("fingerprint") == expected:
        return document
    return None


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, so readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes it private; outputs are not
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_outputs(article: ArticleFile, result: Result, stamp: str) -> dict[str, Any]:
    """Write the article's outputs; the JSON document written."""
    # The JSON goes last: its fingerprint is what marks the outputs as complete.
    write_atomically(article.md_out, result.to_markdown(article.path.stem))
    if result.markup is not None:
        write_atomically(article.html_out, result.markup)
    document = {**result.to_dict(), "fingerprint": stamp}
    write_atomically(article.json_out, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return document


@dataclass(frozen=True)
class Pending:
    """An article read and found not current: to be translated."""

    article: ArticleFile
    data: bytes
    stamp: str
    started: float = field(default_factory=time.monotonic)


# Translates several articles together (in-process: their summaries share the model's
# batches): one result, or the exception that stopped it, per article, in order.
TranslateMany = Callable[
    [Sequence[Pending], Callable[[ArticleFile], ProgressCallback]], list[Result | Exception]
]


class _Run:
    """What every route shares: reading, skipping what is current, writing, counting, and
    telling the reporter and the run index how each article ended."""

    def __init__(
        self,
        reporter: BatchReporter,
        identity: Mapping[str, Any],
        force: bool,
        index: RunIndex | None,
    ) -> None:
        self.reporter, self.identity, self.force, self.index = reporter, identity, force, index
        self.summary = BatchSummary()

    def progress(self, article: ArticleFile) -> ProgressCallback:
        return lambda done, total, stage: self.reporter.progress(article, done, total, stage)

    def pending(self, article: ArticleFile) -> Pending | None:
        """The article to translate, or None when it is current or cannot be read."""
        self.reporter.started(article)
        started = time.monotonic()
        try:
            data = article.path.read_bytes()
        except OSError as error:
            self.fail(article, f"cannot read it: {error.strerror or error}")
            return None
        stamp = fingerprint(data, _identity_of(article, self.identity))
        current = None if self.force else current_document(article, stamp)
        if current is not None:
            self.summary.skipped.append(article.path)
            self.reporter.finished(article, "skipped", None)
            if self.index:
                self.index.article(article, "skipped", stamp=stamp, document=current)
            return None
        return Pending(article, data, stamp, started)

    def conclude(self, item: Pending, outcome: Result | Exception) -> None:
        """Write the article's outputs, or count its failure; an exception that is not the
        article's own fault (a missing model, a bug) stops the run."""
        article = item.article
        if isinstance(outcome, InputError | JobFailedError):
            return self.fail(article, str(outcome), item)
        if isinstance(outcome, Exception):
            raise outcome
        try:
            document = write_outputs(article, outcome, item.stamp)
        except OSError as error:  # a full disk or a read-only output folder
            return self.fail(article, f"cannot write its outputs: {error.strerror or error}", item)
        self.summary.translated.append(article.path)
        flagged = outcome.checks.flagged if outcome.checks else 0
        if flagged:
            self.summary.flagged.append((article.path, flagged))
        self.reporter.finished(article, "translated", None, flagged)
        if self.index:
            self.index.article(
                article, "translated", stamp=item.stamp, document=document,
                seconds=time.monotonic() - item.started,
            )  # fmt: skip

    def fail(self, article: ArticleFile, reason: str, item: Pending | None = None) -> None:
        self.summary.failed.append((article.path, reason))
        self.reporter.finished(article, "failed", reason)
        if self.index:
            self.index.article(
                article, "failed", reason=reason, stamp=item.stamp if item else None,
                seconds=time.monotonic() - item.started if item else None,
            )  # fmt: skip


def translate_files(
    articles: Sequence[ArticleFile],
    translate: TranslateFile,
    reporter: BatchReporter,
    *,
    identity: Mapping[str, Any],
    force: bool = False,
    concurrency: int = 1,
    index: RunIndex | None = None,
) -> BatchSummary:
    """Translate every article that is not current, `concurrency` at once; failures are
    collected, not raised."""
    run = _Run(reporter, identity, force, index)

    def one(article: ArticleFile) -> None:
        item = run.pending(article)
        if item is None:
            return
        try:
            result: Result | Exception = translate(article, item.data, run.progress(article))
        except (InputError, JobFailedError) as error:
            result = error
        run.conclude(item, result)

    if concurrency <= 1:
        for article in articles:
            one(article)
        return run.summary
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        for future in [pool.submit(one, article) for article in articles]:
            future.result()
    except BaseException:
        # Ctrl-C, or the service gone: start no further article. Those in flight end when
        # their translate function sees the interrupt (ServiceClient.stop).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return run.summary


def translate_files_together(
    articles: Sequence[ArticleFile],
    translate: TranslateMany,
    reporter: BatchReporter,
    *,
    identity: Mapping[str, Any],
    force: bool = False,
    together: int = 1,
    index: RunIndex | None = None,
) -> BatchSummary:
    """Translate every article that is not current, up to `together` in one call (in-process:
    their summaries share the model's batches). A group's outputs are written when the group
    is done."""
    run = _Run(reporter, identity, force, index)
    group: list[Pending] = []
    for number, article in enumerate(articles):
        if (item := run.pending(article)) is not None:
            group.append(item)
        if group and (len(group) >= together or number == len(articles) - 1):
            for done, outcome in zip(group, translate(group, run.progress), strict=True):
                run.conclude(done, outcome)
            group = []
    return run.summary
