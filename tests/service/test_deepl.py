"""The DeepL API v2 protocol with DeepL's official Python client (`deepl.Translator` with
`server_url`), against a live server and worker on the tiny models."""

import io
import re
from collections.abc import Iterator
from pathlib import Path

import deepl
import docx
import pytest
import requests
from bs4 import BeautifulSoup

from service import create_app
from tests.processes import Worker, live_server
from tests.service.test_auth import create_key
from tests.service.test_libretranslate import DUTCH, SHORT_TEXTS, TOOT
from tests.workers.pipeline.test_markup import PAGE, tags


@pytest.fixture(autouse=True)
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client retries a 429 or 5xx five times with backoff: here a refusal is the answer."""
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)


@pytest.fixture
def url(redis_url: str, live_worker: Worker) -> Iterator[str]:
    with live_server(create_app({"redis_url": redis_url})) as base:
        # The worker loads its models on its first text, which on a busy machine takes
        # longer than the client's 10 s read timeout: that first text is not under test.
        warm = {"text": [DUTCH], "target_lang": "EN-GB", "source_lang": "NL"}
        requests.post(f"{base}/v2/translate", json=warm, timeout=120).raise_for_status()
        yield base


OPEN: list[deepl.Translator] = []


def translator(url: str, key: str = "any-key:fx") -> deepl.Translator:
    OPEN.append(deepl.Translator(key, server_url=url))
    return OPEN[-1]


@pytest.fixture(autouse=True)
def closed_at_the_end() -> Iterator[None]:
    """Each client's connection pool closed with its test, not by the garbage collector."""
    yield
    while OPEN:
        OPEN.pop().close()


def test_texts_come_back_one_per_text_in_order(url: str) -> None:
    found = translator(url).translate_text([DUTCH, "Een tweede zin."], target_lang="EN-GB")
    assert isinstance(found, list) and len(found) == 2
    assert all(r.detected_source_lang == "NL" and r.text.strip() for r in found)
    assert found[0].billed_characters == len(DUTCH)
    one = translator(url).translate_text("Een tweede zin.", source_lang="NL", target_lang="EN-US")
    assert one.text == found[1].text, "each text on its own, whatever came with it"


def test_html_keeps_its_tags(url: str) -> None:
    result = translator(url).translate_text(TOOT, target_lang="EN-US", tag_handling="html")
    assert tags(result.text, "html.parser") == tags(TOOT, "html.parser")


def test_english_comes_back_as_it_is_and_unknown_languages_are_refused(url: str) -> None:
    english = "The minister said on Tuesday that there will be new plans for the dikes."
    same = translator(url).translate_text(english, target_lang="EN-GB")
    assert same.text == english and same.detected_source_lang == "EN"
    with pytest.raises(deepl.DeepLException, match="target_lang"):
        translator(url).translate_text(DUTCH, target_lang="DE")
    with pytest.raises(deepl.DeepLException, match="source_lang"):
        translator(url).translate_text(DUTCH, source_lang="FR", target_lang="EN-GB")


def test_each_text_of_a_request_is_identified_on_its_own(url: str) -> None:
    texts = [SHORT_TEXTS["nl"], SHORT_TEXTS["en"], SHORT_TEXTS["none"], DUTCH]
    found = translator(url).translate_text(texts, target_lang="EN-GB")
    assert [r.detected_source_lang for r in found] == ["NL", "EN", "EN", "NL"]
    assert [r.text == t for r, t in zip(found, texts, strict=True)] == [False, True, True, False]
    assert [r.billed_characters for r in found] == [len(t) for t in texts], "as DeepL bills"
    given = translator(url).translate_text(texts[2], source_lang="NL", target_lang="EN-GB")
    assert (given.text, given.detected_source_lang) == (texts[2], "NL")
    for language in ("de", "fr", "es", "ru"):
        with pytest.raises(deepl.DeepLException, match=rf"text 2 is in \w+ \({language.upper()}\)"):
            translator(url).translate_text(
                [SHORT_TEXTS["nl"], SHORT_TEXTS[language]], target_lang="EN-GB"
            )


def test_parameters_are_checked_as_deepl_checks_them(url: str) -> None:
    client = translator(url)
    for wrong, match in (
        ({"formality": "more"}, "Target language.*formality"),
        ({"formality": "invalid"}, "formality"),
        ({"split_sentences": "invalid"}, "split_sentences"),
        ({"tag_handling": "json"}, "tag_handling"),
        ({"glossary": "abc"}, "glossary_id"),
    ):
        with pytest.raises(deepl.DeepLException, match=match):
            client.translate_text(DUTCH, source_lang="NL", target_lang="EN-US", **wrong)
    result = client.translate_text(
        DUTCH, target_lang="EN-US", formality="prefer_more", split_sentences="nonewlines",
        preserve_formatting=True, context="Over dijken.", model_type="latency_optimized",
    )  # fmt: skip
    assert result.model_type_used == "latency_optimized" and result.text != DUTCH


def test_xml_keeps_its_tags_and_leaves_ignored_text_alone(url: str) -> None:
    xml = (
        "<document><title>Het kabinet trekt extra geld uit.</title><par><span>De minister zei"
        "</span> <span>dinsdag dat er plannen komen.</span></par><raw>Niet vertalen, dit."
        "</raw></document>"
    )
    result = translator(url).translate_text(
        xml, target_lang="EN-GB", tag_handling="xml", outline_detection=False,
        splitting_tags=["title", "par"], non_splitting_tags="span", ignore_tags=["raw"],
    )  # fmt: skip
    assert result.detected_source_lang == "NL"
    assert re.sub(r">[^<]*<", "><", result.text) == re.sub(r">[^<]*<", "><", xml)
    assert "<raw>Niet vertalen, dit.</raw>" in result.text
    assert "Het kabinet" not in result.text


