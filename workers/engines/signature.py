"""What decides an article's result, found without loading a model.

The signature names each model with its version (hub revision, or a fingerprint of a local
directory's files), the generation settings and the backend, so an upgraded model or a changed
setting changes every cache key and every CLI fingerprint. Its digests (`model_digests`) are
what the service publishes: the same facts without file-system paths.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from workers.engines.loading import resolve_model
from workers.engines.runtime import runtime
from workers.errors import ModelUnavailableError
from workers.pipeline.terms.names import builtin_names
from workers.settings import Settings

ROLES = ("translation", "summary")


def _model_settings(settings: Settings, role: str) -> dict[str, Any]:
    if role == "translation":
        return {"model": settings.translation_model, "num_beams": settings.num_beams}
    return {
        "model": settings.summary_model,
        "num_beams": settings.summary_beams,
        "min_tokens": settings.summary_min_tokens,
        "max_tokens": settings.summary_max_tokens,
    }


def check_models(settings: Settings, roles: tuple[str, ...]) -> dict[str, str]:
    """Each role's model revision; one error naming every model that is missing."""
    revisions, problems = {}, []
    for role in roles:
        ref = _model_settings(settings, role)["model"]
        try:
            revisions[role] = resolve_model(ref, role).revision
        except ModelUnavailableError as error:
            problems.append(str(error))
    if problems:
        raise ModelUnavailableError("\n\n".join(problems))
    return revisions


def output_signature(settings: Settings, *, summary: bool | None = None) -> dict[str, Any]:
    """The "translation" part alone decides single-sentence translations; the "summary" part
    is there when `summary` (default: the `summary` setting) is true."""
    roles = ROLES if (settings.summary if summary is None else summary) else ROLES[:1]
    revisions = check_models(settings, roles)
    chosen = runtime(settings)
    backend: dict[str, Any] = {"engine": chosen.engine}
    if chosen.engine == "ctranslate2":
        backend["compute_type"] = chosen.compute_type
    signature: dict[str, Any] = {
        role: {**_model_settings(settings, role), "revision": revisions[role], **backend}
        for role in roles
    }
    signature["max_sentence_tokens"] = settings.max_sentence_tokens
    # The names list enforced under every glossary: a changed list is a changed result.
    signature["names"] = builtin_names().digest if settings.names else None
    return signature


def worker_signature(settings: Settings) -> dict[str, Any]:
    """The signature of a worker's results. A job may ask for a summary even when
    VERTAAL_SUMMARY is off, so the summary model is part of it whenever it is installed:
    otherwise a changed summary model would keep its predecessor's cached summaries."""
    try:
        return output_signature(settings, summary=True)
    except ModelUnavailableError:
        if settings.summary:
            raise
        return output_signature(settings, summary=False)


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def model_digests(signature: Mapping[str, Any]) -> dict[str, str]:
    """Per role, a digest of what decides that part of a result (sentence length limit
    included), safe to show: it names no path."""
    shared = [signature.get("max_sentence_tokens"), signature.get("names")]
    return {role: digest([signature[role], *shared]) for role in ROLES if role in signature}
