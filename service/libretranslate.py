"""The LibreTranslate protocol, so its clients (Mastodon, Discourse, browser extensions,
libretranslatepy, scripts) can use Vertaal unchanged: Dutch to English only.

Followed from LibreTranslate's own server (`libretranslate/app.py`): parameters as JSON or
form (query string included), `q` a string or (JSON) a list, its validation order and its
error messages, `{"error": "..."}` bodies with 400, 403, 429, and CORS open as it is. Texts
take Vertaal's short path (`service/short.py`); files become document jobs. API keys
(`api_key`) are Vertaal's own.
"""

from __future__ import annotations

import secrets
import time
from pathlib import PurePath
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service.auth import AuthError, authenticate
from service.context import services
from service.downloads import attachment
from service.errors import PROTOCOL_SHAPES, Refusal
from service.openapi import documented, responses
from service.ownership import new_owner
from service.schemas import (
    LtDetection,
    LtDetections,
    LtDetectRequest,
    LtError,
    LtFileRequest,
    LtFileTranslation,
    LtLanguage,
    LtLanguages,
    LtSettings,
    LtTranslateRequest,
    LtTranslation,
)
from service.short import check_size, detected, translate_short
from service.submission import ArticleRequest, submit
from workers.errors import InputError, VertaalError
from workers.jobs.record import JobOptions, JobStatus
from workers.pipeline.article import SourceFile
from workers.pipeline.language import SOURCE, TARGET, detect, language_name
from workers.pipeline.reading import SUPPORTED_SUFFIXES, is_supported, suffix_of

bp = Blueprint("libretranslate", __name__)

# What LibreTranslate answers besides 200: bad requests and missing keys (400), a bad key or
# an exhausted quota (403), too many requests (429); and Vertaal's own 503 when no worker
# answers within the wait.
LT_ERRORS = (400, 403, 429, 503)

FORMATS = ("text", "html")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Max-Age": "1728000",
}


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


PROTOCOL_SHAPES["libretranslate"] = _error


@bp.errorhandler(AuthError)
def unauthorized(error: AuthError) -> Response:
    if error.code == "api_key_required":  # LibreTranslate answers a missing key with 400
        return _error(400, "Please contact the server operator to get an API key")
    return _error(403, "Invalid API key" if error.code == "invalid_api_key" else error.message)


@bp.errorhandler(VertaalError)
def vertaal_error(error: VertaalError) -> Response:
    status = 400 if isinstance(error, InputError) else error.http_status
    return _error(status, str(error))


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    if error.code == 429:
        return _error(429, f"Slowdown: {error.description}")
    return _error(error.code or 500, error.description or error.name)


@bp.after_request
def open_to_every_origin(response: Response) -> Response:
    """As LibreTranslate: browser extensions call it from any page. Keys guard it."""
    response.headers.update(CORS)
    return response


