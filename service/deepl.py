"""The DeepL API v2 protocol, so DeepL's official clients (`deepl.Translator(auth_key,
server_url=...)`) and tools that take a DeepL endpoint can use Vertaal: Dutch to English.

Texts take Vertaal's short path (`service/short.py`), each identified on its own when no
`source_lang` is given: English comes back as it is (billed, as DeepL bills it), other
languages are refused naming them. Documents become document jobs, polled and downloaded as
DeepL's document flow does. Parameters are validated as DeepL validates them
(`DlTranslateRequest`). Errors are `{"message": ...}` on every path under /v2 and /v3, with
DeepL's statuses (400, 403 for a bad key, 404, 405, 413, 429, 456 for a used-up quota).
With VERTAAL_REQUIRE_API_KEY the key (`DeepL-Auth-Key`, or the legacy `auth_key` field)
must be a Vertaal key; without, any key is taken (the clients cannot send none), and a
Vertaal key still counts its usage. Glossaries (`/v2/glossaries`, `/v3/glossaries`) are
Vertaal's own, in DeepL's shapes (`service/deepl_glossaries.py`). Vertaal's extensions, which
DeepL's clients simply ignore: `vertaal_summary` (a request field) asks for a summary, which
comes back in a `vertaal_summary` field; each translated text's `vertaal_checks` lists what
the checks found in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service import deepl_documents
from service import deepl_glossaries as glossaries
from service.auth import current_key
from service.context import services
from service.deepl_request import TARGETS, params, text_request
from service.errors import PROTOCOL_PATHS, PROTOCOL_SHAPES, Refusal
from service.openapi import documented, responses
from service.protocol_schemas import (
    DlCheck,
    DlError,
    DlLanguage,
    DlLanguages,
    DlTranslateRequest,
    DlTranslationItem,
    DlTranslations,
    DlUsage,
)
from service.short import (
    ShortResult,
    billed,
    check_size,
    first_refused,
    languages,
    translate_short,
    translate_some,
)
from workers.errors import ArticleTooLargeError, GlossaryTooLargeError, InputError, VertaalError
from workers.glossaries import GlossaryNotFoundError
from workers.operations.keys import KeyStore, QuotaExceededError
from workers.pipeline.language import SOURCE, TARGET, language_name, visible_text
from workers.pipeline.markup import XmlTags, translate_xml, xml_text

bp = Blueprint("deepl", __name__)

NO_LIMIT = 1_000_000_000_000  # what DeepL reports for an unlimited account
# (DeepL also answers 456 for a used-up quota; the document cannot name a status
# outside HTTP's list.)
DL_ERRORS = (400, 403, 404, 413, 429, 503)  # 404: an unknown glossary


def _error(status: int, message: str) -> Response:
    response = jsonify({"message": message})
    response.status_code = status
    return response


PROTOCOL_SHAPES["deepl"] = _error
PROTOCOL_PATHS["deepl"] = ("/v2", "/v3")


@bp.errorhandler(VertaalError)
def vertaal_error(error: VertaalError) -> Response:
    if isinstance(error, ArticleTooLargeError | GlossaryTooLargeError):
        return _error(413, str(error))
    if isinstance(error, GlossaryNotFoundError):  # the clients' GlossaryNotFoundException
        return _error(404, f"Glossary not found: {error}")
    return _error(400 if isinstance(error, InputError) else error.http_status, str(error))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return _error(error.code or 500, error.description or error.name)


@bp.before_request
def check_key() -> None:
    """DeepL answers a bad or missing key with 403."""
    record = current_key()
    if record is None and services().settings.require_api_key:
        raise Refusal(403, "Authorization failure: send a Vertaal API key as DeepL-Auth-Key")


@bp.errorhandler(QuotaExceededError)
def quota_exceeded(error: QuotaExceededError) -> Response:
    """DeepL's own status for a used-up quota: 456."""
    return _error(456, f"Quota exceeded: {error}")


def _xml_tags(options: DlTranslateRequest) -> XmlTags:
    return XmlTags(
        ignore=frozenset(options.ignore_tags or ()),
        splitting=frozenset(options.splitting_tags or ()),
        non_splitting=frozenset(options.non_splitting_tags or ()),
        outline_detection=options.outline_detection is not False,
    )


def _reader(options: DlTranslateRequest) -> Callable[[str], str]:
    """What of a text its language is identified by: with tags, only what is translated."""
    if options.tag_handling == "xml":
        tags = _xml_tags(options)
        return lambda text: xml_text(text, tags)
    return lambda text: visible_text(text, markup=options.tag_handling == "html")


def _translated(
    texts: Sequence[str],
    chosen: Sequence[bool],
    options: DlTranslateRequest,
    glossary: str | None,
) -> ShortResult:
    """The texts, the chosen ones translated (with the `glossary` version, if any): XML's
    sentences are taken out here and sent as plain text (its tags never reach the model),
    HTML goes to the worker as it is."""
    summary = bool(options.vertaal_summary)
    if options.tag_handling != "xml":
        html = options.tag_handling == "html"
        return translate_some(
            services(), texts, chosen, html=html, summary=summary, glossary=glossary
        )
    summaries: list[str | None] = []

    def sentences(batch: Sequence[str]) -> list[str]:
        done = translate_short(services(), batch, html=False, summary=summary, glossary=glossary)
        summaries.append(done.summary)
        return done.texts

    wanted = [text for text, pick in zip(texts, chosen, strict=True) if pick]
    done = iter(translate_xml(wanted, sentences, _xml_tags(options)))
    out = [next(done) if pick else text for text, pick in zip(texts, chosen, strict=True)]
    return ShortResult(out, summaries[0] if summaries else None)


