"""HTML translated with its markup kept: whatever the translator writes, the output has every
element and attribute of the input, in the same order, and untouched parts stay byte for
byte. Checked on a realistic news page, under two parsers, and on generated HTML."""

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Comment, Tag
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.pipeline.markup import XmlTags, translate_html, translate_xml, xml_text

PAGE = (Path(__file__).parents[2] / "data" / "news-page.html").read_text()


def tags(html: str, parser: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every element, in document order, with its attributes in their order."""
    soup = BeautifulSoup(html, parser)
    return [
        (tag.name, [(k, " ".join(v) if isinstance(v, list) else v) for k, v in tag.attrs.items()])
        for tag in soup.find_all(True)
    ]


def marked(sentences: Sequence[str]) -> list[str]:
    """A translator whose every output is recognisable, with markup-like characters in it."""
    return [f"EN[{s.upper()}] <&>" for s in sentences]


class Counting:
    def __init__(self, translate=marked) -> None:  # type: ignore[no-untyped-def]
        self.calls: list[list[str]] = []
        self.translate = translate

    def __call__(self, sentences: Sequence[str]) -> list[str]:
        self.calls.append(list(sentences))
        return self.translate(sentences)


@pytest.mark.parametrize("parser", ["html.parser", "html5lib"])
def test_a_news_page_keeps_every_element_and_attribute_in_order(parser: str) -> None:
    out = translate_html(PAGE, marked)
    assert tags(out, parser) == tags(PAGE, parser)
    assert out.startswith("<!DOCTYPE html>")


def test_the_page_is_translated_in_one_batch_of_its_visible_text() -> None:
    translate = Counting()
    out = translate_html(PAGE, translate)
    assert len(translate.calls) == 1
    sent = " ".join(translate.calls[0])
    for visible in ("Waterschappen krijgen meer geld voor dijken", "Geld per rivier",
                    "Werkzaamheden aan een dijk bij Zwolle.", "Meest gelezen", "Rijn"):  # fmt: skip
        assert visible in sent
    soup = BeautifulSoup(out, "html.parser")
    assert soup.title is not None and soup.title.get_text().startswith("EN[")
    assert soup.h1 is not None and "EN[WATERSCHAPPEN" in soup.h1.get_text()
    assert soup.figcaption is not None and "EN[WERKZAAMHEDEN" in soup.figcaption.get_text()
    assert all("EN[" in cell.get_text() for cell in soup.find_all(["td", "th", "caption"]))


def test_code_scripts_styles_comments_and_no_translate_parts_stay_byte_for_byte() -> None:
    out = translate_html(PAGE, marked)
    for kept in (
        ".kop { font-weight: 700; } /* Dit is geen tekst om te vertalen */",
        '{"@type": "NewsArticle", "headline": "Waterschappen krijgen meer geld"}',
        'if (1 < 2) { dataLayer.push({"pagina": "artikel"}); }',
        "<code>HWBP-2024</code>",
        '<span translate="no">Deltaplan 2035</span>',
        "<pre>Regel 1: niet vertalen\nRegel 2: ook niet</pre>",
        '<ul class="notranslate"><li>Dijkwacht</li><li>Hoogwater</li></ul>',
        "<!-- navigatie: blijft staan -->",
        'href="https://example.nl/kamerbrief?id=12&amp;versie=2"',
        'alt="Een dijk bij Zwolle"',  # attributes are markup: left as written
    ):
        assert kept in out, kept
    comments = BeautifulSoup(out, "html.parser").find_all(string=lambda s: isinstance(s, Comment))
    assert [str(c) for c in comments] == [" navigatie: blijft staan "]


def test_what_the_model_writes_is_text_never_markup() -> None:
    def hostile(sentences: Sequence[str]) -> list[str]:
        return ['<script>alert("x")</script> & <img src=x onerror=alert(1)>' for _ in sentences]

    out = translate_html(PAGE, hostile)
    assert tags(out, "html.parser") == tags(PAGE, "html.parser")
    assert "&lt;script&gt;alert" in out and "<script>alert" not in out


def test_inline_tags_stay_around_their_part_of_the_sentence() -> None:
    # One sentence over three text nodes: translated whole, then cut over the nodes.
    translate = Counting(lambda ss: ["The minister said that on Tuesday." for _ in ss])
    out = translate_html("<p>De <b>minister</b> zei dat dinsdag.</p>", translate)
    assert translate.calls == [["De minister zei dat dinsdag."]]
    assert out == "<p>The <b>minister</b> said that on Tuesday.</p>"


def test_a_translator_that_loses_sentences_is_an_error() -> None:
    with pytest.raises(ValueError, match="number of sentences"):
        translate_html("<p>Een zin. Nog een zin.</p>", lambda ss: ["One."])


def test_markup_without_text_is_returned_as_it_was_without_a_model_call() -> None:
    translate = Counting()
    html = '<div class="x"><img src="a.png" alt="Foto"><br>\n  <script>var a = "b";</script></div>'
    assert translate_html(html, translate) == html
    assert translate.calls == []


# Generated HTML: any nesting of these elements, any attributes, any text.
NAMES = ["p", "div", "b", "i", "a", "span", "em", "li", "td", "h2", "code", "small", "q"]
TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=40)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    attrs = st.dictionaries(st.sampled_from(["class", "id", "href", "title", "lang"]), TEXT,
                            max_size=2)  # fmt: skip
    return st.builds(
        lambda name, attributes, inner: "<{}{}>{}</{}>".format(
            name,
            "".join(f' {k}="{escape(v)}"' for k, v in attributes.items()),
            "".join(inner),
            name,
        ),
        st.sampled_from(NAMES),
        attrs,
        st.lists(children, max_size=4),
    )


HTML = st.recursive(TEXT.map(escape), _element, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(html=HTML, words=st.integers(0, 12))
def test_any_html_keeps_its_elements_whatever_length_the_translation_has(
    html: str, words: int
) -> None:
    out = translate_html(html, lambda ss: [" ".join(["woord<&>"] * words) for _ in ss])
    assert tags(out, "html.parser") == tags(html, "html.parser")
    before = BeautifulSoup(html, "html.parser").find_all("code")
    after = BeautifulSoup(out, "html.parser").find_all("code")
    assert [str(c) for c in after] == [str(c) for c in before]
    assert all(isinstance(t, Tag) for t in after)


def test_thousands_of_nested_elements_need_no_recursion() -> None:
    depth = 20_000
    html = "<span>" * depth + "De minister zei dat." + "</span>" * depth
    out = translate_html(html, marked)
    assert out.count("<span>") == depth and "EN[DE MINISTER ZEI DAT.]" in out


# --- XML, as DeepL's tag_handling=xml ------------------------------------------------------

DEEPL_XML = """
<document>
    <meta>
        <title>A document's title</title>
    </meta>
    <content>
        <par>
        <span>This is a sentence split</span>
        <span>across two &lt;span&gt; tags that should be treated as one.
        </span>
        </par>
        <par>Here is a sentence. Followed by a second one.</par>
        <raw>This sentence will not be translated.</raw>
    </content>
</document>
"""
DEEPL_TAGS = XmlTags(
    ignore=frozenset({"raw"}),
    splitting=frozenset({"title", "par"}),
    non_splitting=frozenset({"span"}),
    outline_detection=False,
)


def markup_of(xml: str) -> list[str]:
    return re.findall(r"<[^>]*>", xml)


def test_xml_keeps_every_tag_and_ignored_text_byte_for_byte() -> None:
    translate = Counting()
    (out,) = translate_xml([DEEPL_XML], translate, DEEPL_TAGS)
    assert markup_of(out) == markup_of(DEEPL_XML)
    assert "<raw>This sentence will not be translated.</raw>" in out
    assert translate.calls == [
        [
            "A document's title",
            "This is a sentence split across two <span> tags that should be treated as one.",
            "Here is a sentence.",
            "Followed by a second one.",
        ]
    ], "non-splitting spans make one sentence; entities are text; raw is not sent"
    assert "&lt;SPAN&gt;" in out and "<&>" not in out, "the translation is escaped"


def test_splitting_tags_split_and_outline_detection_splits_at_block_elements() -> None:
    xml = "<p>Een zin <x>loopt</x> door <b>hier</b></p> <q>en twee.</q>"
    translate = Counting(lambda sentences: list(sentences))
    translate_xml([xml], translate, XmlTags())
    assert translate.calls[-1] == ["Een zin", "loopt", "door hier", "en twee."], "<x>: not inline"
    translate_xml([xml], translate, XmlTags(non_splitting=frozenset({"x"})))
    assert translate.calls[-1] == ["Een zin loopt door hier", "en twee."]
    translate_xml([xml], translate, XmlTags(outline_detection=False))
    assert translate.calls[-1] == ["Een zin loopt door hier en twee."]
    translate_xml([xml], translate, XmlTags(splitting=frozenset({"b"}), outline_detection=False))
    assert translate.calls[-1] == ["Een zin loopt door", "hier", "en twee."]


def test_fragments_declarations_and_broken_xml_come_back_as_they_were() -> None:
    texts = [
        '<?xml version="1.0"?><!DOCTYPE d><!-- note --><d a="1">Tekst<br>meer<![CDATA[<x>]]></d>',
        "<p>Open <ignore>niet <b>dit</b></ignore> en dit</p> los < en > &amp; klaar",
        "geen markup",
        "<ignore/>Na een leeg genegeerd element.",
    ]
    out = translate_xml(
        texts, lambda s: [t.upper() for t in s], XmlTags(ignore=frozenset({"ignore"}))
    )
    for before, after in zip(texts, out, strict=True):
        assert markup_of(after) == markup_of(before.replace("< en >", "&lt; en &gt;"))
    assert "<ignore>niet <b>dit</b></ignore>" in out[1]
    assert out[1].endswith("EN DIT</p> LOS &lt; EN &gt; &amp; KLAAR"), "a stray < is text"
    assert "<![CDATA[<x>]]>" in out[0] and "TEKST" in out[0]
    assert out[2] == "GEEN MARKUP" and out[3] == "<ignore/>NA EEN LEEG GENEGEERD ELEMENT."


def test_an_xml_texts_language_is_read_from_what_is_translated() -> None:
    mixed = "<p>This is a <b>short</b> sentence.</p><ignore>يجب تجاهل هذا الجزء.</ignore> More."
    assert xml_text(mixed, XmlTags(ignore=frozenset({"ignore"}))).split() == [
        "This", "is", "a", "short", "sentence.", "More.",
    ]  # fmt: skip
