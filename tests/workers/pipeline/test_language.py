from pathlib import Path

import pytest

from workers.errors import NotDutchError
from workers.pipeline.language import Identified, check_dutch, identify, visible_text

ENGLISH = (
    "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but the "
    "talks ended without any agreement on the troops gathered near the Ukrainian border."
)
GERMAN = (
    "Die NATO und Russland haben sich am Mittwoch in Brüssel getroffen, um über die "
    "Sicherheit in Europa zu sprechen, doch die Gespräche endeten ohne Einigung."
)


def test_dutch_samples_pass(sample_article: Path) -> None:
    check_dutch(sample_article.read_text())


@pytest.mark.parametrize(("text", "language"), [(ENGLISH, "English"), (GERMAN, "German")])
def test_clearly_other_languages_are_named(text: str, language: str) -> None:
    with pytest.raises(
        NotDutchError, match=rf"looks like {language} \(\w+, \d+% sure\), not Dutch"
    ):
        check_dutch(text)


@pytest.mark.parametrize("text", ["NAVO", "De VS en Rusland praten.", "12 345 678", "OK!"])
def test_short_or_ambiguous_text_is_not_refused(text: str) -> None:
    check_dutch(text)


def test_dutch_with_english_quotes_passes() -> None:
    check_dutch(
        "Premier Rutte sprak woensdag met de Amerikaanse president. 'We stand with Ukraine', "
        "zei Biden daarna tegen verslaggevers in het Witte Huis, waarna hij vertrok."
    )


# --- Short texts, as the LibreTranslate and DeepL doors take them ---------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Goed zo", "nl"),
        ("Hoe gaat het?", "nl"),
        ("Fijne kerst allemaal", "nl"),
        ("Thanks!", "en"),
        ("How are you?", "en"),
        ("Danke schön", "de"),
        ("Merci beaucoup", "fr"),
        ("Muchas gracias", "es"),
        ("Спасибо большое", "ru"),
        ("De minister zei dinsdag dat er nieuwe plannen komen voor de dijken.", "nl"),
        ("The minister said on Tuesday that there will be new plans for the dikes.", "en"),
        ("Der Minister sagte am Dienstag, dass es neue Pläne für die Deiche gibt.", "de"),
    ],
)
def test_short_texts_are_identified_one_by_one(text: str, language: str) -> None:
    found = identify(text)
    assert found.code == language and 0 < found.confidence <= 100


@pytest.mark.parametrize("text", ["Guten Morgen", "NAVO", "Rutte", "OK"])
def test_a_short_text_not_clearly_in_a_third_language_is_dutch_or_english(text: str) -> None:
    """Under the rule's thresholds the doors translate it as Dutch (or give English back)."""
    assert identify(text).code in ("nl", "en")


@pytest.mark.parametrize("text", ["👍 123", "2023", "!!!", "", "  "])
def test_a_text_without_letters_has_no_language(text: str) -> None:
    assert identify(text) == Identified(None, 0.0)


def test_markup_is_not_language() -> None:
    toot = '<p>Goed zo <a href="https://x.example/@nos" class="u-url mention">@nos</a></p>'
    assert identify(visible_text(toot, markup=True)).code == "nl"
    assert visible_text("<b>A &amp; B</b>", markup=True).split() == ["A", "&", "B"]
