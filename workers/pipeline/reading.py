"""Turn a file (txt, md, html, docx) or pasted text into a RawDocument.

Plain text must be UTF-8; HTML goes through trafilatura's main-content extractor, Word files
through python-docx, Markdown through markdown-it. Anything unusable raises an InputError that
says what is wrong with the file.

Each format also has a `sample`: a bounded, linear look at a file (the checks a web request
can afford: is it this format at all, is there text, a piece to check the language on), and
the limits that keep a small file from unpacking into a huge one (a .docx of 382 KB can hold
two million paragraphs). Readers check the same limits before they unpack anything.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from workers.errors import (
    ArticleTooLargeError,
    EmptyArticleError,
    UndecodableError,
    UnsupportedFormatError,
)
from workers.pipeline.article import RawDocument, SourceFile

# What a sample holds at most: enough to check the language, little enough for a request.
SAMPLE_CHARS = 20_000
# Bounds on what a file may unpack into. A news article needs a small fraction of each.
HTML_MAX_TAGS = 100_000  # trafilatura's time grows faster than linearly with the tags
HTML_SAMPLE_BYTES = 256_000
DOCX_MAX_PARTS = 1_000
DOCX_MAX_INFLATED_BYTES = 64_000_000  # all parts together, unpacked
DOCX_MAX_PARAGRAPHS = 20_000
DOCX_BODY = "word/document.xml"


@dataclass(frozen=True)
class Format:
    """One kind of article file: its suffixes, what to call it, how to read its bytes, and a
    bounded sample of its text (raising the same errors the reader would for a bad file)."""

    suffixes: tuple[str, ...]
    name: str
    read: Callable[[bytes, str], RawDocument]
    sample: Callable[[bytes, str], str]


def suffix_list(separator: str = " ") -> str:
    """`.txt .md .html .htm .docx`, for messages and help texts."""
    return separator.join(SUPPORTED_SUFFIXES)


def suffix_of(filename: str) -> str:
    """`.html` for `nieuws.HTML` and for `.html` alike (a file may be all suffix)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[1].lower() if "." in name else ""


def is_supported(filename: str) -> bool:
    return suffix_of(filename) in READERS


def read_path(path: Path) -> RawDocument:
    """Read an article file from disk."""
    if not is_supported(path.name):
        raise UnsupportedFormatError(_unsupported_message(path.name))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UndecodableError(f"cannot read {path.name}: {error.strerror or error}") from error
    return read_bytes(data, path.name)


def format_of(filename: str) -> Format:
    found = READERS.get(suffix_of(filename))
    if found is None:
        raise UnsupportedFormatError(_unsupported_message(filename))
    return found


def read_bytes(data: bytes, filename: str) -> RawDocument:
    """Read an article from the bytes of a file named `filename` (the suffix picks the reader)."""
    return require_text(format_of(filename).read(data, filename), filename)


def read_source(source: SourceFile) -> RawDocument:
    return read_bytes(source.data, source.name)


def sample_text(source: SourceFile) -> str:
    """Up to SAMPLE_CHARS of the file's text, in time linear in its size and bounded memory;
    raises what reading it would raise for a file that is not what its name says."""
    if source.text is not None and suffix_of(source.name) in TEXT_SUFFIXES:
        # Text that arrived as text was checked when it arrived (valid Unicode, no NUL).
        return source.text[:SAMPLE_CHARS]
    return format_of(source.name).sample(source.data, source.name)[:SAMPLE_CHARS]


# UTF-8 continuation bytes (10xxxxxx): every other byte of UTF-8 text starts a character.
_CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
_BOM = "\ufeff".encode()


def known_length(source: SourceFile) -> int | None:
    """The characters of the article's text where its bytes tell them at once (pasted text,
    .txt, .md), in one linear pass; None where only extraction can (HTML, Word)."""
    if source.text is not None:
        return len(source.text)
    if suffix_of(source.name) not in TEXT_SUFFIXES:
        return None
    bom = 1 if source.data.startswith(_BOM) else 0
    return len(source.data.translate(None, _CONTINUATION_BYTES)) - bom


def check_length(chars: int, limit: int, what: str) -> None:
    """The one article size limit (VERTAAL_MAX_ARTICLE_CHARS), in characters."""
    if chars > limit:
        raise ArticleTooLargeError(
            f"{what} is {chars:,} characters long; the limit is {limit:,} characters"
        )


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
        where = f"byte 0x{data[error.start]:02x} at offset {error.start}"
        if _looks_binary(data):  # an image or a PDF saved under a text name
            raise UndecodableError(
                f"{filename} is not UTF-8 text ({where}); it looks like binary data, not an "
                "article: check what was saved under this name"
            ) from error
        raise UndecodableError(
            f"{filename} is not UTF-8 text ({where}); it may be in another encoding "
            "(such as Windows-1252): save it as UTF-8"
        ) from error
    if "\x00" in text:
        what = "the text" if filename == SourceFile.PASTED else filename
        raise UndecodableError(f"{what} contains NUL characters; it looks like binary data")
    return text