@bp.post("/v2/translate")
@documented(
    json=DlTranslateRequest,
    form=DlTranslateRequest,
    resp=responses({200: (DlTranslations, "One translation per text.")}, DL_ERRORS, DlError),
    tags=["DeepL"],
)
def translate() -> ResponseReturnValue:
    """Translate texts (DeepL v2)

    `text` is a list of texts; `target_lang` EN-GB, EN-US (or EN); `source_lang` NL, or
    absent to identify each text (English comes back as it is; other languages are refused);
    `tag_handling` html or xml keeps markup; `glossary_id` (with `source_lang` NL) enforces
    a glossary's terms. Vertaal's extensions: `vertaal_summary: true` asks for a summary;
    each text's `vertaal_checks` says what the checks found (not for XML).
    """
    options = text_request(params())
    glossary = glossaries.used_glossary(options.glossary_id, options.source_lang)
    texts = options.text
    check_size(services(), texts)
    source = options.source_lang.lower() if options.source_lang else None
    found = languages(texts, source, _reader(options))
    refused = first_refused(found)
    if refused is not None and refused.code:
        number = found.index(refused) + 1
        raise Refusal(
            400,
            f"Value for 'source_lang' not supported: text {number} is in "
            f"{language_name(refused.code)} ({refused.code.upper()}); this server translates "
            "Dutch (NL) into English",
        )
    # DeepL bills every text, the ones it gives back as they are too.
    with billed(services(), current_key(), sum(len(text) for text in texts)):
        done = _translated(texts, [f.code == SOURCE for f in found], options, glossary)
    model_type_used = "latency_optimized" if options.model_type == "latency_optimized" else None
    if options.model_type and model_type_used is None:
        model_type_used = "quality_optimized"
    checks = done.checks or [[] for _ in texts]
    items = [
        DlTranslationItem(
            detected_source_language=(f.code or source or TARGET).upper(),
            text=out,
            billed_characters=len(text),
            model_type_used=model_type_used,
            vertaal_checks=[DlCheck.model_validate(flag) for flag in flags] or None,
        )
        for text, out, f, flags in zip(texts, done.texts, found, checks, strict=True)
    ]
    body = DlTranslations(translations=items, vertaal_summary=done.summary)
    return jsonify(body.model_dump(exclude_none=True))


@bp.route("/v2/usage", methods=["GET", "POST"])
@documented(resp=responses({200: (DlUsage, "This month.")}, (403,), DlError), tags=["DeepL"])
def usage() -> ResponseReturnValue:
    """Characters used this month, against the key's limit (DeepL v2)"""
    key = current_key()
    if key is None:
        return jsonify(DlUsage(character_count=0, character_limit=NO_LIMIT).model_dump())
    used = KeyStore(services().queue).usage(key.id)
    body = DlUsage(character_count=used, character_limit=key.chars_per_month or NO_LIMIT)
    return jsonify(body.model_dump())


@bp.route("/v2/languages", methods=["GET", "POST"])
@documented(resp=responses({200: (DlLanguages, "Source or target.")}, ()), tags=["DeepL"])
def languages_offered() -> ResponseReturnValue:
    """Source (Dutch) or, with `type=target`, target languages (DeepL v2)"""
    kind = request.args.get("type") or request.form.get("type") or "source"
    if kind == "target":
        found = [
            DlLanguage(language=code, name=name, supports_formality=False)
            for code, name in TARGETS.items()
            if code != "EN"
        ]
    else:
        found = [DlLanguage(language="NL", name="Dutch")]
    return jsonify([language.model_dump(exclude_none=True) for language in found])


bp.add_url_rule("/v2/document", view_func=deepl_documents.upload_document, methods=["POST"])
bp.add_url_rule(
    "/v2/document/<document_id>", view_func=deepl_documents.document_status, methods=["POST"]
)
bp.add_url_rule(
    "/v2/document/<document_id>/result", view_func=deepl_documents.document_result, methods=["POST"]
)

# DeepL's glossaries (service/deepl_glossaries.py): v2, one language pair; v3, editable.
GLOSSARY_RULES = (
    ("/v2/glossary-language-pairs", glossaries.language_pairs, ["GET"]),
    ("/v2/glossaries", glossaries.create_glossary, ["POST"]),
    ("/v2/glossaries", glossaries.list_glossaries, ["GET"]),
    ("/v2/glossaries/<glossary_id>", glossaries.get_glossary, ["GET"]),
    ("/v2/glossaries/<glossary_id>", glossaries.delete_glossary, ["DELETE"]),
    ("/v2/glossaries/<glossary_id>/entries", glossaries.glossary_entries, ["GET"]),
    ("/v3/glossaries", glossaries.create_multilingual, ["POST"]),
    ("/v3/glossaries", glossaries.list_multilingual, ["GET"]),
    ("/v3/glossaries/<glossary_id>", glossaries.get_multilingual, ["GET"]),
    ("/v3/glossaries/<glossary_id>", glossaries.patch_multilingual, ["PATCH"]),
    ("/v3/glossaries/<glossary_id>", glossaries.delete_glossary, ["DELETE"]),
    ("/v3/glossaries/<glossary_id>/dictionaries", glossaries.put_dictionary, ["PUT"]),
    ("/v3/glossaries/<glossary_id>/dictionaries", glossaries.delete_dictionary, ["DELETE"]),
    ("/v3/glossaries/<glossary_id>/entries", glossaries.multilingual_entries, ["GET"]),
)
for rule, view, methods in GLOSSARY_RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
