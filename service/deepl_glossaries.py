"""DeepL's glossaries on Vertaal's: v2 (`/v2/glossaries`, one language pair) and v3
(`/v3/glossaries`, dictionaries, editable), in DeepL's shapes and with its statuses, so
DeepL's clients manage and use them unchanged. The views are registered on the DeepL
blueprint by `service/deepl.py`.

A glossary is a Vertaal glossary (`workers/glossaries.py`), owned by the request's key or,
without one, by the DeepL-Auth-Key it sends (see `_owner`); its id is shown as DeepL shows
ids, a UUID. Vertaal has one language pair, so a glossary has one dictionary,
NL to EN; any other pair is refused (400) as DeepL refuses a pair it does not offer. A v3
glossary whose dictionary was deleted has none (and no entries) until one is put back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from service.auth import current_key, presented_key
from service.context import services
from service.deepl_request import dl_validated, params
from service.errors import Refusal
from service.openapi import documented, responses
from service.ownership import MIN_TOKEN_CHARS, anonymous_owner, key_owner
from service.protocol_schemas import (
    DlDictionaries,
    DlDictionary,
    DlDictionaryEntries,
    DlDictionaryQuery,
    DlError,
    DlGlossaries,
    DlGlossary,
    DlGlossaryLanguagePairs,
    DlGlossaryPatch,
    DlGlossaryRequest,
    DlLanguagePair,
    DlMultilingualGlossaries,
    DlMultilingualGlossary,
    DlMultilingualRequest,
)
from workers.glossaries import StoredGlossary
from workers.pipeline.language import SOURCE, TARGET
from workers.pipeline.terms.glossary import Glossary

ERRORS = (400, 403, 404, 413, 503)
# The owner of a request that may use only the global glossaries: no glossary has it.
NOBODY = "nobody"


def dl_id(record: StoredGlossary) -> str:
    return str(uuid.UUID(record.id))


def vertaal_id(glossary_id: str) -> str:
    """The Vertaal id of a DeepL-style id (a UUID, or its 32 hexadecimal digits)."""
    try:
        return uuid.UUID(glossary_id).hex
    except ValueError:
        raise Refusal(400, f"Invalid glossary_id: {glossary_id!r} is not a glossary id") from None


def check_pair(source_lang: str, target_lang: str) -> None:
    """NL to EN (EN-GB and EN-US are EN), or DeepL's 400 for a pair it does not offer."""
    source, target = (lang.lower().split("-")[0] for lang in (source_lang, target_lang))
    if (source, target) != (SOURCE, TARGET):
        raise Refusal(
            400, f"Unsupported glossary source and target language pair: {source_lang} to "
            f"{target_lang}; this server has glossaries from Dutch (NL) into English (EN)",
        )  # fmt: skip


def _owner() -> str:
    """Whose glossaries a request reaches: its Vertaal key's; without one (where keys are not
    required), those of the DeepL-Auth-Key it sends, taken as its anonymous capability:
    DeepL's clients keep no cookie between calls, but always send their key, as DeepL's
    glossaries belong to it. A key too short to be a secret reaches only the global ones."""
    key = current_key()
    if key is not None:
        return key_owner(key.id)
    presented = presented_key() or ""
    return anonymous_owner(presented) if len(presented) >= MIN_TOKEN_CHARS else NOBODY


def _new_owner() -> str:
    owner = _owner()
    if owner == NOBODY:
        raise Refusal(
            403, "Authorization failure: without API keys on this server, a glossary belongs "
            f"to the DeepL-Auth-Key sent with it; send one of at least {MIN_TOKEN_CHARS} "
            "characters (a secret of your own)",
        )  # fmt: skip
    return owner


def _record(glossary_id: str, *, change: bool = False) -> StoredGlossary:
    """The request's glossary (its own, or a global one unless it is to be changed)."""
    glossaries, owner = services().glossaries, _owner()
    found = vertaal_id(glossary_id)
    return glossaries.owned(found, owner) if change else glossaries.usable(found, owner)


def used_glossary(glossary_id: str | None, source_lang: str | None) -> str | None:
    """The version (digest) of the glossary a translation names, checked as DeepL checks it:
    it needs a source language, and a dictionary for the pair translated."""
    if not glossary_id:
        return None
    if not source_lang:
        raise Refusal(400, "Parameter 'source_lang' not specified: a glossary needs it.")
    record = _record(glossary_id)
    if str(source_lang).upper() != SOURCE.upper() or not record.entries:
        raise Refusal(
            400, f"The glossary has no dictionary for {str(source_lang).upper()} to EN: "
            "this server's glossaries translate Dutch (NL) into English (EN)",
        )  # fmt: skip
    return record.digest


