"""The DeepL API v2 protocol with DeepL's official Python client (`deepl.Translator` with
`server_url`), against a live server and worker on the tiny models."""

import io
from collections.abc import Iterator
from pathlib import Path

import deepl
import docx
import pytest
from bs4 import BeautifulSoup

from service import create_app
from tests.processes import Worker, live_server
from tests.service.test_auth import create_key
from tests.service.test_libretranslate import DUTCH, TOOT
from tests.workers.pipeline.test_markup import PAGE, tags


@pytest.fixture(autouse=True)
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client retries a 429 or 5xx five times with backoff: here a refusal is the answer."""
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)


@pytest.fixture
def url(redis_url: str, live_worker: Worker) -> Iterator[str]:
    with live_server(create_app({"redis_url": redis_url})) as base:
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
