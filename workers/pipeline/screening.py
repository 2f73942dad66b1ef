"""What a web request checks before it accepts an article: bounded work, linear in its size.

The format (the file is what its name says, and does not unpack into too much), that there
is text, and the language of a sample. Reading the whole article, cleaning and splitting it
happen in the worker, where a long article costs a worker's time, not the web's.
"""

from __future__ import annotations

from workers.errors import EmptyArticleError
from workers.pipeline.article import SourceFile
from workers.pipeline.cleaning import drop_debris, normalize_text
from workers.pipeline.language import check_dutch
from workers.pipeline.reading import (
    SAMPLE_CHARS,
    TEXT_SUFFIXES,
    docx_text_chars,
    sample_text,
    suffix_of,
)
from workers.pipeline.splitting import needs_model

# py3langid takes about 5 ms per 1,000 characters, which is plenty to tell the language: an
# article of any size costs the same as a short one.
LANGUAGE_SAMPLE_CHARS = 1_000


def screen_article(source: SourceFile, *, check_language: bool) -> None:
    """Raise the InputError a quick look at `source` can already tell."""
    sample = sample_text(source)
    if not needs_model(sample):
        raise EmptyArticleError(f"{_what(source)} holds no article text")
    text = "\n\n".join(drop_debris(normalize_text(sample), []))
    whole = len(sample) < SAMPLE_CHARS
    if whole and not needs_model(text):
        raise EmptyArticleError("nothing is left to translate once the debris is removed")
    if check_language:
        check_dutch(text[:LANGUAGE_SAMPLE_CHARS])


def _what(source: SourceFile) -> str:
    return "the submitted text" if source.name == SourceFile.PASTED else source.name


def billable_chars(source: SourceFile) -> int:
    """At least as many characters as the worker can translate (and bill) from `source`:
    what a key reserves against its quota when the article is accepted. Exact for text and
    Word files; an HTML page reserves its size in bytes, its text being fewer characters.
    Linear in the file's size, as the rest of the screening."""
    if source.text is not None:
        return len(source.text)
    suffix = suffix_of(source.name)
    if suffix in TEXT_SUFFIXES:
        return len(source.decoded())
    if suffix == ".docx":
        return docx_text_chars(source.data, source.name)
    return len(source.data)