def _time(record: StoredGlossary) -> str:
    """DeepL's timestamps: milliseconds and a Z (its clients parse exactly that)."""
    created = datetime.fromisoformat(record.created_at)
    return created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _v2(record: StoredGlossary) -> DlGlossary:
    return DlGlossary(
        glossary_id=dl_id(record), name=record.name, ready=True, source_lang=SOURCE,
        target_lang=TARGET, creation_time=_time(record), entry_count=record.entries,
    )  # fmt: skip


def _v3(record: StoredGlossary) -> DlMultilingualGlossary:
    only = DlDictionary(source_lang=SOURCE, target_lang=TARGET, entry_count=record.entries)
    return DlMultilingualGlossary(
        glossary_id=dl_id(record), name=record.name, creation_time=_time(record),
        dictionaries=[only] if record.entries else [],
    )  # fmt: skip


def _parsed(name: str, dictionary: DlDictionaryEntries) -> Glossary:
    check_pair(dictionary.source_lang, dictionary.target_lang)
    return Glossary.parse(name, dictionary.entries, dictionary.entries_format)


def _created(body: DlGlossary | DlMultilingualGlossary) -> Response:
    response = jsonify(body.model_dump())
    response.status_code = 201
    return response


def _tsv(record: StoredGlossary) -> str:
    found = services().glossaries.entries(record.digest)
    return found.to_tsv() if found is not None else ""


# --- v2 ----------------------------------------------------------------------------------


@documented(
    json=DlGlossaryRequest,
    form=DlGlossaryRequest,
    resp=responses({201: (DlGlossary, "Created.")}, ERRORS, DlError),
    tags=["DeepL glossaries"],
)
def create_glossary() -> ResponseReturnValue:
    """Create a glossary (DeepL v2): NL to EN entries as TSV or CSV"""
    body = dl_validated(DlGlossaryRequest, params())
    check_pair(body.source_lang, body.target_lang)
    glossary = Glossary.parse(body.name, body.entries, body.entries_format)
    record = services().glossaries.create(glossary, _new_owner())
    return _created(_v2(record))


@documented(
    resp=responses({200: (DlGlossaries, "Own and global ones.")}, (403,), DlError),
    tags=["DeepL glossaries"],
)
def list_glossaries() -> ResponseReturnValue:
    """The glossaries this sender may use (DeepL v2): its own and the global ones"""
    found = services().glossaries.visible_to(_owner())
    return jsonify(DlGlossaries(glossaries=[_v2(g) for g in found]).model_dump())


@documented(resp=responses({200: (DlGlossary, "The glossary.")}, ERRORS, DlError),
            tags=["DeepL glossaries"])  # fmt: skip
def get_glossary(glossary_id: str) -> ResponseReturnValue:
    """A glossary, without its entries (DeepL v2)"""
    return jsonify(_v2(_record(glossary_id)).model_dump())


@documented(resp=responses({204: (None, "Deleted.")}, ERRORS, DlError),
            tags=["DeepL glossaries"])  # fmt: skip
def delete_glossary(glossary_id: str) -> ResponseReturnValue:
    """Delete a glossary of this sender's own (DeepL v2 and v3)"""
    services().glossaries.delete(_record(glossary_id, change=True))
    return "", 204


@documented(resp=responses({200: (None, "The entries, as TSV.")}, ERRORS, DlError),
            tags=["DeepL glossaries"])  # fmt: skip
def glossary_entries(glossary_id: str) -> ResponseReturnValue:
    """A glossary's entries as TSV (DeepL v2)"""
    return Response(_tsv(_record(glossary_id)), mimetype="text/tab-separated-values")


@documented(
    resp=responses({200: (DlGlossaryLanguagePairs, "NL to EN.")}, (403,), DlError),
    tags=["DeepL glossaries"],
)
def language_pairs() -> ResponseReturnValue:
    """The language pairs glossaries may have (DeepL v2): NL to EN"""
    pairs = [DlLanguagePair(source_lang=SOURCE, target_lang=TARGET)]
    return jsonify(DlGlossaryLanguagePairs(supported_languages=pairs).model_dump())


# --- v3 ----------------------------------------------------------------------------------


