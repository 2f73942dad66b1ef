"""The built-in names list: world-news names that Dutch spells differently from English.

Dutch transliterates Russian, Ukrainian, Arabic, Persian and other names by its own rules
(Poetin, Chroesjtsjov, Kadhafi) and keeps its own names for many places (Peking, Moskou);
English news spells them otherwise. The list ships as data (`names-nl-en.tsv`, with where each
pair comes from) and is used like a glossary under the user's own (`glossary_for`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from workers.pipeline.terms.glossary import Glossary

NAMES_FILE = Path(__file__).with_name("names-nl-en.tsv")
NAMES_GLOSSARY = "built-in names"
_HEADER = ["dutch", "english", "source"]


@dataclass(frozen=True)
class NameRow:
    dutch: str
    english: str
    source: str  # where the pair comes from


def read_names(path: Path = NAMES_FILE) -> list[NameRow]:
    """The rows of a names file: `#` lines are comments, the first other line the header."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    if not lines or lines[0].split("\t") != _HEADER:
        raise ValueError(f"{path}: the first line must be {' '.join(_HEADER)}, tab-separated")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(_HEADER) or not all(field.strip() for field in fields):
            raise ValueError(f"{path}: row {number} needs a Dutch, English and source field")
        rows.append(NameRow(*fields))
    return rows


@functools.cache
def builtin_names() -> Glossary:
    """The built-in names as a glossary (read once per process)."""
    return Glossary.from_entries(NAMES_GLOSSARY, [(r.dutch, r.english) for r in read_names()])


def glossary_for(user: Glossary | None, *, names: bool = True) -> Glossary | None:
    """What to enforce: the user's glossary over the built-in names (a user's entry wins),
    either one alone, or nothing."""
    if not names:
        return user
    if user is None:
        return builtin_names()
    return _over_names(user)


# A job's articles share one glossary: merging a large one takes a noticeable fraction of a
# second, so the last few merged are kept.
@functools.lru_cache(maxsize=8)
def _over_names(user: Glossary) -> Glossary:
    return user.over(builtin_names())
