"""How the DeepL door reads a request: its parameters (JSON, or a form with repeated fields)
and DeepL's checks of them, answered in DeepL's words ("Parameter 'text' not specified.",
"Value for 'target_lang' not supported.")."""

from __future__ import annotations

from typing import Any, TypeVar, get_args

from flask import request
from pydantic import BaseModel, ValidationError

from service.errors import Refusal
from service.protocol_schemas import DlTranslateRequest, Formality

TARGETS = {"EN": "English", "EN-GB": "English (British)", "EN-US": "English (American)"}
SOURCES = ("NL", "EN")  # English only gives the text back as it is
MAX_TEXTS = 50
# Resources DeepL offers that Vertaal does not have: a request naming one is refused rather
# than translated without it.
NOT_OFFERED = ("style_id", "translation_memory_id", "custom_instructions")
REPEATED = ("text", "non_splitting_tags", "splitting_tags", "ignore_tags")

Body = TypeVar("Body", bound=BaseModel)


def params() -> dict[str, Any]:
    """The request's parameters: a JSON object, or query string and form (with `text` and
    the tag lists repeated)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Refusal(400, "The request body must be a JSON object")
        return body
    found: dict[str, Any] = {**request.args.to_dict(), **request.form.to_dict()}
    for name in REPEATED:
        values = request.form.getlist(name) or request.args.getlist(name)
        if values:
            found[name] = values
    return found


def flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes", "on")


def check_formality(formality: Any, target: str) -> None:
    """English has no formal and informal forms: DeepL refuses `more` and `less` for it and
    takes `prefer_more` and `prefer_less` as "where the language has them"."""
    if str(formality or "").lower() in ("more", "less") and target in TARGETS:
        raise Refusal(
            400, f"Target language {target} does not support formality; leave it out, or "
            "use prefer_more or prefer_less",
        )  # fmt: skip


def refuse_not_offered(found: dict[str, Any]) -> None:
    for name in NOT_OFFERED:
        if found.get(name):
            raise Refusal(400, f"Value for '{name}' not supported: this server has none.")


def dl_validated(model: type[Body], found: dict[str, Any]) -> Body:
    """`found` as `model`, or the refusal of its first problem in DeepL's words: a required
    parameter missing or empty is "not specified", any other wrong value "not supported"."""
    try:
        return model.model_validate(found)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "body"
        known = model.model_fields.get(field)
        empty = known is not None and known.is_required() and not found.get(field)
        if first["type"] == "missing" or empty:
            raise Refusal(400, f"Parameter '{field}' not specified.") from None
        raise Refusal(400, f"Value for '{field}' not supported.") from None


def text_request(found: dict[str, Any]) -> DlTranslateRequest:
    """A `/v2/translate` request as DeepL reads it, or its refusal in DeepL's words."""
    texts = found.get("text")
    if isinstance(texts, list) and len(texts) > MAX_TEXTS:
        raise Refusal(413, f"Too many texts: at most {MAX_TEXTS} per request")
    options = dl_validated(DlTranslateRequest, found)
    refuse_not_offered(found)
    check_formality(options.formality, options.target_lang)
    return options


def document_languages(found: dict[str, Any]) -> str | None:
    """A document's languages checked as for texts; its source language (None: identify)."""
    source = str(found.get("source_lang") or "").upper() or None
    if source is not None and source not in SOURCES:
        raise Refusal(400, "Value for 'source_lang' not supported.")
    target = str(found.get("target_lang") or "").upper()
    if not target:
        raise Refusal(400, "Parameter 'target_lang' not specified.")
    if target not in TARGETS:
        raise Refusal(400, "Value for 'target_lang' not supported.")
    formality = str(found.get("formality") or "").lower()
    if formality and formality not in get_args(Formality):
        raise Refusal(400, "Value for 'formality' not supported.")
    check_formality(formality, target)
    refuse_not_offered(found)
    return source
