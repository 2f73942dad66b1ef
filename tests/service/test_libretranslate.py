"""The LibreTranslate protocol with its published client (libretranslatepy) and with the
exact requests Mastodon sends, against a live server and worker on the tiny models."""

import io
import urllib.error
from collections.abc import Iterator

import pytest
import requests
from bs4 import BeautifulSoup
from libretranslatepy import LibreTranslateAPI

from service import create_app
from tests.conftest import TinyModels, run_queued_job, settings_for
from tests.processes import Worker, free_port, live_server
from tests.service.test_auth import create_key
from tests.service.test_glossaries import ARTICLE, ENTRIES, HOUSE
from tests.workers.pipeline.test_markup import tags
from workers.connections import redis_client
from workers.operations.keys import KeyStore

DUTCH = "De minister zei dinsdag dat er nieuwe plannen komen voor de dijken."
# One short text per language the doors are checked with, and one without letters.
SHORT_TEXTS = {
    "nl": "Het kabinet trekt extra geld uit voor de dijken.",
    "en": "The cabinet is setting aside extra money for the dikes.",
    "de": "Das Kabinett stellt zusätzliches Geld für die Deiche bereit.",
    "fr": "Le gouvernement débloque des fonds supplémentaires pour les digues.",
    "es": "El gobierno destina dinero adicional a los diques.",
    "ru": "Правительство выделяет дополнительные деньги на дамбы.",
    "none": "👍 123",
}
TOOT = (
    '<p>Het kabinet trekt <strong>extra geld</strong> uit voor <a href="https://example.nl/'
    'dijken" rel="nofollow noopener">de dijken</a>.</p><p>Dat zei de minister dinsdag. '
    '<span class="h-card"><a href="https://social.example/@nos" class="u-url mention">@'
    "<span>nos</span></a></span></p>"
)


def said(refusal: urllib.error.HTTPError) -> str:
    """The body of a refusal (closing its connection)."""
    with refusal:
        return refusal.read().decode()


@pytest.fixture
def url(redis_url: str, live_worker: Worker) -> Iterator[str]:
    with live_server(create_app({"redis_url": redis_url})) as base:
        yield base


def test_libretranslatepy_translates_detects_and_lists_languages(url: str) -> None:
    lt = LibreTranslateAPI(url)
    translated = lt.translate(DUTCH, "nl", "en", timeout=60)
    assert isinstance(translated, str) and translated.strip() and translated != DUTCH
    assert lt.translate(DUTCH, "nl", "en", timeout=60) == translated, "same text, same answer"
    assert isinstance(lt.translate(DUTCH, "auto", "en", timeout=60), str)
    best = lt.detect(DUTCH)[0]
    assert best["language"] == "nl" and 0 < best["confidence"] <= 100
    assert {lang["code"] for lang in lt.languages()} == {"nl", "en"}
    assert next(lang for lang in lt.languages() if lang["code"] == "nl")["targets"] == ["en"]