def _params() -> dict[str, Any]:
    """The request's parameters: a JSON object, or form and query string (query first)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Refusal(400, "Invalid JSON format")
        return body
    return {**request.form.to_dict(), **request.args.to_dict()}


def _require(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, "", []):
        raise Refusal(400, f"Invalid request: missing {name} parameter")
    return value


def _language_pair(source: str, target: str) -> None:
    source, target = source.lower(), target.lower()
    if source not in (SOURCE, "auto"):
        raise Refusal(400, f"{source} is not supported")
    if target != TARGET:
        if target == SOURCE:
            raise Refusal(
                400,
                f"Dutch (nl) is not available as a target language from "
                f"{language_name(source) if source != 'auto' else 'Dutch'} ({source})",
            )
        raise Refusal(400, f"{target} is not supported")


@bp.post("/translate")
@documented(
    json=LtTranslateRequest,
    form=LtTranslateRequest,
    resp=responses({200: (LtTranslation, "The translation.")}, LT_ERRORS, LtError),
    tags=["LibreTranslate"],
)
def translate() -> ResponseReturnValue:
    """Translate text (LibreTranslate)

    `q` is a string, or with JSON a list of strings; `source` is `nl` or `auto`, `target`
    `en`; `format` is `text` or `html` (markup kept). Answers `translatedText` (a list for a
    list), with `detectedLanguage` for `auto`.
    """
    key = authenticate()
    params = _params()
    q = _require(params, "q")
    source, target = str(_require(params, "source")), str(_require(params, "target"))
    try:
        alternatives = int(params.get("alternatives") or 0)
    except (TypeError, ValueError):
        raise Refusal(400, "Invalid request: alternatives parameter is not a number") from None
    texts = q if isinstance(q, list) else [q]
    if not all(isinstance(text, str) for text in texts):
        raise Refusal(400, "Invalid request: q must be a string or a list of strings")
    if not isinstance(q, list):
        texts = ["\n".join(texts[0].splitlines())]
    check_size(services(), texts)
    _language_pair(source, target)
    text_format = str(params.get("format") or "text")
    if text_format not in FORMATS:
        raise Refusal(400, f"{text_format} format is not supported")
    body: dict[str, Any] = {}
    if source.lower() == "auto":
        language, confidence = detected(texts)
        if language != SOURCE:
            raise Refusal(
                400,
                f"{language_name(TARGET)} ({TARGET}) is not available as a target language "
                f"from {language_name(language)} ({language})",
            )
        found = {"confidence": confidence, "language": language}
        body["detectedLanguage"] = [found] * len(texts) if isinstance(q, list) else found
    done = translate_short(services(), texts, html=text_format == "html", key=key)
    body["translatedText"] = done.texts if isinstance(q, list) else done.texts[0]
    if alternatives > 0:  # a beam's runner-up is not kept: no alternatives to offer
        body["alternatives"] = [[] for _ in texts] if isinstance(q, list) else []
    return jsonify(LtTranslation.model_validate(body).model_dump(exclude_none=True))


@bp.post("/detect")
@documented(
    json=LtDetectRequest,
    form=LtDetectRequest,
    resp=responses({200: (LtDetections, "Best first.")}, LT_ERRORS, LtError),
    tags=["LibreTranslate"],
)
def detect_language() -> ResponseReturnValue:
    """Detect the language (LibreTranslate): Dutch or English, best first"""
    authenticate()
    q = _require(_params(), "q")
    texts = [str(t) for t in (q if isinstance(q, list) else [q])]
    check_size(services(), texts)
    ranking = detect(" ".join(texts)[:2000])
    found = [LtDetection(confidence=c, language=code).model_dump() for code, c in ranking]
    return jsonify(found)


@bp.get("/languages")
@documented(
    resp=responses({200: (LtLanguages, "Dutch into English.")}, ()), tags=["LibreTranslate"]
)
def languages() -> ResponseReturnValue:
    """The languages (LibreTranslate): Dutch, translatable into English"""
    found = [
        LtLanguage(code=TARGET, name=language_name(TARGET), targets=[]),
        LtLanguage(code=SOURCE, name=language_name(SOURCE), targets=[TARGET]),
    ]
    return jsonify([language.model_dump() for language in found])


@bp.get("/frontend/settings")
@documented(resp=responses({200: (LtSettings, "The settings.")}, ()), tags=["LibreTranslate"])
def frontend_settings() -> ResponseReturnValue:
    """What LibreTranslate's web page and clients read about the server"""
    s = services().settings
    body = LtSettings(
        charLimit=s.short_max_chars,
        frontendTimeout=500,
        apiKeys=True,
        keyRequired=s.require_api_key,
        suggestions=False,
        filesTranslation=True,
        supportedFilesFormat=list(SUPPORTED_SUFFIXES),
        language={
            "source": {"code": SOURCE, "name": language_name(SOURCE)},
            "target": {"code": TARGET, "name": language_name(TARGET)},
        },
    )
    return jsonify(body.model_dump())


@bp.post("/translate_file")
@documented(
    form=LtFileRequest,
    resp=responses({200: (LtFileTranslation, "Where to download it.")}, LT_ERRORS, LtError),
    tags=["LibreTranslate"],
)
def translate_file() -> ResponseReturnValue:
    """Translate a file (LibreTranslate): .txt .md .html .htm .docx, into the same kind

    Answers `translatedFileUrl`, where the translated file can be downloaded.
    """
    key = authenticate()
    upload = request.files.get("file")
    for name in ("source", "target"):
        if not request.form.get(name):
            raise Refusal(400, f"Invalid request: missing {name} parameter")
    if upload is None or not upload.filename:
        raise Refusal(400, "Invalid request: missing file parameter")
    if not is_supported(upload.filename):
        raise Refusal(400, "Invalid request: file format not supported")
    _language_pair(request.form["source"], request.form["target"])
    name = PurePath(upload.filename.replace("\\", "/")).name
    article = ArticleRequest(
        SourceFile(name, upload.read()), JobOptions(summary=False, kind="document"), name
    )
    job = submit(services(), article, owner=new_owner().owner, key=key, unique=True).job
    # The download link is the file's capability: LibreTranslate clients fetch it as it is.
    token = secrets.token_urlsafe(24)
    services().jobs.lock(job.id, token)
    finished = _wait_for_end(job.id)
    if finished != JobStatus.DONE:
        error = services().jobs.get(job.id)
        message = error.error.message if error and error.error else "the file was not translated"
        raise Refusal(503 if finished is None else 400, message)
    stem, suffix = PurePath(name).stem, suffix_of(name)
    url = url_for(
        "libretranslate.download_file", filename=f"{job.id}.{token}.{stem}_{TARGET}{suffix}",
        _external=True,
    )  # fmt: skip
    return jsonify(LtFileTranslation(translatedFileUrl=url).model_dump())


def _wait_for_end(job_id: str) -> JobStatus | None:
    """The job's final status, or None if it did not end within the short wait."""
    deadline = time.monotonic() + services().settings.short_wait
    while time.monotonic() < deadline:
        status = services().jobs.status(job_id)
        if status is None or status.finished:
            return status
        time.sleep(0.2)
    return None


@bp.get("/download_file/<filename>")
def download_file(filename: str) -> ResponseReturnValue:
    """A translated file (LibreTranslate's `translatedFileUrl`): its link holds the file's
    own token, which is what opens it."""
    job_id, _, rest = filename.partition(".")
    token, _, shown = rest.partition(".")
    jobs = services().jobs
    found = jobs.get_file(job_id) if shown and jobs.unlocks(job_id, token) else None
    if found is None:
        abort(404, "Invalid filename")
    return attachment(found.data, found.media_type, shown)
