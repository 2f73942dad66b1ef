"""DeepL's glossaries (v2 and v3) with DeepL's official Python client (`deepl.DeepLClient` with
`server_url`), against a live server and worker on the tiny models: the calls DeepL's own test
suite makes, on Vertaal's one pair, NL to EN."""

import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import deepl
import httpx
import pytest
import requests
from deepl.api_data import MultilingualGlossaryDictionaryEntries as Dictionary

from service import create_app
from tests.processes import Worker, live_server
from tests.service.test_auth import bearer, create_key
from tests.service.test_glossaries import ARTICLE, HOUSE

ENTRIES = {"Tweede Kamer": "House of Representatives", "asielzoeker(s)": "asylum seeker(s)"}
SENTENCE = "De Tweede Kamer sprak dinsdag urenlang over de nieuwe plannen voor de dijken."


@pytest.fixture(autouse=True)
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client retries a 429 or 5xx five times with backoff: here a refusal is the answer."""
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)


@dataclass
class Server:
    base: str
    a: str  # two senders' API keys
    b: str
    client: Callable[[str], deepl.DeepLClient]


@pytest.fixture
def server(redis_url: str, live_worker: Worker) -> Iterator[Server]:
    _, a = create_key(redis_url)
    _, b = create_key(redis_url)
    opened: list[deepl.DeepLClient] = []

    def client(key: str) -> deepl.DeepLClient:
        opened.append(deepl.DeepLClient(key, server_url=base))
        return opened[-1]

    app = create_app({"redis_url": redis_url, "require_api_key": True})
    with live_server(app) as base:
        # The worker loads its models on its first text, which on a busy machine takes
        # longer than the client's 10 s read timeout: that first text is not under test.
        warm = {"text": [SENTENCE], "target_lang": "EN-GB", "source_lang": "NL"}
        requests.post(
            f"{base}/v2/translate", json=warm, headers={"Authorization": f"DeepL-Auth-Key {a}"},
            timeout=120,
        ).raise_for_status()  # fmt: skip
        yield Server(base, a, b, client)
    for each in opened:
        each.close()


def test_v2_glossaries_are_made_used_and_deleted_as_deepls_clients_do(server: Server) -> None:
    client = server.client(server.a)
    pairs = client.get_glossary_languages()
    assert [(p.source_lang, p.target_lang) for p in pairs] == [("nl", "en")]
    made = client.create_glossary("Desk", "NL", "EN", ENTRIES)
    assert re.fullmatch("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", made.glossary_id)
    assert (made.name, made.ready, made.source_lang, made.target_lang, made.entry_count) == (
        "Desk", True, "NL", "EN", 2,
    )  # fmt: skip
    assert client.get_glossary(made.glossary_id).creation_time == made.creation_time
    assert client.get_glossary_entries(made) == ENTRIES
    csv = client.create_glossary_from_csv("Csv", "NL", "EN", "Tweede Kamer,Lower House,nl,en\n")
    assert csv.entry_count == 1
    assert {g.glossary_id for g in client.list_glossaries()} == {made.glossary_id, csv.glossary_id}

    result = client.translate_text(SENTENCE, source_lang="NL", target_lang="EN-GB", glossary=made)
    assert result.text.strip() and result.detected_source_lang == "NL"
    raw = requests.post(  # Vertaal's extension, which the client does not read: the flags
        f"{server.base}/v2/translate",
        json={"text": [SENTENCE], "source_lang": "NL", "target_lang": "EN-US",
              "glossary_id": made.glossary_id},
        headers={"Authorization": f"DeepL-Auth-Key {server.a}"}, timeout=60,
    ).json()  # fmt: skip
    assert HOUSE in [flag["message"] for flag in raw["translations"][0]["vertaal_checks"]]

    with pytest.raises(deepl.DeepLException, match="Unsupported glossary"):
        client.create_glossary("Other", "EN", "DE", {"Hello": "Hallo"})
    with pytest.raises(deepl.DeepLException, match="no dictionary for EN to EN") as other:
        client.translate_text(
            SENTENCE, source_lang="EN", target_lang="EN-GB", glossary=made.glossary_id
        )
    assert other.value.http_status_code == 400, "a glossary of another pair"

    stranger = server.client(server.b)
    for unknown in (made.glossary_id, str(uuid.uuid4())):
        with pytest.raises(deepl.GlossaryNotFoundException):
            stranger.get_glossary(unknown)
        with pytest.raises(deepl.GlossaryNotFoundException):
            stranger.delete_glossary(unknown)
        with pytest.raises(deepl.DeepLException, match="Glossary not found") as used:
            stranger.translate_text(
                SENTENCE, source_lang="NL", target_lang="EN-GB", glossary=unknown
            )
        assert used.value.http_status_code == 404
    assert stranger.list_glossaries() == []
    client.delete_glossary(made)
    with pytest.raises(deepl.GlossaryNotFoundException):
        client.get_glossary(made.glossary_id)


def test_a_document_is_translated_with_a_glossary(server: Server) -> None:
    client = server.client(server.a)
    glossary = client.create_glossary("Desk", "NL", "EN", ENTRIES)
    handle = client.translate_document_upload(
        ARTICLE.encode(), source_lang="NL", target_lang="EN-GB", filename="kamer.txt",
        glossary=glossary,
    )  # fmt: skip
    client.translate_document_wait_until_done(handle)
    out = io.BytesIO()
    client.translate_document_download(handle, out)
    assert out.getvalue().strip()
    # The document is a job of the key's: the job API shows what the checks found.
    job = httpx.get(
        f"{server.base}/api/v1/jobs/{handle.document_id.lower()}", headers=bearer(server.a)
    ).json()
    checks = job["result"]["checks"]
    assert HOUSE in [f["message"] for p in checks["paragraphs"] for s in p for f in s]
    unnamed = requests.post(
        f"{server.base}/v2/document",
        data={"target_lang": "EN-GB", "glossary_id": glossary.glossary_id},
        files={"file": ("kamer.txt", ARTICLE.encode())},
        headers={"Authorization": f"DeepL-Auth-Key {server.a}"}, timeout=30,
    )  # fmt: skip
    assert unnamed.status_code == 400 and "source_lang" in unnamed.json()["message"]


def test_v3_glossaries_are_edited_as_deepls_clients_do(server: Server) -> None:
    client = server.client(server.a)
    made = client.create_multilingual_glossary("Multi", [Dictionary("NL", "EN", ENTRIES)])
    assert [(d.source_lang, d.target_lang, d.entry_count) for d in made.dictionaries] == [
        ("NL", "EN", 2)
    ]
    assert made.glossary_id in {g.glossary_id for g in client.list_multilingual_glossaries()}
    assert client.get_glossary(made.glossary_id).entry_count == 2, "a v3 glossary is a v2 one"
    assert client.update_multilingual_glossary_name(made, "Renamed").name == "Renamed"
    merged = client.update_multilingual_glossary_dictionary(
        made, Dictionary("NL", "EN", {"Tweede Kamer": "Lower House", "Zelenski": "Zelensky"})
    )
    assert merged.dictionaries[0].entry_count == 3, "one entry replaced, one added"
    entries = client.get_multilingual_glossary_entries(made, "NL", "EN").dictionaries[0]
    assert deepl.util.convert_tsv_to_dict(entries.entries) == {
        "Tweede Kamer": "Lower House", "asielzoeker(s)": "asylum seeker(s)",
        "Zelenski": "Zelensky",
    }  # fmt: skip
    replaced = client.replace_multilingual_glossary_dictionary(
        made, Dictionary("NL", "EN", {"Tweede Kamer": "House of Representatives"})
    )
    assert replaced.entry_count == 1
    found = client.translate_text(SENTENCE, source_lang="NL", target_lang="EN-US", glossary=made)
    assert found.text.strip()

    with pytest.raises(deepl.DeepLException, match="Unsupported glossary"):
        client.create_multilingual_glossary("Other", [Dictionary("EN", "DE", {"Hello": "Hallo"})])
    client.delete_multilingual_glossary_dictionary(made, source_lang="NL", target_lang="EN")
    assert client.get_multilingual_glossary(made.glossary_id).dictionaries == []
    with pytest.raises(deepl.DeepLException, match="no dictionary"):
        client.translate_text(SENTENCE, source_lang="NL", target_lang="EN-GB", glossary=made)
    with pytest.raises(deepl.GlossaryNotFoundException):
        server.client(server.b).delete_multilingual_glossary(made)
    client.delete_multilingual_glossary(made)
    with pytest.raises(deepl.GlossaryNotFoundException):
        client.get_multilingual_glossary(made.glossary_id)


def test_without_keys_a_glossary_is_the_deepl_auth_keys(redis_url: str) -> None:
    """DeepL's clients keep no cookie, but always send their key: without Vertaal keys, the
    key a client sends is its glossaries' capability, as DeepL's glossaries are its key's."""
    secret, other = "my-own-secret-0123456789", "someone-elses-secret-987654"
    with live_server(create_app({"redis_url": redis_url})) as base:
        clients = [deepl.DeepLClient(key, server_url=base) for key in (secret, secret, other)]
        first, again, stranger = clients
        try:
            made = first.create_glossary("Desk", "NL", "EN", ENTRIES)
            assert [g.glossary_id for g in again.list_glossaries()] == [made.glossary_id]
            assert stranger.list_glossaries() == []
            with pytest.raises(deepl.GlossaryNotFoundException):
                stranger.get_glossary(made.glossary_id)
            short = deepl.DeepLClient("any-key:fx", server_url=base)
            clients.append(short)
            with pytest.raises(deepl.AuthorizationException, match="at least 16 characters"):
                short.create_glossary("Desk", "NL", "EN", ENTRIES)
        finally:
            for client in clients:
                client.close()