def test_libretranslatepy_hears_the_refusals_in_libretranslates_words(url: str) -> None:
    lt = LibreTranslateAPI(url)
    for source, target, message in (
        ("de", "en", "de is not supported"),
        ("nl", "nl", "Dutch (nl) is not available as a target language from Dutch (nl)"),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            lt.translate(DUTCH, source, target)
        assert refused.value.code == 400
        assert said(refused.value) == f'{{"error":"{message}"}}\n'
    with pytest.raises(urllib.error.HTTPError) as german:
        lt.translate(SHORT_TEXTS["de"], "auto", "en")
    assert german.value.code == 400
    assert said(german.value) == (
        '{"error":"English (en) is not available as a target language from German (de)"}\n'
    )


@pytest.mark.parametrize("language", sorted(SHORT_TEXTS))
def test_each_language_gets_its_documented_outcome(url: str, language: str) -> None:
    """Dutch is translated, English and text without letters come back as they are (as
    LibreTranslate's identity translation does), other languages are refused, naming them."""
    text = SHORT_TEXTS[language]
    expected = "en" if language == "none" else language
    assert LibreTranslateAPI(url).detect(text)[0]["language"] == expected
    answer = requests.post(
        f"{url}/translate", json={"q": text, "source": "auto", "target": "en"}, timeout=60
    )
    if language in ("de", "fr", "es", "ru"):
        assert answer.status_code == 400
        assert answer.json()["error"].endswith(f"({language})")
        return
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["detectedLanguage"]["language"] == expected
    if language == "nl":
        assert body["translatedText"] != text
    else:
        assert body["translatedText"] == text


def test_mastodons_request_keeps_the_toots_markup(url: str) -> None:
    # What Mastodon's LibreTranslate backend sends: JSON, format html, the key in the body.
    answer = requests.post(
        f"{url}/translate",
        json={"q": TOOT, "source": "nl", "target": "en", "format": "html", "api_key": ""},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    out = answer.json()["translatedText"]
    assert tags(out, "html.parser") == tags(TOOT, "html.parser")
    assert (
        BeautifulSoup(out, "html.parser").get_text()
        != BeautifulSoup(TOOT, "html.parser").get_text()
    )
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_a_list_of_texts_gets_a_list_back_in_order(url: str) -> None:
    texts = [DUTCH, "Een tweede zin over het weer.", "   ", "2023", SHORT_TEXTS["en"]]
    answer = requests.post(
        f"{url}/translate", json={"q": texts, "source": "auto", "target": "en"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    out = body["translatedText"]
    assert len(out) == 5 and out[2:] == texts[2:], "no letters, or English: as they were"
    assert [d["language"] for d in body["detectedLanguage"]] == ["nl", "nl", "en", "en", "en"]
    assert [d["confidence"] > 0 for d in body["detectedLanguage"]] == [1, 1, 0, 0, 1]
    one = requests.post(f"{url}/translate", json={"q": texts[1], "source": "nl", "target": "en"})
    assert one.json()["translatedText"] == body["translatedText"][1], "each text on its own"


def test_a_file_comes_back_translated_line_for_line(url: str) -> None:
    text = f"{DUTCH}\n\nEen tweede alinea. Met twee zinnen.\n- een lijst\n"
    answer = requests.post(
        f"{url}/translate_file",
        data={"source": "nl", "target": "en"},
        files={"file": ("bericht.txt", io.BytesIO(text.encode()), "text/plain")},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    link = answer.json()["translatedFileUrl"]
    assert link.startswith(url) and link.endswith("bericht_en.txt")
    download = requests.get(link, timeout=10)
    assert download.status_code == 200
    lines = download.content.decode().split("\n")
    assert len(lines) == len(text.split("\n")) and lines[1] == "" and lines[3].startswith("- ")
    assert requests.get(f"{url}/download_file/nothing.here", timeout=10).status_code == 404


def test_a_glossary_is_enforced_and_its_missing_terms_flagged(url: str) -> None:
    sender = requests.Session()  # keeps the cookie that owns its glossary, as a browser does
    glossary = sender.post(
        f"{url}/api/v1/glossaries", json={"name": "Desk", "entries": ENTRIES}, timeout=10
    ).json()
    one = "De Tweede Kamer sprak dinsdag urenlang over de nieuwe plannen voor de dijken."
    asked = {"source": "nl", "target": "en", "glossary_id": glossary["id"]}
    answer = sender.post(f"{url}/translate", json={"q": one, **asked}, timeout=60).json()
    assert HOUSE in [flag["message"] for flag in answer["vertaalChecks"]]
    batch = sender.post(f"{url}/translate", json={"q": [one, one], **asked}, timeout=60).json()
    assert [HOUSE in [f["message"] for f in flags] for flags in batch["vertaalChecks"]] == [
        True, True,
    ]  # fmt: skip
    stranger = requests.post(f"{url}/translate", json={"q": one, **asked}, timeout=10)
    assert stranger.status_code == 404 and "no glossary" in stranger.json()["error"]

    files = {"file": ("kamer.txt", ARTICLE.encode())}
    made = sender.post(f"{url}/translate_file", data=asked, files=files, timeout=60).json()
    job_id = made["translatedFileUrl"].rsplit("/", 1)[1].split(".")[0]
    job = sender.get(f"{url}/api/v1/jobs/{job_id}", timeout=10).json()
    checks = job["result"]["checks"]["paragraphs"]
    assert HOUSE in [f["message"] for paragraph in checks for s in paragraph for f in s]


def test_keys_guard_the_protocol_and_count_what_it_translates(
    redis_url: str, live_worker: Worker
) -> None:
    app = create_app({"redis_url": redis_url, "require_api_key": True})
    key_id, key = create_key(redis_url, "--chars-per-month", "100")
    with live_server(app) as base:
        with pytest.raises(urllib.error.HTTPError) as missing:
            LibreTranslateAPI(base).translate(DUTCH, "nl", "en")
        assert missing.value.code == 400 and "get an API key" in said(missing.value)
        with pytest.raises(urllib.error.HTTPError) as wrong:
            LibreTranslateAPI(base, api_key="vk_wrong").translate(DUTCH, "nl", "en")
        assert wrong.value.code == 403 and "Invalid API key" in said(wrong.value)
        settings = requests.get(f"{base}/frontend/settings", timeout=10).json()
        assert settings["keyRequired"] is True and settings["charLimit"] > 0

        assert LibreTranslateAPI(base, api_key=key).translate(DUTCH, "nl", "en", timeout=60)
        assert KeyStore(redis_client(redis_url)).usage(key_id) == len(DUTCH)
        with pytest.raises(urllib.error.HTTPError) as over:  # 2 x 67 characters > 100
            LibreTranslateAPI(base, api_key=key).translate(DUTCH, "nl", "en")
        assert over.value.code == 403 and "100 characters" in said(over.value)
        assert KeyStore(redis_client(redis_url)).usage(key_id) == len(DUTCH), "nothing held"


def test_with_redis_gone_both_protocols_answer_503_in_their_own_shape() -> None:
    client = create_app({"redis_url": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    lt = client.post("/translate", json={"q": DUTCH, "source": "nl", "target": "en"})
    assert lt.status_code == 503 and set(lt.get_json()) == {"error"}
    dl = client.post("/v2/translate", json={"text": [DUTCH], "target_lang": "EN-GB"})
    assert dl.status_code == 503 and set(dl.get_json()) == {"message"}
    assert dl.headers["Retry-After"]


def test_with_no_worker_for_short_texts_the_wait_ends_in_a_clear_503(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db, "short_wait": 0.5}).test_client()
    lt = client.post("/translate", json={"q": DUTCH, "source": "nl", "target": "en"})
    assert lt.status_code == 503
    assert lt.get_json()["error"].startswith("no worker answered within 0.5 seconds")
    dl = client.post("/v2/translate", json={"text": [DUTCH], "target_lang": "EN-GB"})
    assert dl.status_code == 503 and "no worker answered" in dl.get_json()["message"]


def test_every_path_of_the_protocol_answers_in_its_shape(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db}).test_client()
    for method, path, status in (
        ("get", "/translate", 405),
        ("post", "/languages", 405),
        ("get", "/translate/more", 404),
        ("post", "/suggest", 403),
        ("get", "/download_file/nothing.here", 404),
    ):
        answer = getattr(client, method)(path)
        assert (answer.status_code, answer.mimetype) == (status, "application/json"), path
        assert set(answer.get_json()) == {"error"}, path
    assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/nothing").mimetype == "text/html", "elsewhere, the site's own page"


def test_each_text_may_hold_the_character_limit(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db, "short_max_chars": 100}).test_client()
    english = [SHORT_TEXTS["en"] + " Really." * 5] * 3  # 3 x 95 characters: each fits
    answer = client.post("/translate", json={"q": english, "source": "auto", "target": "en"})
    assert answer.status_code == 200 and answer.get_json()["translatedText"] == english
    over = client.post("/translate", json={"q": "x" * 101, "source": "auto", "target": "en"})
    assert over.status_code == 400
    assert over.get_json()["error"] == "Invalid request: request (101) exceeds text limit (100)"


def test_a_file_that_outlives_the_wait_is_downloaded_once_done(
    redis_db: str, tiny_models: TinyModels
) -> None:
    """No worker answers within the wait: the URL comes back all the same, and answers 503
    (with Retry-After) until the file is translated, then the file."""
    client = create_app({"redis_url": redis_db, "short_wait": 0.3}).test_client()
    answer = client.post(
        "/translate_file",
        data={"source": "nl", "target": "en", "file": (io.BytesIO(DUTCH.encode()), "kort.txt")},
    )
    assert answer.status_code == 200, answer.text
    link = answer.get_json()["translatedFileUrl"].removeprefix("http://localhost")
    early = client.get(link)
    assert early.status_code == 503 and early.headers["Retry-After"]
    assert set(early.get_json()) == {"error"}
    job_id = link.rsplit("/", 1)[1].split(".")[0]
    run_queued_job(job_id, settings_for(tiny_models, redis_url=redis_db))
    done = client.get(link)
    assert done.status_code == 200 and done.data.strip()
    assert done.headers["Content-Type"] == "text/plain; charset=utf-8"
