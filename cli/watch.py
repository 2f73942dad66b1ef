"""Watch folders and hand over the files that land in them, for `vertaal translate --watch`.

A file is taken only once it has stopped changing: its size and modification time the same
for `settle` seconds (a file renamed into the folder, already complete, counts its age since
it was last written). So a file still being written is never read half, whether the writer
appends slowly or writes a temporary file and renames it (temporary, hidden and output files
are not watched at all). Files that settle at the same time are handed over together.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NoReturn

from cli.folders import Found, Kind, find_articles, kind_of

# How long the watcher waits for more events once one came, before it reports them (ms).
_QUIET_MS = 50


class Arrivals:
    """Files seen changing, each with the time since which it has stayed the same."""

    def __init__(self, settle: float) -> None:
        self.settle = settle
        self.files: dict[Path, tuple[tuple[int, int], float]] = {}

    def saw(self, path: Path) -> None:
        """A change at `path`: a file (re)starts its clock; a folder that arrived whole (moved
        in) brings every file in it."""
        if path.is_dir():
            for directory, _, names in os.walk(path):
                for name in names:
                    self.saw(Path(directory, name))
            return
        path = path.resolve()
        signature = _signature(path)
        if signature is None:
            self.files.pop(path, None)
        elif path not in self.files or self.files[path][0] != signature:
            self.files[path] = (signature, self._unchanged_since(signature))

    def settled(self) -> set[Path]:
        """The files that have stayed the same for `settle` seconds, no longer watched; those
        that changed meanwhile start again, those gone are forgotten."""
        ready: set[Path] = set()
        for path, (before, since) in list(self.files.items()):
            now = _signature(path)
            if now is None:
                del self.files[path]
            elif now != before:
                self.files[path] = (now, self._unchanged_since(now))
            elif time.monotonic() - since >= self.settle:
                del self.files[path]
                ready.add(path)
        return ready

    def _unchanged_since(self, signature: tuple[int, int]) -> float:
        """Credit a file with the time since it was last written, up to `settle` (a clock
        that disagrees, as a network share's may, earns no credit)."""
        age = min(max(time.time() - signature[1] / 1e9, 0.0), self.settle)
        return time.monotonic() - age


def _signature(path: Path) -> tuple[int, int] | None:
    """Size and modification time of a regular file; None when it is gone or not a file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return stat.st_size, stat.st_mtime_ns


def _all_files(found: Found) -> Iterable[Path]:
    yield from (article.path for article in found.articles)
    yield from (path for path, _ in found.refused)
    yield from found.ignored


def watch_folders(
    paths: Sequence[Path], out_dir: Path, settle: float, take: Callable[[Found], None]
) -> NoReturn:
    """Hand `take` what is in `paths` now, then what lands there, as it settles; returns
    only by an exception (KeyboardInterrupt when a stop signal arrives)."""
    import watchfiles

    out_root = out_dir.resolve()

    def watched(change: watchfiles.Change, path: str) -> bool:
        return change != watchfiles.Change.deleted and kind_of(Path(path), out_root) != Kind.UNSEEN

    arrivals = Arrivals(settle)
    # Wake at least this often to see which files have settled (ms).
    tick = int(min(max(settle * 250, _QUIET_MS), 1000))
    unreadable: list[tuple[Path, str]] | None = None  # folders; reported on the first pass
    for changes in watchfiles.watch(
        *paths, watch_filter=watched, step=_QUIET_MS, rust_timeout=tick, yield_on_timeout=True
    ):
        if unreadable is None:  # the watcher is listening now, so nothing that lands is missed
            there = find_articles(paths, out_dir)
            for path in _all_files(there):
                arrivals.saw(path)
            unreadable = [(path, reason) for path, reason in there.refused if path.is_dir()]
        for _, changed in changes:
            arrivals.saw(Path(changed))
        ready = arrivals.settled()
        if ready or unreadable:
            found = find_articles(paths, out_dir).only(ready)
            found.refused[:0] = unreadable
            unreadable = []
            take(found)
    raise RuntimeError("the folder watcher stopped by itself")
