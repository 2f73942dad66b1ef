"""The DeepL API v2 protocol, so DeepL's official clients (`deepl.Translator(auth_key,
server_url=...)`) and tools that take a DeepL endpoint can use Vertaal: Dutch to English.

Texts take Vertaal's short path (`service/short.py`); documents become document jobs,
polled and downloaded as DeepL's document flow does. Errors are `{"message": ...}` with
DeepL's statuses (400, 403 for a bad key, 404, 413, 429, 456 for a used-up quota). With
VERTAAL_REQUIRE_API_KEY the `DeepL-Auth-Key` must be a Vertaal key; without, any key is
taken (the clients cannot send none), and a Vertaal key still counts its usage. Vertaal's
extension: `vertaal_summary` (a request field) asks for a summary, which comes back in a
`vertaal_summary` field that DeepL's clients simply ignore.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service.auth import current_key
from service.context import services
from service.downloads import attachment
from service.errors import PROTOCOL_SHAPES, Refusal
from service.openapi import documented, responses
from service.ownership import KEY_OWNER, new_owner, owns
from service.schemas import (
    DlDocumentHandle,
    DlDocumentKey,
    DlDocumentRequest,
    DlDocumentStatus,
    DlError,
    DlLanguage,
    DlLanguages,
    DlTranslateRequest,
    DlTranslationItem,
    DlTranslations,
    DlUsage,
)
from service.short import check_size, detected, translate_short
from service.submission import ArticleRequest, submit
from workers.errors import ArticleTooLargeError, InputError, VertaalError
from workers.jobs.record import JobOptions, JobRecord, JobStatus
from workers.operations.keys import KeyStore, QuotaExceededError
from workers.pipeline.article import SourceFile
from workers.pipeline.language import SOURCE
from workers.pipeline.reading import is_supported, suffix_of

bp = Blueprint("deepl", __name__, url_prefix="/v2")

TARGETS = {"EN": "English", "EN-GB": "English (British)", "EN-US": "English (American)"}
MAX_TEXTS = 50
NO_LIMIT = 1_000_000_000_000  # what DeepL reports for an unlimited account
# A status request waits this long for the document to be done, so that a small document
# is ready at the first poll (DeepL's clients sleep 5 s between polls); well under the
# clients' 10 s read timeout.
STATUS_WAIT = 3.0
# (DeepL also answers 456 for a used-up quota; the document cannot name a status
# outside HTTP's list.)
DL_ERRORS = (400, 403, 413, 429, 503)


def _error(status: int, message: str) -> Response:
    response = jsonify({"message": message})
    response.status_code = status
    return response


PROTOCOL_SHAPES["deepl"] = _error


@bp.errorhandler(VertaalError)
def vertaal_error(error: VertaalError) -> Response:
    if isinstance(error, ArticleTooLargeError):
        return _error(413, str(error))
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
    """DeepL's own status for a used-up quota."""
    return _error(456, f"Quota exceeded: {error}")


def _params() -> dict[str, Any]:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Refusal(400, "The request body must be a JSON object")
        return body
    params: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    texts = request.form.getlist("text") or request.args.getlist("text")
    if texts:
        params["text"] = texts
    return params


def _flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes", "on")


def _languages(params: dict[str, Any]) -> str | None:
    """Checks the pair; the source language given (None: detect)."""
    target = str(params.get("target_lang") or "").upper()
    if not target:
        raise Refusal(400, "Parameter 'target_lang' not specified.")
    if target not in TARGETS:
        raise Refusal(400, "Value for 'target_lang' not supported.")
    source = params.get("source_lang")
    if source and str(source).upper() != SOURCE.upper():
        raise Refusal(400, "Value for 'source_lang' not supported.")
    return str(source).upper() if source else None


@bp.post("/translate")
@documented(
    json=DlTranslateRequest,
    form=DlTranslateRequest,
    resp=responses({200: (DlTranslations, "One translation per text.")}, DL_ERRORS, DlError),
    tags=["DeepL"],
)
def translate() -> ResponseReturnValue:
    """Translate texts (DeepL v2)

    `text` is a list of texts; `target_lang` EN-GB, EN-US (or EN); `source_lang` NL or
    absent; `tag_handling=html` keeps markup. Vertaal's extension: `vertaal_summary: true`.
    """
    params = _params()
    texts = params.get("text")
    if isinstance(texts, str):
        texts = [texts]
    if not texts or not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise Refusal(400, "Parameter 'text' not specified.")
    if len(texts) > MAX_TEXTS:
        raise Refusal(413, f"Too many texts: at most {MAX_TEXTS} per request")
    check_size(services(), texts)
    source = _languages(params)
    detected_language = SOURCE
    if source is None:
        detected_language = detected(texts)[0]
    summary = _flag(params.get("vertaal_summary"))
    if detected_language != SOURCE and not summary:
        # Text already in English: as DeepL does, it comes back as it is.
        items = [DlTranslationItem(detected_source_language="EN", text=t, billed_characters=len(t))
                 for t in texts]  # fmt: skip
        body = DlTranslations(translations=items, vertaal_summary=None)
        return jsonify(body.model_dump(exclude_none=True))
    done = translate_short(
        services(), texts, html=params.get("tag_handling") in ("html", "xml"), summary=summary,
        key=current_key(),
    )  # fmt: skip
    items = [
        DlTranslationItem(detected_source_language="NL", text=out, billed_characters=len(text))
        for text, out in zip(texts, done.texts, strict=True)
    ]
    body = DlTranslations(translations=items, vertaal_summary=done.summary if summary else None)
    return jsonify(body.model_dump(exclude_none=True))


