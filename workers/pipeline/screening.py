"""What a web request checks before it accepts an article: bounded work, linear in its size.

The size (in characters, wherever the bytes tell them at once), the format (the file is what
its name says, and does not unpack into too much), that there is text, and the language of a
sample. Reading the whole article, cleaning and splitting it
happen in the worker, where a long article costs a worker's time, not the web's.
"""

from __future__ import annotations

from workers.errors import EmptyArticleError
from workers.pipeline.article import SourceFile
from workers.pipeline.cleaning import drop_debris, normalize_text
from workers.pipeline.language import check_dutch
from workers.pipeline.reading import (
    SAMPLE_CHARS,
    check_length,
    docx_text_chars,
    known_length,
    sample_text,
    suffix_of,
)
from workers.pipeline.splitting import needs_model

# py3langid takes about 5 ms per 1,000 characters, which is plenty to tell the language: an
# article of any size costs the same as a short one.
LANGUAGE_SAMPLE_CHARS = 1_000


def screen_article(source: SourceFile, *, check_language: bool, max_chars: int) -> int:
    """Raise the InputError a quick look at `source` can already tell; else the article's
    size in characters, at least what the worker can translate (and a key is billed): what
    is reserved against a key's quota. Text and Word files are measured (a .docx as the text
    file of its paragraphs would be, so it can cost no more than that text) and held to
    `max_chars` here; an HTML page's size is its bytes, and its text is measured against
    `max_chars` in the worker, once extracted."""
    if not source.data:  # an empty file, whatever its format, is as empty as empty text
        raise EmptyArticleError(f"{_what(source)} holds no article text")
    length = known_length(source)
    if length is None and suffix_of(source.name) == ".docx":
        length = docx_text_chars(source.data, source.name)
    if length is not None:
        check_length(length, max_chars, _what(source))
    sample = sample_text(source)
    if not needs_model(sample):
        raise EmptyArticleError(f"{_what(source)} holds no article text")
    text = "\n\n".join(drop_debris(normalize_text(sample), []))
    whole = len(sample) < SAMPLE_CHARS
    if whole and not needs_model(text):
        raise EmptyArticleError("nothing is left to translate once the debris is removed")
    if check_language:
        check_dutch(text[:LANGUAGE_SAMPLE_CHARS])
    return length if length is not None else len(source.data)


def _what(source: SourceFile) -> str:
    return "the submitted text" if source.name == SourceFile.PASTED else source.name
