"""The LibreTranslate protocol, so its clients (Mastodon, Discourse, browser extensions,
libretranslatepy, scripts) can use Vertaal unchanged: Dutch to English only.

Followed from LibreTranslate's own server (`libretranslate/app.py`): parameters as JSON or
form (query string included), `q` a string or (JSON) a list, its validation order and its
error messages, `{"error": "..."}` bodies on every path it owns (unknown ones and wrong
methods too), and CORS open as it is. Texts take Vertaal's short path (`service/short.py`),
each text identified on its own with `source=auto`: English comes back unchanged (as
LibreTranslate's identity translation does), other languages are refused in its words. Files
become document jobs. API keys (`api_key`) are Vertaal's own. Vertaal's extensions, which
LibreTranslate's clients ignore: a `glossary_id` field, and `vertaalChecks` in the answer.
"""

from __future__ import annotations

import secrets
import time
from pathlib import PurePath
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service.auth import AuthError, authenticate
from service.context import services
from service.downloads import attachment
from service.errors import PROTOCOL_PATHS, PROTOCOL_SHAPES, Refusal
from service.openapi import documented, responses
from service.ownership import new_owner
from service.protocol_schemas import (
    LtDetection,
    LtDetections,
    LtDetectRequest,
    LtError,
    LtFileRequest,
    LtFileTranslation,
    LtLanguage,
    LtLanguages,
    LtSettings,
    LtSuggestRequest,
    LtTranslateRequest,
    LtTranslation,
)
from service.schemas import Health
from service.short import billed, check_unicode, first_refused, languages, translate_some
from service.submission import ArticleRequest, submit
from workers.errors import InputError, NotDutchError, VertaalError
from workers.glossaries import GlossaryNotFoundError
from workers.jobs.record import JobOptions, JobStatus
from workers.pipeline.article import SourceFile
from workers.pipeline.language import (
    SOURCE,
    TARGET,
    Identified,
    identify,
    language_name,
    visible_text,
)
from workers.pipeline.reading import SUPPORTED_SUFFIXES, is_supported, suffix_of

bp = Blueprint("libretranslate", __name__)

# What LibreTranslate answers besides 200: bad requests and missing keys (400), a bad key or
# an exhausted quota (403), too many requests (429); and Vertaal's own: an unknown glossary
# (404), 503 when no worker answers within the wait.
LT_ERRORS = (400, 403, 404, 429, 503)
# Texts in one request (LibreTranslate's --batch-limit); each text may hold the settings'
# short_max_chars (its --char-limit, announced as charLimit).
BATCH_LIMIT = 50
# A translated file's download, asked for before the file is done, is asked again after this.
RETRY_AFTER = "5"

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
PROTOCOL_PATHS["libretranslate"] = (
    "/translate", "/translate_file", "/detect", "/languages", "/frontend", "/download_file",
    "/suggest", "/health",
)  # fmt: skip


@bp.errorhandler(AuthError)
def unauthorized(error: AuthError) -> Response:
    if error.code == "api_key_required":  # LibreTranslate answers a missing key with 400
        return _error(400, "Please contact the server operator to get an API key")
    return _error(403, "Invalid API key" if error.code == "invalid_api_key" else error.message)


@bp.errorhandler(VertaalError)
def vertaal_error(error: VertaalError) -> Response:
    if isinstance(error, NotDutchError) and error.language:  # a file in another language
        return _error(400, _not_from(error.language))
    if isinstance(error, GlossaryNotFoundError):
        return _error(404, str(error))
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


def _texts(q: Any) -> list[str]:
    """`q` as a list of texts, within LibreTranslate's batch and per-text limits."""
    texts = q if isinstance(q, list) else [q]
    if not all(isinstance(text, str) for text in texts):
        raise Refusal(400, "Invalid request: q must be a string or a list of strings")
    check_unicode(texts)
    if len(texts) > BATCH_LIMIT:
        raise Refusal(
            400, f"Invalid request: request ({len(texts)}) exceeds text limit ({BATCH_LIMIT})"
        )
    limit = services().settings.short_max_chars
    for text in texts:
        if len(text) > limit:
            raise Refusal(
                400, f"Invalid request: request ({len(text)}) exceeds text limit ({limit})"
            )
    return texts


