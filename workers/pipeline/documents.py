"""A file translated into a file of the same kind: text keeps its lines, HTML its markup, a
Word document its paragraphs, tables and run formatting (the DeepL document and
LibreTranslate file protocols). Nothing is cleaned away: the whole file is translated."""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape

from bs4 import BeautifulSoup, UnicodeDammit

from workers.pipeline.article import Checks, Models, Result, Source, SourceFile, Translation
from workers.pipeline.markup import translate_html
from workers.pipeline.reading import check_docx, decode_utf8, format_of, suffix_of
from workers.pipeline.texts import SentenceTranslator, translate_plain

MEDIA_TYPES = {
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class TranslatedFile:
    data: bytes
    media_type: str


def translate_file(source: SourceFile, translate: SentenceTranslator) -> TranslatedFile:
    """The file, translated; its kind is its name's suffix."""
    suffix = suffix_of(source.name)
    format_of(source.name)  # an unsupported kind is refused here, as everywhere
    if suffix in (".html", ".htm"):
        text = UnicodeDammit(source.data, ["utf-8"]).unicode_markup or ""
        data = translate_html(text, translate).encode()
    elif suffix == ".docx":
        data = _translate_docx(source, translate)
    else:
        data = translate_plain(decode_utf8(source.data, source.name), translate).encode()
    return TranslatedFile(data, MEDIA_TYPES[suffix])


def _translate_docx(source: SourceFile, translate: SentenceTranslator) -> bytes:
    """Each paragraph (of the body and of its tables) translated as a run of text over its
    formatting runs, the way HTML keeps its inline tags."""
    import docx

    check_docx(source.data, source.name)
    document = docx.Document(io.BytesIO(source.data))
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs += cell.paragraphs
    html_like = []
    for paragraph in paragraphs:
        runs = [run for run in paragraph.runs if run.text]
        html_like.append((runs, [run.text for run in runs]))
    # The runs of each paragraph go through the markup translator as <span>s of one <p>:
    # one batch for the whole document, and the same cutting of sentences over runs.
    page = "".join(
        "<p>" + "".join(f"<span>{escape(text)}</span>" for text in texts) + "</p>"
        for _, texts in html_like
    )
    translated = translate_html(page, translate)
    blocks = BeautifulSoup(translated, "html.parser").find_all("p")
    for (runs, _), block in zip(html_like, blocks, strict=True):
        for run, span in zip(runs, block.find_all("span"), strict=True):
            run.text = span.get_text()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def file_result(translate: SentenceTranslator, models: Models, timings: dict[str, float]) -> Result:
    """What a translated file's job shows as its result: its sentences, each with its
    translation, in order (the file itself is the download)."""
    return Result(
        source=Source(title=None, date=None, paragraphs=[[s] for s, _ in translate.pairs]),
        translation=Translation(title=None, paragraphs=[[t] for _, t in translate.pairs]),
        summary=None,
        removed=[],
        models=models,
        timings=timings,
        checks=Checks.of([], [[flags] for flags in translate.flags]),
    )
