"""Turn a file (txt, md, html, docx) or pasted text into a RawDocument.

Plain text must be UTF-8; HTML goes through trafilatura's main-content extractor, Word files
through python-docx, Markdown through markdown-it. Anything unusable raises an InputError that
says what is wrong with the file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workers.errors import EmptyArticleError, UndecodableError, UnsupportedFormatError
from workers.pipeline.article import RawDocument


@dataclass(frozen=True)
class Format:
    """One kind of article file: its suffixes, what to call it, how to read its bytes."""

    suffixes: tuple[str, ...]
    name: str
    read: Callable[[bytes, str], RawDocument]


def suffix_list(separator: str = " ") -> str:
    """`.txt .md .html .htm .docx`, for messages and help texts."""
    return separator.join(SUPPORTED_SUFFIXES)


def is_supported(filename: str) -> bool:
    return Path(filename).suffix.lower() in READERS


def read_path(path: Path) -> RawDocument:
    """Read an article file from disk."""
    if not is_supported(path.name):
        raise UnsupportedFormatError(_unsupported_message(path.name))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UndecodableError(f"cannot read {path.name}: {error.strerror or error}") from error
    return read_bytes(data, path.name)


def read_bytes(data: bytes, filename: str) -> RawDocument:
    """Read an article from the bytes of a file named `filename` (the suffix picks the reader)."""
    found = READERS.get(Path(filename).suffix.lower())
    if found is None:
        raise UnsupportedFormatError(_unsupported_message(filename))
    return require_text(found.read(data, filename), filename)


def read_text(text: str) -> RawDocument:
    """Pasted article text."""
    if "\x00" in text:
        raise UndecodableError("the text contains NUL characters; it looks like binary data")
    return require_text(RawDocument(text), "the submitted text")


def require_text(document: RawDocument, what: str) -> RawDocument:
    if not document.text.strip():
        raise EmptyArticleError(f"{what} holds no article text")
    return document


def decode_utf8(data: bytes, filename: str) -> str:
    """Strict UTF-8 (a BOM is allowed); binary data is refused rather than guessed at."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UndecodableError(
            f"{filename} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8 or convert it to .txt first"
        ) from error
    if "\x00" in text:
        raise UndecodableError(f"{filename} contains NUL bytes; it looks like a binary file")
    return text


def _unsupported_message(filename: str) -> str:
    suffix = Path(filename).suffix or "(no extension)"
    return f"{suffix} files are not supported; use one of {suffix_list(', ')}"


def _read_html(data: bytes, filename: str) -> RawDocument:
    import trafilatura

    extracted = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_tables=False
    )
    fields = extracted.as_dict() if isinstance(extracted, trafilatura.settings.Document) else {}
    text = fields.get("text") or ""
    if not text.strip():
        raise EmptyArticleError(f"no article text found in {filename}")
    return RawDocument(text=text, title=fields.get("title"), date=fields.get("date"))


def _read_docx(data: bytes, filename: str) -> RawDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError) as error:
        raise UndecodableError(f"{filename} is not a readable .docx file") from error
    title = document.core_properties.title or None
    paragraphs: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = paragraph.style.name if paragraph.style is not None else ""
        if title is None and not paragraphs and style in ("Title", "Heading 1"):
            title = text
            continue
        paragraphs.append(text)
    return RawDocument(text="\n\n".join(paragraphs), title=title)


def _read_markdown(text: str) -> RawDocument:
    """Markdown blocks become paragraphs of plain text; a leading level-1 heading the title."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    title: str | None = None
    blocks: list[str] = []
    heading_level = 0
    for token in tokens:
        if token.type == "heading_open":
            heading_level = int(token.tag[1:])
        elif token.type == "inline":
            pieces = []
            for child in token.children or []:
                if child.type in ("softbreak", "hardbreak"):
                    pieces.append(" ")
                elif child.type in ("text", "code_inline"):
                    pieces.append(child.content)
            block = "".join(pieces).strip()
            if heading_level == 1 and title is None and not blocks:
                title = block
            elif block:
                blocks.append(block)
        elif token.type == "heading_close":
            heading_level = 0
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(token.content.strip())
    return RawDocument(text="\n\n".join(blocks), title=title or None)


def _read_plain(data: bytes, filename: str) -> RawDocument:
    return RawDocument(decode_utf8(data, filename))


def _read_markdown_file(data: bytes, filename: str) -> RawDocument:
    return _read_markdown(decode_utf8(data, filename))


# The one list of what Vertaal reads; the form, the API schema, the CLI's help and its folder
# walk all derive theirs from it.
FORMATS = (
    Format((".txt",), "plain text (UTF-8)", _read_plain),
    Format((".md",), "Markdown", _read_markdown_file),
    Format((".html", ".htm"), "HTML (the main content is found)", _read_html),
    Format((".docx",), "Word", _read_docx),
)
READERS = {suffix: form for form in FORMATS for suffix in form.suffixes}
SUPPORTED_SUFFIXES = tuple(READERS)
