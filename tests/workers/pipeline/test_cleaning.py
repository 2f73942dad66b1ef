import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ARTICLES
from workers.errors import EmptyArticleError
from workers.pipeline.article import CleanArticle, RawDocument
from workers.pipeline.cleaning import clean_article, normalize_text

DEBRIS = (
    "Videospeler", "Copyright", "All rights reserved", "Meest gelezen", "Lees ook", "Foto:",
    "Deel dit artikel", "©",
)  # fmt: skip


def clean(text: str, **metadata: str) -> CleanArticle:
    return clean_article(RawDocument(text, **metadata))


def sentences(article: CleanArticle) -> list[str]:
    return [s for paragraph in article.paragraphs for s in paragraph]


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def test_samples_have_no_debris_and_no_repeated_sentence(sample_article: Path) -> None:
    article = clean(sample_article.read_text())
    found = sentences(article)
    assert found, "every sample has a body"
    for sentence in found:
        assert not any(d.casefold() in sentence.casefold() for d in DEBRIS), sentence
    keys = [" ".join(re.findall(r"\w+", s.casefold())) for s in found]
    assert len(keys) == len(set(keys))


def test_date_prefix_becomes_date_and_leaves_the_sentence() -> None:
    article = clean((ARTICLES / "nato-russia-council-dialogue.txt").read_text())
    assert article.date == "2022-01"
    assert article.title is None
    assert sentences(article)[0].startswith("Er zijn 'grote verschillen' vastgesteld")


def test_duplicated_glued_body_is_removed_and_recorded() -> None:
    article = clean((ARTICLES / "nato-russia-council-dialogue.txt").read_text())
    repeated = [r for r in article.removed if r.reason == "repeated sentence"]
    assert len(repeated) == 17
    assert len(sentences(article)) == 19
    # The glued copy's `klonk het.De verwachtingen` was repaired before comparing.
    assert any(r.text.startswith("De verwachtingen voor de NAVO-Rusland Raad") for r in repeated)


def test_title_line_and_debris_with_captions() -> None:
    article = clean((ARTICLES / "blinken-stoltenberg-written-reply.txt").read_text())
    assert article.title is not None
    assert article.title.startswith("Amerikaanse minister Blinken en NAVO-topman Stoltenberg")
    reasons = {(r.reason, r.text) for r in article.removed}
    assert ("video player", "Videospeler inladen...") in reasons
    assert (
        "photo caption",
        "De Amerikaanse minister van Buitenlandse Zaken Antony Blinken",
    ) in reasons
    assert ("photo caption", "NAVO-topman Jens Stoltenberg") in reasons
    assert (
        "copyright notice",
        "Copyright 2022 The Associated Press. All rights reserved",
    ) in reasons
    assert ("navigation", "Meest gelezen") in reasons
    # Subheadings are content, not captions.
    assert ["Spanning aan Oekraïens-Russische grens: een woordje uitleg"] in article.paragraphs


def test_photo_credits_captions_and_glued_links_in_another_layout() -> None:
    article = clean((ARTICLES / "dijken-versterking-glued.txt").read_text())
    assert article.date == "2023-03-14"
    reasons = [r.reason for r in article.removed]
    assert reasons.count("repeated sentence") == 4
    assert {"photo caption", "photo credit", "related link", "video player", "navigation"} <= set(
        reasons
    )
    assert sentences(article)[-1] == "De projecten moeten uiterlijk in 2033 klaar zijn."


def test_full_stops_that_lost_their_space_are_repaired() -> None:
    article = clean(
        "Het ging om 100.000 euro, o.a. voor de N.A.V.O. en www.nos.nl/Artikel.Nieuws bleef uit."
        "De verwachtingen waren laag, klonk het.”Toch kwam er een akkoord."
    )
    assert sentences(article) == [
        "Het ging om 100.000 euro, o.a. voor de N.A.V.O. en www.nos.nl/Artikel.Nieuws bleef uit.",
        "De verwachtingen waren laag, klonk het.”",
        "Toch kwam er een akkoord.",
    ]


def test_related_link_glued_to_a_sentence_is_removed() -> None:
    article = clean(
        "Rusland heeft troepen aan de grens verzameld voor een mogelijke invasie."
        "Lees ook: Wat wil Poetin met Oekraïne?"
    )
    assert sentences(article) == [
        "Rusland heeft troepen aan de grens verzameld voor een mogelijke invasie."
    ]
    assert [(r.reason, r.text) for r in article.removed] == [
        ("related link", "Lees ook: Wat wil Poetin met Oekraïne?")
    ]


def test_related_link_lines_and_navigation_are_removed() -> None:
    article = clean(
        "De minister reageerde dinsdag op de plannen.\n"
        "Lees ook | Zo werkt de dijkversterking\n\nDeel dit artikel:\n\nEen tweede alinea volgt."
    )
    assert sentences(article) == [
        "De minister reageerde dinsdag op de plannen.",
        "Een tweede alinea volgt.",
    ]
    assert {r.reason for r in article.removed} == {"related link", "navigation"}


def test_hard_wrapped_lines_are_joined_but_lines_are_paragraphs() -> None:
    article = clean(
        "De minister van Buitenlandse Zaken zei dinsdag dat\nhet overleg goed verliep.\n"
        "Een nieuwe alinea op de volgende regel."
    )
    assert article.paragraphs == [
        ["De minister van Buitenlandse Zaken zei dinsdag dat het overleg goed verliep."],
        ["Een nieuwe alinea op de volgende regel."],
    ]


def test_title_from_the_file_format_is_not_repeated_in_the_body() -> None:
    article = clean(
        "Dijken worden versterkt\nHet kabinet trekt geld uit.", title="Dijken worden versterkt"
    )
    assert article.title == "Dijken worden versterkt"
    assert article.paragraphs == [["Het kabinet trekt geld uit."]]


def test_only_debris_is_an_empty_article() -> None:
    with pytest.raises(EmptyArticleError, match="nothing left"):
        clean("Videospeler inladen...\n\nMeest gelezen\n")


def test_punctuation_only_is_an_empty_article() -> None:
    """The model would invent a summary of it; opus-mt hallucinates on such segments."""
    with pytest.raises(EmptyArticleError, match="no words"):
        clean("Kabinet zwijgt\n\n…\n\n— * —")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400))
def test_cleaning_never_crashes_and_never_silently_loses_words(text: str) -> None:
    try:
        article = clean(text)
    except EmptyArticleError:
        return
    kept = [article.title or "", article.date or "", "date", *sentences(article)]
    kept += [r.text for r in article.removed]
    # Normalizing removes invisible characters: `dijk\u00adversterking` is one word.
    assert words(normalize_text(text)) <= words(" ".join(kept))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "De NAVO praat met Rusland.",
                "Videospeler inladen...",
                "Stoltenberg zei dat dhr. Jansen o.a. aanwezig was.",
                "Meest gelezen",
                "Het kost 100.000 euro.De minister zweeg.",
                "",
                "Lees ook: Wat wil Poetin?",
                "“We gaan niet akkoord. Nooit.”",
            ]
        ),
        max_size=12,
    )
)
def test_article_like_input_keeps_every_sentence_once(lines: list[str]) -> None:
    try:
        article = clean("\n".join(lines))
    except EmptyArticleError:
        assert all(
            line in ("", "Videospeler inladen...", "Meest gelezen", "Lees ook: Wat wil Poetin?")
            for line in lines
        )
        return
    found = sentences(article)
    assert len(found) == len(set(found))
    assert all(d not in s for s in found for d in DEBRIS)