@documented(
    json=DlMultilingualRequest,
    resp=responses({201: (DlMultilingualGlossary, "Created.")}, ERRORS, DlError),
    tags=["DeepL glossaries"],
)
def create_multilingual() -> ResponseReturnValue:
    """Create a glossary with its dictionaries (DeepL v3): one, NL to EN"""
    body = dl_validated(DlMultilingualRequest, params())
    if len(body.dictionaries) > 1:
        raise Refusal(400, "Too many dictionaries: this server has one language pair, NL to EN")
    glossary = _parsed(body.name, body.dictionaries[0])
    record = services().glossaries.create(glossary, _new_owner())
    return _created(_v3(record))


@documented(
    resp=responses({200: (DlMultilingualGlossaries, "Own and global ones.")}, (403,), DlError),
    tags=["DeepL glossaries"],
)
def list_multilingual() -> ResponseReturnValue:
    """The glossaries this sender may use (DeepL v3)"""
    found = services().glossaries.visible_to(_owner())
    return jsonify(DlMultilingualGlossaries(glossaries=[_v3(g) for g in found]).model_dump())


@documented(resp=responses({200: (DlMultilingualGlossary, "The glossary.")}, ERRORS, DlError),
            tags=["DeepL glossaries"])  # fmt: skip
def get_multilingual(glossary_id: str) -> ResponseReturnValue:
    """A glossary and its dictionaries, without their entries (DeepL v3)"""
    return jsonify(_v3(_record(glossary_id)).model_dump())


@documented(
    json=DlGlossaryPatch,
    resp=responses({200: (DlMultilingualGlossary, "The glossary now.")}, ERRORS, DlError),
    tags=["DeepL glossaries"],
)
def patch_multilingual(glossary_id: str) -> ResponseReturnValue:
    """Rename a glossary, or merge entries into its dictionary (DeepL v3)

    An entry whose Dutch term the dictionary has replaces it; the others are added.
    """
    record = _record(glossary_id, change=True)
    body = dl_validated(DlGlossaryPatch, params())
    name = body.name if body.name is not None else record.name
    current = services().glossaries.entries(record.digest)
    merged = dict(current.rows()) if current is not None else {}
    for dictionary in body.dictionaries or []:
        merged.update(_parsed(name, dictionary).rows())
    changed = services().glossaries.replace(record, Glossary.from_entries(name, merged))
    return jsonify(_v3(changed).model_dump())


@documented(
    json=DlDictionaryEntries,
    resp=responses({200: (DlDictionary, "The dictionary now.")}, ERRORS, DlError),
    tags=["DeepL glossaries"],
)
def put_dictionary(glossary_id: str) -> ResponseReturnValue:
    """Replace (or put back) a glossary's dictionary (DeepL v3)"""
    record = _record(glossary_id, change=True)
    body = dl_validated(DlDictionaryEntries, params())
    changed = services().glossaries.replace(record, _parsed(record.name, body))
    dictionary = DlDictionary(source_lang=SOURCE, target_lang=TARGET, entry_count=changed.entries)
    return jsonify(dictionary.model_dump())


def _dictionary_of(record: StoredGlossary) -> None:
    """The query names the glossary's dictionary; else DeepL's 404."""
    query = dl_validated(DlDictionaryQuery, request.args.to_dict())
    check_pair(query.source_lang, query.target_lang)
    if not record.entries:
        raise Refusal(404, "Glossary dictionary not found: the glossary has none for NL to EN")


@documented(
    query=DlDictionaryQuery,
    resp=responses({204: (None, "Deleted.")}, ERRORS, DlError),
    tags=["DeepL glossaries"],
)
def delete_dictionary(glossary_id: str) -> ResponseReturnValue:
    """Delete a glossary's dictionary (DeepL v3): the glossary stays, with none"""
    record = _record(glossary_id, change=True)
    _dictionary_of(record)
    services().glossaries.replace(record, Glossary(record.name, ()))
    return "", 204


@documented(
    query=DlDictionaryQuery,
    resp=responses({200: (DlDictionaries, "The dictionary, entries as TSV.")}, ERRORS, DlError),
    tags=["DeepL glossaries"],
)
def multilingual_entries(glossary_id: str) -> ResponseReturnValue:
    """A dictionary's entries (DeepL v3)"""
    record = _record(glossary_id)
    _dictionary_of(record)
    dictionary = DlDictionaryEntries(
        source_lang=SOURCE, target_lang=TARGET, entries=_tsv(record), entries_format="tsv"
    )
    return jsonify(DlDictionaries(dictionaries=[dictionary]).model_dump())
