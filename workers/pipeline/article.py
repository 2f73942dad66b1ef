"""The data that flows through the pipeline, from a read document to the final result.

`Result.to_dict()` is the JSON the CLI writes and the API returns; its field names are part of
the public interface.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from workers.pipeline.checks.sentence import Check, Flag

Paragraphs = list[list[str]]
# Shown wherever a summary was asked for but the model wrote nothing.
NO_SUMMARY = "The summary model returned no summary for this article."


@dataclass(frozen=True)
class SourceFile:
    """An article as it arrived: a file's bytes, and the name whose suffix says how to read
    them (`article.txt` for pasted text)."""

    PASTED: ClassVar[str] = "pasted-text.txt"

    name: str
    data: bytes
    # The text itself, when it arrived as text (it is then valid Unicode already): spares
    # decoding what was just encoded.
    text: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def pasted(cls, text: str, name: str | None = None) -> SourceFile:
        """Text from a form or JSON field; `name` (a file name) says how to read it."""
        return cls(name or cls.PASTED, text.encode(), text)

    def decoded(self) -> str:
        """The text of a text file (UTF-8, a BOM allowed); undecodable bytes replaced."""
        return self.text if self.text is not None else self.data.decode("utf-8-sig", "replace")


@dataclass(frozen=True)
class RawDocument:
    """Text as read from a file or a form, plus metadata the file format itself carried."""

    text: str
    title: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Removed:
    """A piece of the input the cleaner dropped, and why, so a user can audit it."""

    text: str
    reason: str


@dataclass
class CleanArticle:
    """A cleaned article: metadata, paragraphs of sentences, and what was removed."""

    title: str | None
    date: str | None
    paragraphs: Paragraphs
    removed: list[Removed] = field(default_factory=list)

    def sentence_count(self) -> int:
        return sum(len(p) for p in self.paragraphs) + (1 if self.title else 0)

    def text(self) -> str:
        """The article as plain text, title first."""
        parts = [self.title] if self.title else []
        parts += [" ".join(p) for p in self.paragraphs]
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Source:
    title: str | None
    date: str | None
    paragraphs: Paragraphs


@dataclass(frozen=True)
class Translation:
    title: str | None
    paragraphs: Paragraphs


@dataclass(frozen=True)
class Models:
    translation: str
    summary: str | None


@dataclass(frozen=True)
class Checks:
    """What a reader should not take on trust: each translated sentence's flags, in the
    translation's own shape (the title's, then per paragraph per sentence), and how many
    sentences are flagged, and how often for what."""

    title: list[Flag]
    paragraphs: list[list[list[Flag]]]
    flagged: int
    counts: dict[str, int]

    @classmethod
    def of(cls, title: Sequence[Flag], paragraphs: Sequence[Sequence[Sequence[Flag]]]) -> Checks:
        sentences = [list(title), *(list(f) for p in paragraphs for f in p)]
        counts = Counter(flag.code.value for flags in sentences for flag in flags)
        return cls(
            title=list(title),
            paragraphs=[[list(f) for f in p] for p in paragraphs],
            flagged=sum(1 for flags in sentences if flags),
            counts=dict(sorted(counts.items())),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checks:
        def flags(raw: list[dict[str, str]]) -> list[Flag]:
            return [Flag(Check(f["code"]), f["message"]) for f in raw]

        return cls(
            title=flags(data["title"]),
            paragraphs=[[flags(s) for s in p] for p in data["paragraphs"]],
            flagged=int(data["flagged"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
        )


@dataclass(frozen=True)
class FlaggedSentence:
    """A translated sentence a reader should check against the Dutch: where it is (paragraph
    and sentence, counted from 0; `paragraph` None for the title), both texts, and its flags."""

    paragraph: int | None
    sentence: int
    source: str
    translation: str
    checks: list[Flag]


@dataclass(frozen=True)
class Result:
    """One article's translation and summary: the public result shape."""

    source: Source
    translation: Translation
    summary: str | None
    removed: list[Removed]
    models: Models
    timings: dict[str, float]
    # With `format: html` (or `--keep-html`): the page itself, translated, its markup kept.
    markup: str | None = None
    # Each sentence's flags (workers/pipeline/checks); None in results made before checks.
    checks: Checks | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.checks is None:
            data.pop("checks")
        return data

    def characters(self) -> int:
        """The characters of the Dutch text that was translated (title and sentences): what
        a key is billed for."""
        source = self.source
        return len(source.title or "") + sum(len(s) for p in source.paragraphs for s in p)

    def flagged_sentences(self) -> list[FlaggedSentence]:
        """The sentences with a flag, title first, in reading order (none without checks)."""
        if self.checks is None:
            return []
        flagged = []
        if self.checks.title:
            flagged.append(
                FlaggedSentence(
                    None, 0, self.source.title or "", self.translation.title or "",
                    self.checks.title,
                )
            )  # fmt: skip
        for p, paragraph in enumerate(self.checks.paragraphs):
            for s, flags in enumerate(paragraph):
                if flags:
                    source = self.source.paragraphs[p][s]
                    english = self.translation.paragraphs[p][s]
                    flagged.append(FlaggedSentence(p, s, source, english, flags))
        return flagged

    def to_markdown(self, name: str) -> str:
        """The `.en.md` file, the same from the CLI and the web page: title (the file's `name`
        when the article has none), date, summary, then the translation paragraph by paragraph.
        A flagged sentence gets a footnote (`[^1]`) saying what to check, as Markdown renders
        it: a small number after the sentence, the notes at the end."""
        notes: list[str] = []

        def noted(text: str, flags: Sequence[Flag]) -> str:
            if not flags:
                return text
            notes.append(f"[^{len(notes) + 1}]: " + "; ".join(_note(f) for f in flags))
            return f"{text}[^{len(notes)}]"

        checks = self.checks
        title = self.translation.title
        heading = noted(title, checks.title) if title and checks else title or name
        lines = [f"# {heading}", ""]
        if self.source.date:
            lines += [f"*Date: {self.source.date}*", ""]
        if self.summary is not None:
            lines += ["## Summary", "", self.summary or f"*{NO_SUMMARY}*", ""]
        lines += ["## Translation", ""]
        for p, paragraph in enumerate(self.translation.paragraphs):
            flags = checks.paragraphs[p] if checks else [[] for _ in paragraph]
            lines += [" ".join(noted(s, f) for s, f in zip(paragraph, flags, strict=True)), ""]
        if notes:
            lines += [*notes, ""]
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls(
            source=Source(**data["source"]),
            translation=Translation(**data["translation"]),
            summary=data["summary"],
            removed=[Removed(**r) for r in data["removed"]],
            models=Models(**data["models"]),
            timings=dict(data["timings"]),
            markup=data.get("markup"),
            checks=Checks.from_dict(data["checks"]) if data.get("checks") else None,
        )


def _note(flag: Flag) -> str:
    """A flag as one line of a Markdown footnote (a message is one line already; whitespace
    is folded all the same, since a line break would end the note)."""
    return " ".join(f"{flag.code.value}: {flag.message}".split())