def test_every_path_under_v2_and_v3_answers_in_deepls_shape(url: str) -> None:
    for method, path, status in (
        ("get", "/v2/translate", 405),
        ("get", "/v2/write/rephrase", 404),
        ("put", "/v3/glossaries", 405),
        ("get", "/v2/document/ABC", 405),
    ):
        answer = requests.request(method, f"{url}{path}", timeout=10)
        assert (answer.status_code, answer.headers["Content-Type"]) == (status, "application/json")
        assert set(answer.json()) == {"message"}, path


def test_languages_and_usage(url: str) -> None:
    client = translator(url)
    assert [lang.code for lang in client.get_source_languages()] == ["NL"]
    assert {lang.code for lang in client.get_target_languages()} >= {"EN-GB", "EN-US"}
    usage = client.get_usage()
    assert usage.character.valid and not usage.any_limit_reached


@pytest.mark.parametrize("suffix", [".txt", ".html", ".docx"])
def test_documents_go_up_and_come_back_the_same_kind(url: str, tmp_path: Path, suffix: str) -> None:
    source, out = tmp_path / f"bericht{suffix}", tmp_path / f"bericht.en{suffix}"
    if suffix == ".txt":
        source.write_text(f"{DUTCH}\n\nEen tweede alinea. Met twee zinnen.\n")
    elif suffix == ".html":
        source.write_text(PAGE)
    else:
        document = docx.Document()
        document.add_heading("Waterschappen krijgen meer geld", level=1)
        paragraph = document.add_paragraph("Het kabinet trekt ")
        paragraph.add_run("extra geld").bold = True
        paragraph.add_run(" uit voor de dijken.")
        table = document.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Rijn", "Maas"
        document.save(str(source))
    status = translator(url).translate_document_from_filepath(source, out, target_lang="EN-GB")
    assert status.done and status.status == deepl.DocumentStatus.Status.DONE
    data = out.read_bytes()
    if suffix == ".txt":
        assert data.decode().count("\n") == source.read_text().count("\n")
    elif suffix == ".html":
        assert tags(data.decode(), "html.parser") == tags(PAGE, "html.parser")
        assert BeautifulSoup(data, "html.parser").h1 is not None
    else:
        translated = docx.Document(io.BytesIO(data))
        assert len(translated.paragraphs) == len(docx.Document(str(source)).paragraphs)
        runs = translated.paragraphs[1].runs
        assert [run.bold for run in runs] == [None, True, None], "run formatting kept"
        assert len(translated.tables[0].rows[0].cells) == 2


def test_a_document_is_gone_once_downloaded_and_hidden_without_its_key(url: str) -> None:
    client = translator(url)
    handle = client.translate_document_upload(
        DUTCH.encode(), target_lang="EN-GB", filename="kort.txt"
    )
    assert re.fullmatch("[0-9A-F]{32}", handle.document_id), "as DeepL's ids"
    assert re.fullmatch("[0-9A-F]{64}", handle.document_key)
    client.translate_document_wait_until_done(handle)
    stranger = deepl.DocumentHandle(handle.document_id, "0" * 64)
    with pytest.raises(deepl.DeepLException, match="not found"):
        client.translate_document_get_status(stranger)
    first = io.BytesIO()
    client.translate_document_download(handle, first)
    assert first.getvalue().strip()
    with pytest.raises(deepl.DeepLException) as gone:
        client.translate_document_download(handle, io.BytesIO())
    assert gone.value.http_status_code == 404


def test_keys_required_refuse_others_and_quotas_run_out(
    redis_url: str, live_worker: Worker
) -> None:
    app = create_app({"redis_url": redis_url, "require_api_key": True})
    _, key = create_key(redis_url, "--chars-per-month", "100")
    with live_server(app) as base:
        with pytest.raises(deepl.AuthorizationException):
            translator(base, "not-a-vertaal-key").translate_text(DUTCH, target_lang="EN-GB")
        client = translator(base, key)
        client.translate_text(DUTCH, target_lang="EN-GB")
        with pytest.raises(deepl.QuotaExceededException):  # 134 of 100: refused before work
            client.translate_text(DUTCH, target_lang="EN-GB")
        usage = client.get_usage()
        assert usage.character.count == len(DUTCH) and usage.character.limit == 100
        legacy = requests.post(  # the key in the old `auth_key` form field
            f"{base}/v2/usage", data={"auth_key": key}, timeout=10
        )
        assert legacy.status_code == 200 and legacy.json()["character_limit"] == 100


def test_a_document_named_by_the_filename_field_or_in_english(url: str) -> None:
    named = requests.post(
        f"{url}/v2/document",
        headers={"Authorization": "DeepL-Auth-Key any"},
        data={"target_lang": "EN-GB", "filename": "bericht.txt"},
        files={"file": ("blob", DUTCH.encode())},
        timeout=10,
    )
    assert named.status_code == 200, named.text
    with pytest.raises(deepl.DeepLException, match="Source and target language are the same"):
        translator(url).translate_document_upload(
            " ".join([SHORT_TEXTS["en"]] * 3).encode(), target_lang="EN-GB", filename="en.txt"
        )
