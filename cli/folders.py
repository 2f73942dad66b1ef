"""Which files of the given paths are articles, and where each one's outputs go.

The walk is sorted and recursive. Hidden entries, files being written (`*.tmp`, `*.part`, `~`)
and Vertaal's own outputs are not looked at; every other file is an article (a supported
type) or ignored, and ignored files are counted, not passed over in silence. A file named on
the command line whose type is not supported is refused (a failure with its reason).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from cli.batch import OUTPUT_SUFFIX, ArticleFile
from workers.errors import UnsupportedFormatError
from workers.pipeline.reading import is_supported, suffix_list

INDEX_NAME = "index.jsonl"
# What a run writes into its output folder besides the `.en.md` translations.
_OUTPUT_ENDINGS = (OUTPUT_SUFFIX, ".en.html", ".json", INDEX_NAME)
# Names that say a program is still writing the file and will rename it when done.
_IN_PROGRESS_ENDINGS = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")


class Kind(Enum):
    ARTICLE = "article"
    IGNORED = "ignored"  # not a type Vertaal reads: counted and listed
    UNSEEN = "unseen"  # hidden, still being written, or an output: not looked at


def kind_of(path: Path, out_root: Path) -> Kind:
    """What a file found in a folder is to a run writing into `out_root` (resolved)."""
    name = path.name
    if name.startswith(".") or name.endswith(_IN_PROGRESS_ENDINGS):
        return Kind.UNSEEN
    if name.endswith(_OUTPUT_ENDINGS) and path.parent.resolve().is_relative_to(out_root):
        return Kind.UNSEEN
    return Kind.ARTICLE if is_supported(name) else Kind.IGNORED


@dataclass
class Found:
    """The articles under the given paths, the inputs refused up front (with why), and the
    files ignored because Vertaal does not read their type."""

    articles: list[ArticleFile] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)

    def only(self, files: Collection[Path]) -> Found:
        """What was found of `files` (resolved paths) alone."""
        return Found(
            [a for a in self.articles if a.path.resolve() in files],
            [(p, r) for p, r in self.refused if p.resolve() in files],
            [p for p in self.ignored if p.resolve() in files],
        )


def find_articles(paths: Sequence[Path], out_dir: Path) -> Found:
    """The articles under `paths` with their output places, and what is refused or ignored."""
    out_root = out_dir.resolve()
    found = Found()
    claimed: dict[Path, Path] = {}
    for path in paths:
        if path.is_dir():
            files = [(f, f.relative_to(path)) for f in _walk(path, out_root, found)]
        elif is_supported(path.name):
            files = [(path, Path(path.name))]
        else:
            found.refused.append((path, str(UnsupportedFormatError(_unsupported(path)))))
            continue
        for file, relative in files:
            stem = out_dir / relative.parent / relative.stem
            article = ArticleFile(file, stem.with_suffix(".json"), Path(f"{stem}{OUTPUT_SUFFIX}"))
            owner = claimed.setdefault(article.json_out.resolve(), file)
            if owner != file:
                found.refused.append(
                    (file, f"its output {article.json_out} is already that of {owner}")
                )
            else:
                found.articles.append(article)
    return found


def _unsupported(path: Path) -> str:
    kind = path.suffix or "a file without an extension"
    return f"{kind} is not one of {suffix_list(', ')}"


def _walk(root: Path, out_root: Path, found: Found) -> Iterator[Path]:
    """Supported files under `root`, sorted; hidden folders and the output folder skipped.
    Unsupported files go to `found.ignored`, folders that cannot be read to `found.refused`."""

    def unreadable(error: OSError) -> None:
        found.refused.append((Path(error.filename), f"cannot read the folder: {error.strerror}"))

    for directory, subdirs, files in os.walk(root, onerror=unreadable):
        here = Path(directory)
        subdirs[:] = sorted(
            d for d in subdirs if not d.startswith(".") and (here / d).resolve() != out_root
        )
        for name in sorted(files):
            kind = kind_of(here / name, out_root)
            if kind is Kind.ARTICLE:
                yield here / name
            elif kind is Kind.IGNORED:
                found.ignored.append(here / name)