def _not_from(language: str) -> str:
    """LibreTranslate's words for a pair it cannot translate, naming both languages."""
    return (
        f"{language_name(TARGET)} ({TARGET}) is not available as a target language from "
        f"{language_name(language)} ({language})"
    )


def _source(source: str, target: str) -> str | None:
    """The source language to take the texts in (None: detect each); refuses what Vertaal
    cannot do. English into English is LibreTranslate's identity translation."""
    source, target = source.lower(), target.lower()
    if source not in (SOURCE, TARGET, "auto"):
        raise Refusal(400, f"{source} is not supported")
    if target != TARGET:
        if target == SOURCE:
            named = "Dutch" if source == "auto" else language_name(source)
            raise Refusal(
                400,
                f"Dutch (nl) is not available as a target language from {named} ({source})",
            )
        raise Refusal(400, f"{target} is not supported")
    return None if source == "auto" else source


def _glossary(params: dict[str, Any]) -> str | None:
    """The version (digest) of the glossary the request names (Vertaal's extension), if the
    sender may use it: its own (its key's, or its session's) or a global one."""
    glossary_id = params.get("glossary_id")
    if glossary_id in (None, ""):
        return None
    if not isinstance(glossary_id, str):
        raise Refusal(400, "Invalid request: glossary_id must be a string")
    return services().glossaries.usable(glossary_id, new_owner().owner).digest


def _detected(found: Identified) -> dict[str, Any]:
    """As LibreTranslate reports a text without letters: English, with no confidence."""
    return {"confidence": found.confidence, "language": found.code or TARGET}


@bp.post("/translate")
@documented(
    json=LtTranslateRequest,
    form=LtTranslateRequest,
    resp=responses({200: (LtTranslation, "The translation.")}, LT_ERRORS, LtError),
    tags=["LibreTranslate"],
)
def translate() -> ResponseReturnValue:
    """Translate text (LibreTranslate)

    `q` is a string, or with JSON a list of strings; `source` is `nl`, or `auto` to identify
    each text (English comes back unchanged, other languages are refused); `target` `en`;
    `format` is `text` or `html` (markup kept). Answers `translatedText` (a list for a
    list), with `detectedLanguage` for `auto`. Vertaal's extensions: `glossary_id` enforces
    a glossary's terms; `vertaalChecks` says what the checks found in the translation.
    """
    key = authenticate()
    params = _params()
    q = _require(params, "q")
    source, target = str(_require(params, "source")), str(_require(params, "target"))
    try:
        alternatives = int(params.get("alternatives") or 0)
    except (TypeError, ValueError):
        raise Refusal(400, "Invalid request: alternatives parameter is not a number") from None
    texts = _texts(q)
    if not isinstance(q, list):
        texts = ["\n".join(texts[0].splitlines())]
    taken_as = _source(source, target)
    text_format = str(params.get("format") or "text")
    if text_format not in FORMATS:
        raise Refusal(400, f"{text_format} format is not supported")
    html = text_format == "html"
    found = languages(texts, taken_as, lambda text: visible_text(text, markup=html))
    refused = first_refused(found)
    if refused is not None and refused.code:
        raise Refusal(400, _not_from(refused.code))
    glossary = _glossary(params)
    chosen = [f.code == SOURCE for f in found]
    translated_chars = sum(len(t) for t, pick in zip(texts, chosen, strict=True) if pick)
    with billed(services(), key, translated_chars):
        done = translate_some(services(), texts, chosen, html=html, glossary=glossary)
    body: dict[str, Any] = {"translatedText": done.texts if isinstance(q, list) else done.texts[0]}
    checks = done.checks or []
    if any(checks):
        body["vertaalChecks"] = checks if isinstance(q, list) else checks[0]
    if taken_as is None:
        detections = [_detected(f) for f in found]
        body["detectedLanguage"] = detections if isinstance(q, list) else detections[0]
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
    """Identify the language (LibreTranslate): up to three candidates, best first

    For a list, the candidates of all its texts, weighted by their lengths (as LibreTranslate
    does). A text without letters is English with confidence 0, as LibreTranslate says.
    """
    authenticate()
    texts = [str(t) for t in _texts(_require(_params(), "q"))]
    weights: dict[str, float] = {}
    total = sum(len(text) for text in texts) or 1
    for text in texts:
        found = identify(text)
        if found.code is not None:
            for code, confidence in ((found.code, found.confidence), *found.others):
                weights[code] = weights.get(code, 0.0) + confidence * len(text) / total
    ranked = sorted(weights.items(), key=lambda item: item[1], reverse=True)[:3]
    best = [LtDetection(confidence=round(c, 1), language=code) for code, c in ranked]
    return jsonify([d.model_dump() for d in best or [LtDetection(confidence=0, language=TARGET)]])


