"""DeepL's document flow: upload (`POST /v2/document`), poll (`POST /v2/document/{id}`) and
download once (`POST /v2/document/{id}/result`), each document a job of its own that only its
`document_key` opens (and, for a document sent with an API key, only with that key). Ids and
keys are upper-case hexadecimal, as DeepL's are. The views are registered on the DeepL
blueprint by `service/deepl.py`."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import PurePath

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from service.auth import current_key
from service.context import services
from service.deepl_glossaries import used_glossary
from service.deepl_request import document_languages, flag, params
from service.downloads import attachment
from service.errors import Refusal
from service.openapi import documented, responses
from service.ownership import KEY_OWNER, new_owner, owns
from service.protocol_schemas import DlDocumentHandle, DlDocumentKey, DlDocumentRequest, DlError
from service.protocol_schemas import DlDocumentStatus as Status
from service.submission import ArticleRequest, submit
from workers.errors import NotDutchError
from workers.jobs.record import JobOptions, JobRecord, JobStatus
from workers.pipeline.article import SourceFile
from workers.pipeline.language import language_name
from workers.pipeline.reading import is_supported, suffix_of

# A status request waits this long for the document to be done, so that a small document
# is ready at the first poll (DeepL's clients sleep 5 s between polls); well under the
# clients' 10 s read timeout.
STATUS_WAIT = 3.0
UPLOAD_ERRORS = (400, 403, 404, 413, 429, 503)  # 404: an unknown glossary


def _not_dutch(language: str | None) -> str:
    """Why a document is refused, in words a DeepL client's user can act on."""
    if language == "en":
        return (
            "Source and target language are the same: the document is in English (EN); this "
            "server translates Dutch (NL) documents into English"
        )
    named = f"{language_name(language)} ({language.upper()})" if language else "not Dutch"
    return (
        f"Value for 'source_lang' not supported: the document is in {named}; this server "
        "translates Dutch (NL) documents into English"
    )


@documented(
    form=DlDocumentRequest,
    resp=responses({200: (DlDocumentHandle, "Poll it, then download it.")}, UPLOAD_ERRORS, DlError),
    tags=["DeepL"],
)
def upload_document() -> ResponseReturnValue:
    """Upload a document to translate (DeepL v2): .txt .md .html .htm .docx

    Without `source_lang` its language is checked: a document clearly in another language
    than Dutch is refused, naming it (English: "Source and target language are the same").
    `glossary_id` (with `source_lang` NL) enforces a glossary's terms.
    """
    found = params()
    upload = request.files.get("file")
    if upload is None or not (upload.filename or found.get("filename")):
        raise Refusal(400, "Parameter 'file' not specified.")
    given = str(found.get("filename") or upload.filename)
    name = PurePath(given.replace("\\", "/")).name
    if not is_supported(name):
        raise Refusal(400, "Invalid file data: the file extension is not supported.")
    source = document_languages(found)
    if source == "EN":
        raise Refusal(400, _not_dutch("en"))
    wanted = found.get("output_format")
    if wanted and f".{str(wanted).lower().lstrip('.')}" != suffix_of(name):
        raise Refusal(400, "Value for 'output_format' not supported: no conversions.")
    glossary = used_glossary(found.get("glossary_id"), source)
    options = JobOptions(
        summary=flag(found.get("vertaal_summary")), check_language=source is None,
        kind="document", glossary=glossary,
    )  # fmt: skip
    article = ArticleRequest(SourceFile(name, upload.read()), options, name)
    try:
        # Every upload is a document of its own (it has its own key), never joined to another.
        job = submit(
            services(), article, owner=new_owner().owner, key=current_key(), unique=True
        ).job
    except NotDutchError as error:
        raise Refusal(400, _not_dutch(error.language)) from None
    document_key = secrets.token_hex(32).upper()
    services().jobs.lock(job.id, document_key)
    handle = DlDocumentHandle(document_id=job.id.upper(), document_key=document_key)
    return jsonify(handle.model_dump())


def _document(document_id: str) -> JobRecord:
    """The document's job, if the request holds its document key, and, for a document sent
    with an API key, that key too; else DeepL's 404 (another key's document looks like
    none)."""
    document_key = str(params().get("document_key") or "")
    job_id = document_id.lower()
    jobs = services().jobs
    job = jobs.get(job_id)
    if (
        job is None
        or job.options.kind != "document"
        or not jobs.unlocks(job_id, document_key)
        or (job.owner is not None and job.owner.startswith(KEY_OWNER) and not owns(job.owner))
    ):
        raise Refusal(404, "Document not found")
    return job


@documented(
    json=DlDocumentKey,
    form=DlDocumentKey,
    resp=responses({200: (Status, "Where it stands.")}, (403, 404), DlError),
    tags=["DeepL"],
)
def document_status(document_id: str) -> ResponseReturnValue:
    """A document's status (DeepL v2): queued, translating, done or error"""
    job = _document(document_id)
    deadline = time.monotonic() + STATUS_WAIT
    while not job.status.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job = services().jobs.get(job.id) or job
    return jsonify(_status(job).model_dump(exclude_none=True))


def _status(job: JobRecord) -> Status:
    shown = job.id.upper()
    if job.status is JobStatus.DONE:
        return Status(
            document_id=shown, status="done",
            billed_characters=job.result.characters() if job.result else 0,
            vertaal_summary=job.result.summary if job.result and job.options.summary else None,
        )  # fmt: skip
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        message = job.error.message if job.error else "the document was cancelled"
        return Status(document_id=shown, status="error", error_message=message)
    if job.status is JobStatus.QUEUED:
        return Status(document_id=shown, status="queued")
    return Status(document_id=shown, status="translating", seconds_remaining=_remaining(job))


def _remaining(job: JobRecord) -> int | None:
    """Seconds left at the pace so far (None before the first sentence is done)."""
    progress = job.progress
    if not job.started_at or progress.done <= 0 or progress.total <= 0:
        return None
    started = datetime.fromisoformat(job.started_at.replace("Z", "+00:00"))
    elapsed = (datetime.now(UTC) - started).total_seconds()
    return max(1, round(elapsed * (progress.total - progress.done) / progress.done))


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
    found = jobs.get_file(job.id)
    if found is None:
        raise Refusal(404, "Document not found")
    response = attachment(found.data, found.media_type, job.filename or "file")
    # Dropped once downloaded, as DeepL does: only once the answer is built.
    jobs.drop_file(job.id)
    return response
