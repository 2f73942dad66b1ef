"""`OUT/index.jsonl`: one JSON line per file per run, so a pipeline can pick up results
without reading the terminal.

Every run appends (watch mode as each file is done). Each line goes out in one `write` to a
file opened for appending, so a reader tailing the file never sees half a line, and an
interrupted run leaves only whole lines. The line's shape is `IndexLine`; docs/cli.md
describes each field.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from cli.batch import ArticleFile
from cli.folders import INDEX_NAME
from workers.errors import VertaalError

Status = Literal["translated", "skipped", "failed", "ignored"]


class IndexLine(BaseModel):
    """One file's outcome in one run."""

    path: str  # the input file, absolute
    status: Status
    reason: str | None = None  # why it failed or was ignored
    fingerprint: str | None = None  # of input, options and models: equal means same outputs
    sentences: int | None = None  # of the source, title included
    seconds: float | None = None  # from reading the input to its outputs written
    outputs: list[str] = []  # relative to the output folder (where the index is)
    flags: int | None = None  # sentences the checks flagged (null: not checked, or no result)
    run: str  # the same on every line of one run (or one watch session)
    at: str  # when the line was written, ISO 8601 UTC


class IndexUnwritableError(VertaalError):
    """The output folder takes no more lines (a full disk, a read-only folder): the run stops,
    since a pipeline reading the index would miss what it does from here on."""

    code = "index_unwritable"


def new_run_id() -> str:
    """Sortable by start time, unique enough for two runs started in the same second."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def sentence_count(document: Mapping[str, Any]) -> int:
    """Sentences of the source in a result's JSON, its title counted as one."""
    source = document.get("source") or {}
    return (1 if source.get("title") else 0) + sum(len(p) for p in source.get("paragraphs", []))


def flag_count(document: Mapping[str, Any]) -> int | None:
    """How many sentences the per-sentence checks flagged, title included; None for a result
    made before the checks existed."""
    checks = document.get("checks")
    count = checks.get("flagged") if isinstance(checks, Mapping) else None
    return count if isinstance(count, int) else None


class RunIndex:
    """Appends this run's lines to `out_dir/index.jsonl`, created on the first line."""

    def __init__(self, out_dir: Path, run: str | None = None) -> None:
        self.out_dir = out_dir
        self.path = out_dir / INDEX_NAME
        self.run = run or new_run_id()
        self._descriptor: int | None = None
        self._opening = threading.Lock()  # --server runs finish articles in several threads

    def article(
        self,
        article: ArticleFile,
        status: Status,
        *,
        reason: str | None = None,
        stamp: str | None = None,
        document: Mapping[str, Any] | None = None,
        seconds: float | None = None,
    ) -> None:
        """An article's line; `document` is the JSON written, or found current."""
        outputs: list[Path] = []
        if document is not None:
            outputs = [article.md_out, article.json_out]
            if document.get("markup") is not None:
                outputs.insert(1, article.html_out)
        line = IndexLine(
            path=str(article.path.absolute()),
            status=status,
            reason=reason,
            fingerprint=stamp,
            sentences=sentence_count(document) if document else None,
            seconds=None if seconds is None else round(seconds, 3),
            outputs=[str(p.relative_to(self.out_dir)) for p in outputs],
            flags=flag_count(document) if document else None,
            run=self.run,
            at=_now(),
        )
        self.write(line)

    def other(self, path: Path, status: Status, reason: str) -> None:
        """The line of a file that was not translated: refused up front, or ignored."""
        self.write(
            IndexLine(
                path=str(path.absolute()), status=status, reason=reason, run=self.run, at=_now()
            )
        )

    def write(self, line: IndexLine) -> None:
        data = (line.model_dump_json() + "\n").encode()
        with self._opening:
            if self._descriptor is None:
                try:
                    self.out_dir.mkdir(parents=True, exist_ok=True)
                    self._descriptor = os.open(
                        self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666
                    )
                except OSError as error:
                    raise IndexUnwritableError(
                        f"cannot open the run index {self.path}: {error.strerror or error}"
                    ) from error
        try:
            # One write of the whole line: appends of whole lines never interleave. Only a
            # nearly full disk writes less to a regular file; the rest then ends the line.
            written = os.write(self._descriptor, data)
            while written < len(data):
                written += os.write(self._descriptor, data[written:])
        except OSError as error:
            raise IndexUnwritableError(
                f"cannot write the run index {self.path}: {error.strerror or error}"
            ) from error

    def close(self) -> None:
        with self._opening:
            if self._descriptor is not None:
                os.close(self._descriptor)
                self._descriptor = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