@bp.get("/languages")
@documented(
    resp=responses({200: (LtLanguages, "Dutch into English.")}, ()), tags=["LibreTranslate"]
)
def languages_offered() -> ResponseReturnValue:
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


@bp.get("/health")
@documented(resp=responses({200: (Health, "Up.")}, ()), tags=["LibreTranslate"])
def health() -> ResponseReturnValue:
    """LibreTranslate's health check: `{"status": "ok"}` while the web answers"""
    return jsonify(Health().model_dump())


@bp.post("/suggest")
@documented(
    json=LtSuggestRequest,
    form=LtSuggestRequest,
    resp=responses({}, (403,), LtError),
    tags=["LibreTranslate"],
)
def suggest() -> ResponseReturnValue:
    """Suggest a better translation (LibreTranslate): not taken here (403, as a server with
    suggestions off answers)"""
    raise Refusal(403, "Suggestions are disabled on this server.")


@bp.post("/translate_file")
@documented(
    form=LtFileRequest,
    resp=responses({200: (LtFileTranslation, "Where to download it.")}, LT_ERRORS, LtError),
    tags=["LibreTranslate"],
)
def translate_file() -> ResponseReturnValue:
    """Translate a file (LibreTranslate): .txt .md .html .htm .docx, into the same kind

    Answers `translatedFileUrl` once the file is translated, or when the wait
    (VERTAAL_SHORT_WAIT) is over: the URL then answers 503 with `Retry-After` until the file
    is ready. Vertaal's extension: `glossary_id` enforces a glossary's terms.
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
    _source(request.form["source"], request.form["target"])
    name = PurePath(upload.filename.replace("\\", "/")).name
    article = ArticleRequest(
        SourceFile(name, upload.read()), JobOptions(summary=False, kind="document"), name,
        glossary_id=request.form.get("glossary_id") or None,
    )  # fmt: skip
    job = submit(services(), article, owner=new_owner().owner, key=key, unique=True).job
    # The download link is the file's capability: LibreTranslate clients fetch it as it is.
    token = secrets.token_urlsafe(24)
    services().jobs.lock(job.id, token)
    if _wait_for_end(job.id) is JobStatus.FAILED:
        ended = services().jobs.get(job.id)
        raise Refusal(400, ended.error.message if ended and ended.error else "not translated")
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
    """A translated file (LibreTranslate's `translatedFileUrl`), opened by the file's own
    token in its link; 503 while it is translated."""
    job_id, _, rest = filename.partition(".")
    token, _, shown = rest.partition(".")
    jobs = services().jobs
    opens = bool(shown) and jobs.unlocks(job_id, token)
    job = jobs.get(job_id, with_result=False) if opens else None
    if job is None or job.options.kind != "document":
        raise Refusal(404, "Invalid filename")
    if not job.status.finished:
        response = _error(503, "The file is still being translated; try again in a few seconds")
        response.headers["Retry-After"] = RETRY_AFTER
        return response
    found = services().jobs.get_file(job_id)
    if found is None:
        message = job.error.message if job.error else "the file was not translated"
        raise Refusal(404 if job.status is JobStatus.DONE else 400, message)
    return attachment(found.data, found.media_type, shown)
