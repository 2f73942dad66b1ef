from decimal import Decimal

import pytest

from workers.pipeline.checks.quantities import dutch_quantities, english_keys, missing_quantities


@pytest.mark.parametrize(
    ("dutch", "english"),
    [
        ("Het kost 12.000 euro.", "It costs 12,000 euros."),
        ("Het bedrag is 1.000,50 euro.", "The amount is 1,000.50 euros."),
        ("Er wonen 1,5 miljoen mensen.", "1.5 million people live there."),
        ("Er wonen 1,5 miljoen mensen.", "1,500,000 people live there."),
        ("Er wonen 1,5 mln. mensen.", "About 1.5m people live there."),
        ("De schade is 3,2 mld.", "The damage is $3.2bn."),
        ("Het kost € 1,5 miljard.", "It costs €1.5 billion."),
        ("De rente steeg met 25 procent.", "Interest rose by 25%."),
        ("De rente steeg met 25%.", "Interest rose by 25 per cent."),
        ("Een stijging van 0,5 procentpunt.", "An increase of 0.5 percentage points."),
        ("Op 3 december 2021 begon het.", "It started on December 3, 2021."),
        ("Op 3 december 2021 begon het.", "It started on 3 December 2021."),
        ("Op 3 dec. begon het.", "It started on Dec. 3rd."),
        ("In 2021 waren het er 12.", "In 2021 there were twelve."),
        ("Er kwamen 25 mensen.", "Twenty-five people came."),
        ("Een miljoen mensen, 1 miljoen.", "A million people, a million."),
        ("Om 14.30 uur begint het.", "It starts at 2.30pm."),
        ("Om 14.30 uur begint het.", "It starts at 14:30."),
        ("Om 14 uur.", "At 2 p.m."),
        ("Binnen 24 uur.", "Within 24 hours."),
        ("Hij werd 3e, zij 21ste.", "He came third, she 21st."),
        ("De F-16 en vlucht MH17.", "The F-16 and flight MH17."),
        ("Het werd 2-1.", "It ended 2-1."),
        ("Geen getallen.", "No numbers."),
    ],
)
def test_an_english_rendering_of_each_dutch_quantity_passes(dutch: str, english: str) -> None:
    assert missing_quantities(dutch, english) == []


@pytest.mark.parametrize(
    ("dutch", "english", "expected"),
    [
        ("Het kost 12.000 euro.", "It costs 12.000 euros.", ("12,000 euros", "12.000 euro")),
        ("Het kost 12.000 euro.", "It costs 1,200 euros.", ("12,000 euros", "12.000 euro")),
        ("Er wonen 1,5 miljoen mensen.", "1,5 million live there.",
         ("1.5 million", "1,5 miljoen")),
        ("Het kost 1.000,50 euro.", "It costs 1,000 euros.", ("1,000.50 euros", "1.000,50 euro")),
        ("Het kost € 1,5 miljard.", "It costs €1.5 million.", ("€1.5 billion", "€ 1,5 miljard")),
        ("Op 3 december 2021.", "On November 3, 2021.", ("December 3, 2021", "3 december 2021")),
        ("Op 3 december 2021.", "On December 3, 2020.", ("December 3, 2021", "3 december 2021")),
        ("Om 14.30 uur.", "At 3.30 pm.", ("14:30", "14.30 uur")),
        ("Hij werd 3e.", "He came second.", ("3rd", "3e")),
        ("Er waren 3 of 3 stemmen.", "There were 3 votes.", ("3", "3")),
        ("Het kostte 1.234.567 euro.", "It cost 1.234.567 euros.",
         ("1,234,567 euros", "1.234.567 euro")),
    ],
)  # fmt: skip
def test_a_changed_or_dropped_quantity_is_missing_and_named_in_english(
    dutch: str, english: str, expected: tuple[str, str]
) -> None:
    assert [(q.english, q.dutch) for q in missing_quantities(dutch, english)] == [expected]


def test_dutch_thousands_and_decimals_make_one_number_and_a_year_is_a_number() -> None:
    [amount, year] = dutch_quantities("Het bedrag van 1.000,50 euro in 2021.")
    assert amount.options == ((("n", Decimal("1000.50")),),)
    assert year.options == ((("n", Decimal(2021)),),)


def test_an_ambiguous_english_form_counts_both_ways() -> None:
    assert english_keys("at 14.30 and 5m") == {
        ("time", 2, 30): 1,
        ("n", Decimal("14.30")): 1,
        ("n", Decimal(5_000_000)): 1,
        ("n", Decimal(5)): 1,
    }