@bp.post("/document")
@documented(
    form=DlDocumentRequest,
    resp=responses({200: (DlDocumentHandle, "Poll it, then download it.")}, DL_ERRORS, DlError),
    tags=["DeepL"],
)
def upload_document() -> ResponseReturnValue:
    """Upload a document to translate (DeepL v2): .txt .md .html .htm .docx"""
    params = _params()
    _languages(params)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Refusal(400, "Parameter 'file' not specified.")
    name = PurePath(upload.filename.replace("\\", "/")).name
    if not is_supported(name):
        raise Refusal(400, "Invalid file data: the file type is not supported.")
    wanted = params.get("output_format")
    if wanted and f".{str(wanted).lower().lstrip('.')}" != suffix_of(name):
        raise Refusal(400, "Value for 'output_format' not supported: no conversions.")
    options = JobOptions(summary=_flag(params.get("vertaal_summary")), kind="document")
    article = ArticleRequest(SourceFile(name, upload.read()), options, name)
    # Every upload is a document of its own (it has its own key), never joined to another.
    job = submit(services(), article, owner=new_owner().owner, key=current_key(), unique=True).job
    document_key = secrets.token_hex(32)
    services().jobs.lock(job.id, document_key)
    return jsonify(DlDocumentHandle(document_id=job.id, document_key=document_key).model_dump())


def _document(document_id: str) -> JobRecord:
    """The document's job, if the request holds its document key, and, for a document sent
    with an API key, that key too; else DeepL's 404."""
    document_key = str(_params().get("document_key") or "")
    jobs = services().jobs
    job = jobs.get(document_id)
    if (
        job is None
        or job.options.kind != "document"
        or not jobs.unlocks(document_id, document_key)
        or (job.owner is not None and job.owner.startswith(KEY_OWNER) and not owns(job.owner))
    ):
        raise Refusal(404, "Document not found")
    return job


@bp.post("/document/<document_id>")
@documented(
    json=DlDocumentKey,
    form=DlDocumentKey,
    resp=responses({200: (DlDocumentStatus, "Where it stands.")}, (403, 404), DlError),
    tags=["DeepL"],
)
def document_status(document_id: str) -> ResponseReturnValue:
    """A document's status (DeepL v2): queued, translating, done or error"""
    job = _document(document_id)
    deadline = time.monotonic() + STATUS_WAIT
    while not job.status.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job = services().jobs.get(document_id) or job
    return jsonify(_status(job).model_dump(exclude_none=True))


def _status(job: JobRecord) -> DlDocumentStatus:
    if job.status is JobStatus.DONE:
        return DlDocumentStatus(
            document_id=job.id, status="done", billed_characters=_billed(job),
            vertaal_summary=job.result.summary if job.result and job.options.summary else None,
        )  # fmt: skip
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        message = job.error.message if job.error else "the document was cancelled"
        return DlDocumentStatus(document_id=job.id, status="error", error_message=message)
    if job.status is JobStatus.QUEUED:
        return DlDocumentStatus(document_id=job.id, status="queued")
    return DlDocumentStatus(
        document_id=job.id, status="translating", seconds_remaining=_remaining(job)
    )


def _billed(job: JobRecord) -> int:
    return job.result.characters() if job.result else 0


def _remaining(job: JobRecord) -> int | None:
    """Seconds left at the pace so far (None before the first sentence is done)."""
    progress = job.progress
    if not job.started_at or progress.done <= 0 or progress.total <= 0:
        return None
    started = datetime.fromisoformat(job.started_at.replace("Z", "+00:00"))
    elapsed = (datetime.now(UTC) - started).total_seconds()
    return max(1, round(elapsed * (progress.total - progress.done) / progress.done))


@bp.post("/document/<document_id>/result")
@documented(
    json=DlDocumentKey,
    form=DlDocumentKey,
    resp=responses(
        {200: (None, "The translated file, in its own format.")}, (403, 404, 503), DlError
    ),
    tags=["DeepL"],
)
def document_result(document_id: str) -> ResponseReturnValue:
    """Download a translated document (DeepL v2); it is deleted once downloaded"""
    job = _document(document_id)
    if not job.status.finished:
        raise Refusal(503, "Document translation is not done yet")
    jobs = services().jobs
    found = jobs.get_file(document_id)
    if found is None:
        raise Refusal(404, "Document not found")
    response = attachment(found.data, found.media_type, job.filename or "file")
    # Dropped once downloaded, as DeepL does: only after the answer is built.
    jobs.drop_file(document_id)
    return response


@bp.route("/usage", methods=["GET", "POST"])
@documented(resp=responses({200: (DlUsage, "This month.")}, (403,), DlError), tags=["DeepL"])
def usage() -> ResponseReturnValue:
    """Characters used this month, against the key's limit (DeepL v2)"""
    key = current_key()
    if key is None:
        return jsonify(DlUsage(character_count=0, character_limit=NO_LIMIT).model_dump())
    used = KeyStore(services().queue).usage(key.id)
    body = DlUsage(character_count=used, character_limit=key.chars_per_month or NO_LIMIT)
    return jsonify(body.model_dump())


@bp.route("/languages", methods=["GET", "POST"])
@documented(resp=responses({200: (DlLanguages, "Source or target.")}, ()), tags=["DeepL"])
def languages() -> ResponseReturnValue:
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
