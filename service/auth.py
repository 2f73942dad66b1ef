"""API keys on requests: which key a request presents, and whether it may go on.

A key comes as `Authorization: Bearer <key>` (Vertaal's API), `Authorization: DeepL-Auth-Key
<key>` (the DeepL protocol) or an `api_key` field (the LibreTranslate protocol): all map onto
the same keys (`vertaal keys create`). A key that is presented must be valid, whether or not
keys are required; with VERTAAL_REQUIRE_API_KEY every call needs one.
"""

from __future__ import annotations

from typing import Any

from flask import g, request, session

from service.context import services
from workers.operations.keys import ApiKey, KeyStore

AUTH_SCHEMES = ("Bearer", "DeepL-Auth-Key")


class AuthError(Exception):
    """Refused for want of a (good) key, or over its quota: status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def presented_key() -> str | None:
    """The key in the Authorization header, or in an `api_key` field (query, form or JSON), or
    in DeepL's legacy `auth_key` field (query or form, as older DeepL integrations send it)."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme in AUTH_SCHEMES and credential.strip():
        return credential.strip()
    field: Any
    if request.is_json:
        body = request.get_json(silent=True)
        field = body.get("api_key") if isinstance(body, dict) else None
    else:
        field = request.values.get("api_key") or request.values.get("auth_key")
    return field if isinstance(field, str) and field else None


# The key a browser signed in with on the web pages (its id, in the signed session cookie).
SESSION_KEY = "key_id"
# Where a signed-in session stands for its key: the web pages alone. Never the API or the
# protocols, whose form posts a cookie must not authenticate (cross-site requests carry it).
SESSION_BLUEPRINTS = ("web",)


def current_key() -> ApiKey | None:
    """The request's valid, unrevoked key, if it presents one (looked up once per request);
    on the web pages, also the key its browser signed in with."""
    if "api_key" not in g:
        key = presented_key()
        store = KeyStore(services().queue)
        record = store.find(key) if key else None
        if key is None and request.blueprint in SESSION_BLUEPRINTS:
            signed_in = session.get(SESSION_KEY)
            record = store.get(signed_in) if isinstance(signed_in, str) else None
        g.api_key = record if record is not None and not record.revoked else None
        g.api_key_refused = key is not None and g.api_key is None
    found: ApiKey | None = g.api_key
    return found


def signed_in() -> ApiKey | None:
    """The valid, unrevoked key the browser's session signed in with, read without touching
    the request's body (which may be what is wrong: too large)."""
    key_id = session.get(SESSION_KEY)
    record = KeyStore(services().queue).get(key_id) if isinstance(key_id, str) else None
    return record if record is not None and not record.revoked else None


def sign_in(key: str) -> ApiKey | None:
    """Keep the key's id in the browser's session (the web pages then act as the key), if it
    is a valid one; None if not."""
    record = KeyStore(services().queue).find(key.strip()) if key.strip() else None
    if record is None or record.revoked:
        return None
    session[SESSION_KEY] = record.id
    g.api_key, g.api_key_refused = record, False
    return record


def sign_out() -> None:
    session.pop(SESSION_KEY, None)
    g.pop("api_key", None)


def authenticate() -> ApiKey | None:
    """The request's key, or AuthError: a bad key (401), or none where one is required
    (401). Quotas are checked when a request's characters are reserved (submission)."""
    record = current_key()
    if g.api_key_refused:
        raise AuthError(401, "invalid_api_key", "this API key is not valid or has been revoked")
    if record is None and services().settings.require_api_key:
        raise AuthError(401, "api_key_required", "send an API key: Authorization: Bearer <key>")
    return record
