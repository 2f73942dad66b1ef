"""A glossary: named Dutch → English entries, parsed from pasted TSV or CSV, with bounds.

The entries format is DeepL's: one `source<TAB>target` per line (TSV), or `source,target`
rows in standard CSV (extra `source_lang,target_lang` columns, as DeepL exports them, are
allowed when they say nl and en). Vertaal adds one small syntax for inflected forms:

    asielzoeker(s)      asylum seeker(s)
    Oeigoer(en|se)      Uyghur(s)
    stadje              town

Endings in brackets right after the Dutch term (no space before them) are Dutch endings that
also match; an ending that ends in -s or -n is a plural, and then the English gets the ending
in its own brackets (`asielzoekers` → `asylum seekers`); other endings (diminutive -je,
adjective -e) get the plain English term. A Dutch term that starts with a capital and has no
endings is a name: its genitive (`Poetins`, `Zelenski's`) also matches and becomes the English
genitive (`Putin's`, `Zelensky's`).

A glossary's version is the SHA-256 of its entries, whatever their order: the same entries
always give the same `digest`.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from workers.errors import GlossaryError, GlossaryTooLargeError

# Bounds of what a user may send: a glossary is read into memory and compiled into one
# matcher per worker, so both its size and each term's length are kept small.
MAX_ENTRIES = 10_000
MAX_BYTES = 1_000_000
MAX_TERM_CHARS = 200
MAX_NAME_CHARS = 100
MAX_ENDINGS = 8
MAX_ENDING_CHARS = 6

FORMATS = ("tsv", "csv")

_ENDINGS = re.compile(r"^(?P<term>.*\S)\((?P<endings>[^()\s]+)\)$")
_ENDING = re.compile(r"^[^\W\d_]*['’]?[^\W\d_]+$")
_SIBILANT_END = ("s", "x", "z")


@dataclass(frozen=True)
class Form:
    """One way a Dutch term can appear: what replaces it, and the English the output needs."""

    english: str  # the replacement in the source (`Putin's`)
    expected: str  # what must appear in the translation (`Putin`)


@dataclass(frozen=True)
class Entry:
    """One Dutch term and its English, with the Dutch endings that also match."""

    dutch: str
    english: str
    endings: tuple[str, ...] = ()
    english_plural: str = ""  # appended to `english` when a plural ending matched

    @classmethod
    def parse(cls, dutch: str, english: str) -> Entry:
        """An entry from its two fields in the glossary syntax; ValueError says what is wrong."""
        dutch_term, endings = _split_endings(_clean_term(dutch, "Dutch"))
        english_term, plurals = _split_endings(_clean_term(english, "English"))
        if len(plurals) > 1:
            raise ValueError(f"the English term {english!r} may have one plural ending, not more")
        if plurals and not endings:
            raise ValueError(
                f"the English term {english!r} has a plural ending but the Dutch term has none"
            )
        if len(endings) > MAX_ENDINGS:
            raise ValueError(f"the Dutch term {dutch!r} has more than {MAX_ENDINGS} endings")
        for ending in endings + plurals:
            if len(ending) > MAX_ENDING_CHARS or not _ENDING.match(ending):
                raise ValueError(
                    f"{ending!r} is not an ending (letters only, at most {MAX_ENDING_CHARS})"
                )
        return cls(dutch_term, english_term, endings, plurals[0] if plurals else "")

    def fields(self) -> tuple[str, str]:
        """The entry's two fields as written in the glossary syntax (`parse` reads them back)."""
        dutch = f"{self.dutch}({'|'.join(self.endings)})" if self.endings else self.dutch
        english = f"{self.english}({self.english_plural})" if self.english_plural else self.english
        return dutch, english

    def forms(self) -> dict[str, Form]:
        """Every Dutch form this entry matches (`folded`) and what each becomes."""
        found = {folded(self.dutch): Form(self.english, self.english)}
        for ending in self.endings:
            plural = ending.endswith(("s", "n"))
            english = self.english + self.english_plural if plural else self.english
            found.setdefault(folded(self.dutch + ending), Form(english, english))
        if self.dutch[0].isupper() and not self.endings:  # a name: genitives become English ones
            marks = {"'s": "'s", "’s": "’s"}  # the source's apostrophe is kept
            if not self.dutch.lower().endswith(_SIBILANT_END):
                marks["s"] = "'s"
            for dutch, english in marks.items():
                genitive = Form(self.english + english, self.english)
                found.setdefault(folded(self.dutch + dutch), genitive)
        return found


