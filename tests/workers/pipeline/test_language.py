from pathlib import Path

import pytest

from workers.errors import NotDutchError
from workers.pipeline.language import check_dutch

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
