import contextlib
import io
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest

from tests.conftest import DATA
from workers.errors import (
    ArticleTooLargeError,
    EmptyArticleError,
    UndecodableError,
    UnsupportedFormatError,
)
from workers.pipeline.article import SourceFile
from workers.pipeline.reading import (
    DOCX_BODY,
    DOCX_MAX_INFLATED_BYTES,
    HTML_MAX_TAGS,
    SAMPLE_CHARS,
    read_bytes,
    read_path,
    read_text,
    sample_text,
)

DUTCH = "De NAVO en Rusland praten opnieuw over de veiligheid in Europa."


def test_reads_utf8_text_with_or_without_bom() -> None:
    assert read_bytes(DUTCH.encode(), "a.txt").text == DUTCH
    assert read_bytes(b"\xef\xbb\xbf" + DUTCH.encode(), "a.txt").text == DUTCH


def test_refuses_text_that_is_not_utf8() -> None:
    with pytest.raises(UndecodableError, match=r"not UTF-8 .*byte 0xe9 at offset 3"):
        read_bytes("Caf\u00e9".encode("latin-1"), "a.txt")


def test_refuses_binary_data_even_when_it_decodes() -> None:
    with pytest.raises(UndecodableError, match="NUL"):
        read_bytes(b"abc\x00def", "a.txt")
    with pytest.raises(UndecodableError, match="NUL"):
        read_text("abc\x00def")


@pytest.mark.parametrize("data", [b"", b"   \n\t\n  "])
def test_empty_input_is_an_error(data: bytes) -> None:
    with pytest.raises(EmptyArticleError):
        read_bytes(data, "a.txt")
    with pytest.raises(EmptyArticleError):
        read_text(data.decode())


def test_refuses_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "article.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(UnsupportedFormatError, match=r"\.pdf files are not supported"):
        read_path(path)


def test_html_main_content_title_and_date() -> None:
    document = read_path(DATA / "nos-style.html")
    assert document.title == "Kabinet trekt extra geld uit voor dijkversterking"
    assert document.date == "2023-03-14"
    assert "1.500 kilometer aan dijken" in document.text
    for debris in ("Binnenland", "Storm raast", "Alle rechten voorbehouden"):
        assert debris not in document.text


def test_html_without_article_text_is_empty() -> None:
    with pytest.raises(EmptyArticleError, match="no article text"):
        read_bytes(
            b"<html><head><title>Nieuws</title></head><body><script>x=1</script></body></html>",
            "page.html",
        )


def test_docx_title_and_paragraphs(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Kabinet trekt extra geld uit", level=0)
    document.add_paragraph("Eerste alinea van het artikel.")
    document.add_paragraph("")
    document.add_paragraph("Tweede alinea van het artikel.")
    path = tmp_path / "article.docx"
    document.save(str(path))

    read = read_path(path)
    assert read.title == "Kabinet trekt extra geld uit"
    assert read.text == "Eerste alinea van het artikel.\n\nTweede alinea van het artikel."


def test_corrupt_docx_is_undecodable() -> None:
    with pytest.raises(UndecodableError, match=r"not a readable \.docx"):
        read_bytes(b"PK\x03\x04 not really a zip", "broken.docx")


def test_docx_with_broken_xml_inside_is_undecodable(tmp_path: Path) -> None:
    """A valid zip whose document part is not XML (a half-written or hand-edited file)."""
    path = tmp_path / "article.docx"
    docx.Document().save(str(path))
    damaged = tmp_path / "damaged.docx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(
                item, b"<w:document><unclosed" if "document.xml" in item.filename else data
            )
    with pytest.raises(UndecodableError, match=r"damaged\.docx is not a readable \.docx"):
        read_path(damaged)


def test_markdown_blocks_become_paragraphs() -> None:
    markdown = (
        "# Kabinet trekt extra geld uit\n\n"
        "Het kabinet trekt **extra** geld uit voor\n[dijken](https://example.nl).\n\n"
        "## Reactie\n\n- De waterschappen zijn blij.\n"
    )
    read = read_bytes(markdown.encode(), "a.md")
    assert read.title == "Kabinet trekt extra geld uit"
    assert read.text.split("\n\n") == [
        "Het kabinet trekt extra geld uit voor dijken.",
        "Reactie",
        "De waterschappen zijn blij.",
    ]


def docx_with_empty_paragraphs(count: int) -> bytes:
    """A small .docx whose body holds `count` empty paragraphs: a few hundred KB zipped."""
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body>" + "<w:p/>" * count + "</w:body></w:document>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            z.writestr(item.filename, body if item.filename == DOCX_BODY else source.read(item))
    return out.getvalue()


def test_a_docx_holding_millions_of_paragraphs_is_refused_before_unpacking() -> None:
    data = docx_with_empty_paragraphs(2_000_000)
    assert len(data) < 500_000
    peak = []
    tracemalloc.start()
    try:
        with pytest.raises(ArticleTooLargeError, match="more than 20,000 paragraphs"):
            sample_text(SourceFile("bomb.docx", data))
        with pytest.raises(ArticleTooLargeError):
            read_bytes(data, "bomb.docx")
        peak.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert peak[0] < 50_000_000, "streamed: memory stays bounded"


def test_a_docx_that_unpacks_into_too_much_is_refused() -> None:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            z.writestr(item.filename, source.read(item))
        z.writestr("word/media/huge.bin", b"\0" * (DOCX_MAX_INFLATED_BYTES + 1))
    with pytest.raises(ArticleTooLargeError, match="unpacks into"):
        sample_text(SourceFile("zip-bomb.docx", out.getvalue()))


def test_html_with_too_many_tags_is_refused() -> None:
    page = b"<html><body>" + b"<span>woord</span>" * (HTML_MAX_TAGS // 2 + 1) + b"</body></html>"
    with pytest.raises(ArticleTooLargeError, match="HTML tags"):
        sample_text(SourceFile("page.html", page))
    with pytest.raises(ArticleTooLargeError, match="HTML tags"):
        read_bytes(page, "page.html")


def test_html_nested_deeper_than_the_parser_follows_is_refused() -> None:
    nested = b"<div>" * 40_000 + b"<p>De minister zei dat er plannen komen.</p>"
    page = b"<html><body>" + nested + b"</div>" * 40_000 + b"</body></html>"
    with pytest.raises(ArticleTooLargeError, match="deeper than the parser follows"):
        sample_text(SourceFile("deep.html", page))
    with contextlib.suppress(EmptyArticleError):  # the reader itself never crashes on it
        read_bytes(page, "deep.html")


def test_samples_are_bounded_and_come_from_the_text() -> None:
    text = "De NAVO praat met Rusland. " * 10_000
    sample = sample_text(SourceFile("a.txt", text.encode()))
    assert len(sample) == SAMPLE_CHARS and text.startswith(sample)
    html_sample = sample_text(SourceFile("nos.html", (DATA / "nos-style.html").read_bytes()))
    assert "1.500 kilometer aan dijken" in html_sample and "<" not in html_sample
