"""What a web request checks before accepting an article: bounded, linear work."""

import pytest

from workers.errors import (
    ArticleTooLargeError,
    EmptyArticleError,
    NotDutchError,
    UndecodableError,
)
from workers.pipeline import language
from workers.pipeline.article import SourceFile
from workers.pipeline.screening import LANGUAGE_SAMPLE_CHARS, screen_article

LIMIT = 2_000_000  # above the longest article here: these tests are about other checks
ENGLISH = (
    "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but the "
    "talks ended without any agreement on the troops gathered near the border."
)


def test_a_dutch_article_passes() -> None:
    screen_article(
        SourceFile.pasted("De NAVO praat met Rusland over Europa."),
        check_language=True,
        max_chars=LIMIT,
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("…\n\n— * —", EmptyArticleError),
        ("Meest gelezen\nVideospeler inladen...", EmptyArticleError),
        (ENGLISH, NotDutchError),
    ],
)
def test_what_a_quick_look_can_tell_is_refused(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        screen_article(SourceFile.pasted(text), check_language=True, max_chars=LIMIT)


def test_binary_data_in_a_text_file_is_refused() -> None:
    with pytest.raises(UndecodableError, match="NUL"):
        screen_article(
            SourceFile("scan.txt", b"Hallo\x00wereld"), check_language=False, max_chars=LIMIT
        )


def test_the_language_check_can_be_turned_off() -> None:
    screen_article(SourceFile.pasted(ENGLISH), check_language=False, max_chars=LIMIT)


def test_the_language_is_checked_on_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    real = language.check_dutch
    monkeypatch.setattr(
        "workers.pipeline.screening.check_dutch",
        lambda text: checked.append(len(text)) or real(text),
    )
    article = "De minister zei dinsdag dat er nieuwe plannen komen voor de dijken. " * 15_000
    screen_article(SourceFile.pasted(article), check_language=True, max_chars=LIMIT)
    assert checked == [LANGUAGE_SAMPLE_CHARS], "a megabyte is sampled, not read through"


def test_debris_far_into_a_long_article_is_left_to_the_worker() -> None:
    """Only a sample is cleaned here: an article longer than it is accepted when its start
    has words, and the worker judges the whole."""
    article = "De minister zei dinsdag dat er nieuwe plannen komen. " * 1000
    screen_article(
        SourceFile.pasted(article + "\n\nMeest gelezen"), check_language=True, max_chars=LIMIT
    )


@pytest.mark.parametrize(
    "source",
    [
        SourceFile.pasted("Één zin over de dijken. " * 5),
        SourceFile("nieuws.txt", ("Één zin over de dijken. " * 5).encode()),
        SourceFile("nieuws.md", "\ufeff".encode() + ("Één zin over de dijken. " * 5).encode()),
    ],
)
def test_text_is_measured_in_characters_however_it_arrives(source: SourceFile) -> None:
    """120 characters (the accents are two bytes each in UTF-8): at the limit it passes,
    one character below it is refused, as pasted text, a .txt or a .md file alike."""
    screen_article(source, check_language=True, max_chars=120)
    with pytest.raises(ArticleTooLargeError, match="120 characters long; the limit is 119"):
        screen_article(source, check_language=True, max_chars=119)


@pytest.mark.parametrize("name", ["leeg.txt", "leeg.html", "leeg.docx"])
def test_an_empty_file_is_an_empty_article_whatever_its_format(name: str) -> None:
    with pytest.raises(EmptyArticleError, match=f"{name} holds no article text"):
        screen_article(SourceFile(name, b""), check_language=True, max_chars=LIMIT)