def _looks_binary(data: bytes) -> bool:
    """Control characters that no text file holds (NUL, or many others) in the first 8 KB."""
    head = data[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f\v")
    return b"\x00" in head or controls > len(head) // 20


def _unsupported_message(filename: str) -> str:
    suffix = suffix_of(filename) or "(no extension)"
    return f"{suffix} files are not supported; use one of {suffix_list(', ')}"


def _check_html_size(data: bytes, filename: str) -> None:
    tags = data.count(b"<")
    if tags > HTML_MAX_TAGS:
        raise ArticleTooLargeError(
            f"{filename} holds about {tags:,} HTML tags; the limit is {HTML_MAX_TAGS:,} "
            "(save just the article, or its text as .txt)"
        )


def _sample_html(data: bytes, filename: str) -> str:
    """The text of the page's first HTML_SAMPLE_BYTES, without scripts and styles."""
    import lxml.html
    from lxml.etree import LxmlError, ParserError

    _check_html_size(data, filename)
    head = data[:HTML_SAMPLE_BYTES]
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.fromstring(head, parser=parser)
    except (LxmlError, ParserError, ValueError):
        return ""
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
        raise ArticleTooLargeError(
            f"{filename} nests its HTML elements deeper than the parser follows (256 levels); "
            "save just the article, or its text as .txt"
        )
    for unwanted in root.xpath("//script|//style|//noscript"):
        unwanted.drop_tree()
    return " ".join(root.text_content().split())


def _read_html(data: bytes, filename: str) -> RawDocument:
    import trafilatura

    _check_html_size(data, filename)
    extracted = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_tables=False
    )
    fields = extracted.as_dict() if isinstance(extracted, trafilatura.settings.Document) else {}
    text = fields.get("text") or ""
    if not text.strip():
        raise EmptyArticleError(f"no article text found in {filename}")
    return RawDocument(text=text, title=fields.get("title"), date=fields.get("date"))


def _open_docx(data: bytes, filename: str) -> zipfile.ZipFile:
    """The .docx as a zip archive whose unpacked size has been checked, before anything is
    unpacked: sizes come from the archive's directory, and the reading stops at the limits
    even if the directory lies."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
        archive.getinfo(DOCX_BODY)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UndecodableError(f"{filename} is not a readable .docx file") from error
    inflated = sum(part.file_size for part in parts)
    if len(parts) > DOCX_MAX_PARTS or inflated > DOCX_MAX_INFLATED_BYTES:
        raise ArticleTooLargeError(
            f"{filename} unpacks into {len(parts):,} parts of {inflated:,} bytes; the limits "
            f"are {DOCX_MAX_PARTS:,} parts and {DOCX_MAX_INFLATED_BYTES:,} bytes"
        )
    return archive


def _docx_paragraphs(archive: zipfile.ZipFile, filename: str) -> Iterator[str]:
    """The text of each paragraph of the body, streamed: memory stays bounded whatever the
    document holds, and more than DOCX_MAX_PARAGRAPHS paragraphs is refused."""
    from lxml import etree

    namespace = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    count = 0
    try:
        with archive.open(DOCX_BODY) as body:
            limited = _LimitedReader(body, DOCX_MAX_INFLATED_BYTES, filename)
            for _, element in etree.iterparse(limited, events=("end",), tag=f"{namespace}p"):
                count += 1
                if count > DOCX_MAX_PARAGRAPHS:
                    raise ArticleTooLargeError(
                        f"{filename} holds more than {DOCX_MAX_PARAGRAPHS:,} paragraphs"
                    )
                yield "".join(element.itertext(f"{namespace}t"))
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except (etree.LxmlError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise UndecodableError(f"{filename} is not a readable .docx file") from error


class _LimitedReader(io.RawIOBase):
    """A file that refuses to give more than `limit` bytes (a zip directory can lie)."""

    def __init__(self, inner: IO[bytes], limit: int, filename: str) -> None:
        self.inner = inner
        self.left = limit
        self.filename = filename

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.left -= len(chunk)
        if self.left < 0:
            raise ArticleTooLargeError(f"{self.filename} unpacks into too much data")
        return chunk


def _sample_docx(data: bytes, filename: str) -> str:
    """The first paragraphs' text, after checking the whole body's size and paragraph count
    (a linear, streamed pass)."""
    pieces: list[str] = []
    size = 0
    for text in _docx_paragraphs(_open_docx(data, filename), filename):
        if size < SAMPLE_CHARS and text.strip():
            pieces.append(text)
            size += len(text) + 2
    return "\n\n".join(pieces)


def docx_text_chars(data: bytes, filename: str) -> int:
    """The characters of the body's text as a text file would hold it (paragraphs apart by a
    blank line), in one streamed pass."""
    paragraphs = [len(t) for t in _docx_paragraphs(_open_docx(data, filename), filename) if t]
    return sum(paragraphs) + 2 * max(0, len(paragraphs) - 1)


def check_docx(data: bytes, filename: str) -> None:
    """The bounds a .docx must keep before python-docx, which unpacks all of it, may open
    it: a streamed pass over the archive and its body."""
    for _ in _docx_paragraphs(_open_docx(data, filename), filename):
        pass


def _read_docx(data: bytes, filename: str) -> RawDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    check_docx(data, filename)
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


def _sample_plain(data: bytes, filename: str) -> str:
    return decode_utf8(data, filename)  # the whole file: decoding checks every byte


# The one list of what Vertaal reads; the form, the API schema, the CLI's help and its folder
# walk all derive theirs from it.
FORMATS = (
    Format((".txt",), "plain text (UTF-8)", _read_plain, _sample_plain),
    Format((".md",), "Markdown", _read_markdown_file, _sample_plain),
    Format((".html", ".htm"), "HTML (the main content is found)", _read_html, _sample_html),
    Format((".docx",), "Word", _read_docx, _sample_docx),
)
READERS = {suffix: form for form in FORMATS for suffix in form.suffixes}
SUPPORTED_SUFFIXES = tuple(READERS)
# Formats whose content is text, where line endings and Unicode forms cannot change a result.
TEXT_SUFFIXES = (".txt", ".md")
# Formats that can arrive as a text field rather than a file.
TEXT_FORMAT_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if s != ".docx")
