"""What a web request checks before accepting an article: bounded, linear work."""

import pytest

from workers.errors import EmptyArticleError, NotDutchError, UndecodableError
from workers.pipeline import language
from workers.pipeline.article import SourceFile
from workers.pipeline.screening import LANGUAGE_SAMPLE_CHARS, screen_article

ENGLISH = (
    "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but the "
    "talks ended without any agreement on the troops gathered near the border."
)


def test_a_dutch_article_passes() -> None:
    screen_article(SourceFile.pasted("De NAVO praat met Rusland over Europa."), check_language=True)


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
        screen_article(SourceFile.pasted(text), check_language=True)


def test_binary_data_in_a_text_file_is_refused() -> None:
    with pytest.raises(UndecodableError, match="NUL"):
        screen_article(SourceFile("scan.txt", b"Hallo\x00wereld"), check_language=False)


def test_the_language_check_can_be_turned_off() -> None:
    screen_article(SourceFile.pasted(ENGLISH), check_language=False)


def test_the_language_is_checked_on_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    real = language.check_dutch
    monkeypatch.setattr(
        "workers.pipeline.screening.check_dutch",
        lambda text: checked.append(len(text)) or real(text),
    )
    article = "De minister zei dinsdag dat er nieuwe plannen komen voor de dijken. " * 15_000
    screen_article(SourceFile.pasted(article), check_language=True)
    assert checked == [LANGUAGE_SAMPLE_CHARS], "a megabyte is sampled, not read through"


def test_debris_far_into_a_long_article_is_left_to_the_worker() -> None:
    """Only a sample is cleaned here: an article longer than it is accepted when its start
    has words, and the worker judges the whole."""
    article = "De minister zei dinsdag dat er nieuwe plannen komen. " * 1000
    screen_article(SourceFile.pasted(article + "\n\nMeest gelezen"), check_language=True)
