import pytest

from workers.pipeline.checks.verbatim import Verbatim, verbatim_parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Zie https://nos.nl/artikel/2401234.", [("url", "https://nos.nl/artikel/2401234")]),
        ("Lees nu.nl of www.nrc.nl/nieuws (gratis).", [("url", "nu.nl"),
                                                       ("url", "www.nrc.nl/nieuws")]),
        ("Zie (https://en.wikipedia.org/wiki/Kiev_(stad)).",
         [("url", "https://en.wikipedia.org/wiki/Kiev_(stad)")]),
        ("https://x.nl/a#b?c=@d", [("url", "https://x.nl/a#b?c=@d")]),
        ("Mail redactie@nos.nl, volg @NOS en #Oekraïne!",
         [("email", "redactie@nos.nl"), ("handle", "@NOS"), ("hashtag", "#Oekraïne")]),
        ("Dat is o.a. d.w.z. zo.Hij ging naar nr. 12.", []),
        ("Nummer #1, pagina#deel en a@b zonder punt.", []),
        ("@NOS en @NOS", [("handle", "@NOS")]),
    ],
)  # fmt: skip
def test_urls_addresses_handles_and_hashtags_are_found_whole(
    text: str, parts: list[tuple[str, str]]
) -> None:
    assert verbatim_parts(text) == [Verbatim(kind, part) for kind, part in parts]