@dataclass(frozen=True)
class Glossary:
    """A named set of entries. Build one with `parse`, `from_tsv`, `from_csv` or
    `from_entries`, which check the bounds and refuse entries that match the same Dutch."""

    name: str
    entries: tuple[Entry, ...]

    @classmethod
    def parse(cls, name: str, text: str, entries_format: str = "tsv") -> Glossary:
        """A glossary from pasted entries in `entries_format` (`tsv` or `csv`)."""
        if entries_format not in FORMATS:
            raise GlossaryError(
                f"unknown entries format {entries_format!r}; use one of {', '.join(FORMATS)}"
            )
        size = len(text.encode())
        if size > MAX_BYTES:
            raise GlossaryTooLargeError(
                f"the glossary is {size:,} bytes; at most {MAX_BYTES:,} bytes are accepted"
            )
        rows = _tsv_rows(text) if entries_format == "tsv" else _csv_rows(text)
        return cls._checked(name, rows)

    @classmethod
    def from_tsv(cls, name: str, text: str) -> Glossary:
        return cls.parse(name, text, "tsv")

    @classmethod
    def from_csv(cls, name: str, text: str) -> Glossary:
        return cls.parse(name, text, "csv")

    @classmethod
    def from_entries(
        cls, name: str, entries: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> Glossary:
        """A glossary from (Dutch, English) pairs, e.g. DeepL's JSON `{source: target}`."""
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        rows = ((f"entry {number}", dutch, english) for number, (dutch, english) in
                enumerate(pairs, start=1))  # fmt: skip
        glossary = cls._checked(name, rows)
        size = len(glossary.to_tsv().encode())
        if size > MAX_BYTES:
            raise GlossaryTooLargeError(
                f"the glossary is {size:,} bytes as TSV; at most {MAX_BYTES:,} bytes are accepted"
            )
        return glossary

    @classmethod
    def _checked(cls, name: str, rows: Iterable[tuple[str, str, str]]) -> Glossary:
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_CHARS or _has_control(name):
            raise GlossaryError(
                f"a glossary needs a name of 1 to {MAX_NAME_CHARS} printable characters"
            )
        entries: list[Entry] = []
        taken: dict[str, tuple[str, Entry]] = {}
        for where, dutch, english in rows:
            if len(entries) == MAX_ENTRIES:
                raise GlossaryTooLargeError(
                    f"the glossary has more than {MAX_ENTRIES:,} entries ({where} is one more)"
                )
            try:
                entry = Entry.parse(dutch, english)
            except ValueError as error:
                raise GlossaryError(f"{where}: {error}") from None
            forms = entry.forms()
            for form in forms:
                if form in taken:
                    first, other = taken[form]
                    raise GlossaryError(
                        f"{where}: {entry.dutch!r} matches {form!r}, as {first} "
                        f"({other.dutch!r}) does already; keep one of them"
                    )
            taken.update((form, (where, entry)) for form in forms)
            entries.append(entry)
        return cls(name, tuple(entries))

    def to_tsv(self) -> str:
        """The entries as DeepL's TSV (with Vertaal's endings syntax), one per line."""
        return "".join(f"{dutch}\t{english}\n" for dutch, english in self.rows())

    def rows(self) -> Iterator[tuple[str, str]]:
        return (entry.fields() for entry in self.entries)

    @functools.cached_property
    def digest(self) -> str:
        """The version of the entries: SHA-256 of their TSV lines, sorted."""
        lines = sorted(f"{dutch}\t{english}\n" for dutch, english in self.rows())
        return hashlib.sha256("".join(lines).encode()).hexdigest()

    @functools.cached_property
    def forms(self) -> dict[str, tuple[Entry, Form]]:
        """Every Dutch form (`folded`) with its entry; the first entry that has a form
        keeps it."""
        found: dict[str, tuple[Entry, Form]] = {}
        for entry in self.entries:
            for key, form in entry.forms().items():
                found.setdefault(key, (entry, form))
        return found

    def over(self, base: Glossary) -> Glossary:
        """This glossary laid over `base` (the built-in names): `base` entries that match any
        Dutch form this glossary matches are left out, so the user's entry wins."""
        mine = self.forms
        kept = [e for e in base.entries if not any(form in mine for form in e.forms())]
        return Glossary(self.name, self.entries + tuple(kept))

    def __len__(self) -> int:
        return len(self.entries)


def folded(text: str) -> str:
    """`text` in lower case, one character for one (only `İ` lower-cases to two), so a
    position in the folded text is the same position in the original."""
    return text.replace("İ", "i").lower()


def _clean_term(term: str, side: str) -> str:
    cleaned = " ".join(term.split())
    if not cleaned:
        raise ValueError(f"the {side} term is empty")
    if _has_control(cleaned):
        raise ValueError(f"the {side} term {term!r} contains a control character")
    if len(cleaned) > MAX_TERM_CHARS:
        raise ValueError(
            f"the {side} term is {len(cleaned)} characters; at most {MAX_TERM_CHARS} are accepted"
        )
    if not any(ch.isalnum() for ch in cleaned):
        raise ValueError(f"the {side} term {term!r} has no letter or digit")
    return cleaned


def _split_endings(term: str) -> tuple[str, tuple[str, ...]]:
    found = _ENDINGS.match(term)
    if found is None:
        return term, ()
    return found["term"], tuple(found["endings"].split("|"))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def _tsv_rows(text: str) -> Iterator[tuple[str, str, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            problem = "has no tab between" if len(fields) < 2 else "has more than one tab between"
            raise GlossaryError(f"line {number}: {problem} the Dutch and the English term")
        yield f"line {number}", fields[0], fields[1]


def _csv_rows(text: str) -> Iterator[tuple[str, str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            where = f"line {reader.line_num}"
            if not any(field.strip() for field in fields):
                continue
            if reader.line_num == 1 and [f.strip().lower() for f in fields[:2]] == [
                "source", "target",
            ]:  # fmt: skip
                continue  # a header row
            if len(fields) < 2:
                raise GlossaryError(f"{where}: has no comma between the Dutch and the English term")
            if len(fields) > 4 or [f.strip().lower()[:2] for f in fields[2:]] not in (
                [], ["nl"], ["nl", "en"],
            ):  # fmt: skip
                raise GlossaryError(
                    f"{where}: expected source,target[,nl,en]; got {len(fields)} fields"
                )
            yield where, fields[0], fields[1]
    except csv.Error as error:
        raise GlossaryError(f"line {reader.line_num}: not valid CSV ({error})") from None
