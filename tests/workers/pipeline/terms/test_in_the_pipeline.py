"""Terms and checks through the pipeline itself: an article's glossary reaches the model as
English, the names list applies under it, and every sentence carries its checks."""

from dataclasses import replace

from tests.conftest import TinyModels, settings_for
from workers.engines.protocols import Engines, Translator
from workers.pipeline.article import RawDocument, Result
from workers.pipeline.checks.sentence import Check
from workers.pipeline.run import RunOptions, translate_article
from workers.pipeline.sentences import translate_checked
from workers.pipeline.terms.glossary import Glossary
from workers.pipeline.terms.names import glossary_for
from workers.pipeline.texts import SentenceTranslator, translate_plain

ARTICLE = (
    "Poetin sprak dinsdag met de premier van Nederland over de oorlog.\n\n"
    "Volgens de regering kost het plan 1,5 miljoen euro per jaar.\n\n"
    "De Tweede Kamer wil meer weten over de uitgaven van het kabinet."
)


def translated(translator: Translator, options: RunOptions) -> Result:
    return translate_article(RawDocument(ARTICLE), Engines(translator, None), options)


def test_a_glossary_and_the_names_list_reach_the_model_in_english(
    copy_translator: Translator, tiny_models: TinyModels
) -> None:
    house = Glossary.from_tsv("huisstijl", "Tweede Kamer\tHouse of Representatives\n")
    settings = settings_for(tiny_models, summary=False)
    result = translated(copy_translator, RunOptions.from_settings(settings, house))
    english = " ".join(s for p in result.translation.paragraphs for s in p)
    assert "Putin sprak" in english, "the names list applies under the user's glossary"
    assert "De House of Representatives wil" in english
    assert result.checks is not None
    flagged = {flag.code for p in result.checks.paragraphs for s in p for flag in s}
    assert Check.TERM_MISSING not in flagged, "the copied terms are all there"
    # The copy engine leaves the rest Dutch: the checks say so, sentence by sentence.
    assert result.checks.counts.get("untranslated", 0) >= 1
    assert result.checks.flagged == sum(1 for p in result.checks.paragraphs for s in p if s) + (
        1 if result.checks.title else 0
    )
    assert Result.from_dict(result.to_dict()) == result, "checks round-trip through JSON"


def test_names_can_be_turned_off(copy_translator: Translator, tiny_models: TinyModels) -> None:
    settings = settings_for(tiny_models, summary=False, names=False)
    result = translated(copy_translator, RunOptions.from_settings(settings))
    assert result.translation.paragraphs[0][0].startswith("Poetin")


def test_a_tiny_models_gibberish_is_flagged_for_the_terms_it_lost(tiny_models: TinyModels) -> None:
    from workers.engines.factory import load_engines

    settings = settings_for(tiny_models, summary=False, engine="ctranslate2")
    engines = load_engines(settings)
    glossary = glossary_for(Glossary.from_tsv("g", "oorlog\twar\n"), names=True)
    result = translate_article(RawDocument(ARTICLE), engines, replace(
        RunOptions.from_settings(settings), glossary=glossary
    ))  # fmt: skip
    assert result.checks is not None
    first = result.checks.paragraphs[0][0]
    missing = [f.message for f in first if f.code is Check.TERM_MISSING]
    assert missing and any("Putin" in m or "war" in m for m in missing), first


def test_short_texts_and_files_enforce_the_same_terms(copy_translator: Translator) -> None:
    glossary = Glossary.from_tsv("g", "Zelenski\tZelensky\n")
    translate = SentenceTranslator(copy_translator, glossary=glossary)
    out = translate_plain("Zelenski's toespraak.\nGeen naam hier.", translate)
    assert out.splitlines()[0] == "Zelensky's toespraak."
    assert len(translate.flags) == 2 and all(isinstance(f, list) for f in translate.flags)


def test_a_sentence_that_needs_no_model_is_neither_enforced_nor_checked(
    copy_translator: Translator,
) -> None:
    done = translate_checked(["123", "— —"], copy_translator, batch_size=8)
    assert {s: t.flags for s, t in done.items()} == {"123": (), "— —": ()}
