"""Numbers, dates and times in a Dutch sentence, and whether its English translation has them.

Each quantity in the Dutch source is read into values (`1,5 miljoen` → 1,500,000; `3 december
2021` → 3 December and 2021; `14.30 uur` → 2:30) and looked for among the values the English
reads as (`1.5 million` or `1,500,000`; `December 3, 2021` or `3 December 2021`; `14:30` or
`2.30pm`), so the translation may write a number any English way but not change it. Each
Dutch quantity also gets the form it should have in English, for the message that names it.

Dutch and English write numbers the other way round (`1.000,50` against `1,000.50`): a
translation that keeps the Dutch form (`12.000`, `1,5`) reads as another number in English
and counts as missing. Both sides are read in one pass of one regular expression each, and
Babel parses and formats the numbers and names the months.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import get_month_names
from babel.numbers import format_decimal, parse_decimal

# A value the English must have: ("n", Decimal), ("date", month, day), ("time", hour % 12,
# minute: English may say 2.30pm for 14.30) or ("ordinal", n).
Key = tuple[object, ...]

_NL_SCALES = {"duizend": 3, "miljoen": 6, "mln": 6, "miljard": 9, "mld": 9, "mrd": 9,
              "biljoen": 12}  # fmt: skip
_EN_SCALES = {"thousand": 3, "million": 6, "mln": 6, "mn": 6, "billion": 9, "bn": 9, "bln": 9,
              "trillion": 12, "tn": 12}  # fmt: skip
_EN_SCALE_NAMES = {3: "thousand", 6: "million", 9: "billion", 12: "trillion"}
# One letter after a number may be a scale (`$5m`) or a unit (`5m` metres): both are accepted.
_EN_LETTER_SCALES = {"k": 3, "m": 6, "b": 9}
_NL_UNITS = {
    "%": "%",
    "procent": " percent",
    "procentpunt": " percentage point",
    "procentpunten": " percentage points",
    "euro": " euros",
    "dollar": " dollars",
}
_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety"
_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
)
_EN_WORDS = {word: value for value, word in enumerate(_UNITS.split())} | {
    word: 10 * tens for tens, word in enumerate(_TENS.split(), start=2)
}
_EN_ORDINAL_WORDS = {word: n for n, word in enumerate(_ORDINALS.split(), start=1)} | {
    "thirtieth": 30
}

# Not inside a longer number or word: `1.000,50` is one number, `MH17` none.
_START = r"(?<![\w.,])"
# At most 15 digits either side of the decimal mark: longer runs of digits are codes, not
# quantities (and scaling them would exceed Decimal's precision).
_NL_NUMBER = r"\d{1,3}(?:\.\d{3}){1,5}(?:,\d{1,15})?|\d{1,15}(?:,\d{1,15})?"
_EN_NUMBER = r"\d{1,3}(?:,\d{3}){1,5}(?:\.\d{1,15})?|\d{1,15}(?:\.\d{1,15})?"
_END = r"(?![\w]|[.,]\d)"


@dataclass(frozen=True)
class Quantity:
    """A quantity in the Dutch source: as written, as it should read in English, and the sets
    of values (any one set, all its values) that show the English has it."""

    dutch: str
    english: str
    options: tuple[tuple[Key, ...], ...]


def _months(locale: str) -> dict[str, int]:
    names: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        names |= {
            name.lower().rstrip("."): n for n, name in get_month_names(width, locale=locale).items()
        }
    return names | ({"sept": 9} if locale == "en" else {"sept": 9, "mrt": 3, "maa": 3})


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@functools.cache
def _dutch_pattern() -> re.Pattern[str]:
    months = _alternation(_months("nl"))
    # Only the abbreviations take a full stop: after `miljard` it ends the sentence.
    scales = "|".join(rf"{scale}\.?" if len(scale) == 3 else scale for scale in _NL_SCALES)
    units = _alternation(_NL_UNITS)
    return re.compile(
        rf"""{_START}(?:
          (?P<day>\d{{1,2}})\s+(?P<month>{months})\.?(?:\s+(?P<year>\d{{4}}))?(?!\w)
        | (?P<hour>[01]?\d|2[0-3])[.:](?P<minute>[0-5]\d)(?:\s*uur)?{_END}
        | (?P<hours>\d{{1,2}})\s*uur(?!\w)
        | (?P<ordinal>\d{{1,4}})(?:ste|de|e)(?!\w)
        | (?P<currency>[€$£]\s?)?(?P<number>{_NL_NUMBER}){_END}
          (?:\s*(?P<scale>{scales})(?!\w))?(?:\s*(?P<unit>{units})(?!\w))?
        )""",
        re.VERBOSE | re.IGNORECASE,
    )


@functools.cache
def _english_pattern() -> re.Pattern[str]:
    months = _alternation(_months("en"))
    scales = _alternation(_EN_SCALES)
    words = _alternation(_EN_WORDS)
    return re.compile(
        rf"""(?:
          (?P<month>{months})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{{4}}))?(?!\w)
        | {_START}(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month2>{months})\.?
          (?:,?\s+(?P<year2>\d{{4}}))?(?!\w)
        | {_START}(?P<hour>\d{{1,2}})(?:[:.](?P<minute>\d{{2}}))?\s*(?P<half>[ap])\.?m\b\.?
        | {_START}(?P<clock>\d{{1,2}})(?P<sep>[:.])(?P<minutes>[0-5]\d){_END}
        | {_START}(?P<ordinal>\d{{1,6}})(?:st|nd|rd|th)(?!\w)
        | {_START}(?P<number>{_EN_NUMBER})
          (?:\s*(?P<scale>{scales})|(?P<letter>[kmb]))?{_END}
        | \b(?P<word>{words})(?:-(?P<unit_word>{words}))?\b(?:\s+(?P<word_scale>{scales})\b)?
        | \ban?\s+(?P<a_scale>thousand|million|billion|trillion)\b
        | \b(?P<ordinal_word>{_alternation(_EN_ORDINAL_WORDS)})\b
        )""",
        re.VERBOSE | re.IGNORECASE,
    )


def dutch_quantities(text: str) -> list[Quantity]:
    """The quantities in a Dutch text, in order."""
    return [_dutch_quantity(found) for found in _dutch_pattern().finditer(text)]


def _dutch_quantity(found: re.Match[str]) -> Quantity:
    written = found[0].strip()
    if found["month"]:
        month, day = _months("nl")[found["month"].lower()], int(found["day"])
        keys: tuple[Key, ...] = (("date", month, day),)
        english = f"{get_month_names('wide', locale='en')[month]} {day}"
        if found["year"]:
            keys += (("n", Decimal(found["year"])),)
            english += f", {found['year']}"
        return Quantity(written, english, (keys,))
    if found["hour"]:
        hour, minute = int(found["hour"]), int(found["minute"])
        return Quantity(written, f"{hour}:{minute:02d}", ((("time", hour % 12, minute),),))
    if found["hours"]:  # `om 14 uur` is a time, `24 uur` a duration
        hours = int(found["hours"])
        return Quantity(
            written, f"{hours}:00 or {hours} hours",
            ((("time", hours % 12, 0),), (("n", Decimal(hours)),)),
        )  # fmt: skip
    if found["ordinal"]:
        value = int(found["ordinal"])
        return Quantity(written, _ordinal(value), ((("ordinal", value),),))
    number = parse_decimal(found["number"], locale="nl")
    exponent = _NL_SCALES[found["scale"].lower().rstrip(".")] if found["scale"] else 0
    decimals = len(found["number"].partition(",")[2])
    english = format_decimal(number, format="#,##0." + "0" * decimals, locale="en").rstrip(".")
    if exponent:
        english += f" {_EN_SCALE_NAMES[exponent]}"
    if found["currency"]:
        english = found["currency"].strip() + english
    if found["unit"]:
        english += _NL_UNITS[found["unit"].lower()]
    return Quantity(written, english, ((("n", number.scaleb(exponent)),),))


def english_keys(text: str) -> Counter[Key]:
    """Every value an English text can be read as (ambiguous forms count both ways)."""
    keys: Counter[Key] = Counter()
    for found in _english_pattern().finditer(text):
        keys.update(_english_keys(found))
    return keys


def _english_keys(found: re.Match[str]) -> list[Key]:
    months = _months("en")
    if found["month"] or found["month2"]:
        month = months[(found["month"] or found["month2"]).lower()]
        year = found["year"] or found["year2"]
        date: list[Key] = [("date", month, int(found["day"] or found["day2"]))]
        return date + ([("n", Decimal(year))] if year else [])
    if found["half"]:
        hour = int(found["hour"])
        return [("time", hour % 12, int(found["minute"] or 0))]
    if found["clock"]:
        time: Key = ("time", int(found["clock"]) % 12, int(found["minutes"]))
        if found["sep"] == ".":  # `14.30` may be a decimal number too
            return [time, ("n", Decimal(f"{found['clock']}.{found['minutes']}"))]
        return [time]
    if found["ordinal"] or found["ordinal_word"]:
        value = int(found["ordinal"]) if found["ordinal"] else _EN_ORDINAL_WORDS[
            found["ordinal_word"].lower()]  # fmt: skip
        return [("ordinal", value)]
    if found["number"]:
        number = parse_decimal(found["number"], locale="en")
        if found["letter"]:  # `5m`: five million, or five metres
            exponent = _EN_LETTER_SCALES[found["letter"].lower()]
            return [("n", number.scaleb(exponent)), ("n", number)]
        exponent = _EN_SCALES[found["scale"].lower()] if found["scale"] else 0
        return [("n", number.scaleb(exponent))]
    if found["a_scale"]:
        return [("n", Decimal(1).scaleb(_EN_SCALES[found["a_scale"].lower()]))]
    value = _EN_WORDS[found["word"].lower()]
    if found["unit_word"]:
        value += _EN_WORDS[found["unit_word"].lower()]
    exponent = _EN_SCALES[found["word_scale"].lower()] if found["word_scale"] else 0
    return [("n", Decimal(value).scaleb(exponent))]


def missing_quantities(source: str, translation: str) -> list[Quantity]:
    """The Dutch quantities the English translation does not have (each value found once
    counts for one quantity: `3 of 3` needs two threes)."""
    available = english_keys(translation)
    missing = []
    for quantity in dutch_quantities(source):
        for option in quantity.options:
            needed = Counter(option)
            if all(available[key] >= count for key, count in needed.items()):
                available -= needed
                break
        else:
            missing.append(quantity)
    return missing


def _ordinal(value: int) -> str:
    if value % 100 in (11, 12, 13):
        return f"{value}th"
    return f"{value}{({1: 'st', 2: 'nd', 3: 'rd'}).get(value % 10, 'th')}"
