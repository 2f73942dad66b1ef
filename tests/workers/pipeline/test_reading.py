import zipfile
from pathlib import Path

import docx
import pytest

from tests.conftest import DATA
from workers.errors import EmptyArticleError, UndecodableError, UnsupportedFormatError
from workers.pipeline.reading import read_bytes, read_path, read_text

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
