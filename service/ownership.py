"""Who may see a job: every job records its owner, and every read, cancel, page, download and
protocol result checks it. Another owner gets 404, never 403: a job's existence is not
disclosed to anyone who may not see it.

A job sent with an API key belongs to that key. A job sent without one (where keys are not
required) belongs to an anonymous capability: a random token kept in the sender's signed
session cookie (a browser, or any client that keeps cookies), and handed to the sender in
the job's answer (`token`), to send back in `X-Job-Token` from a script that keeps none. The
job id alone (which shows in links, logs and callbacks) is not enough. Only the token's
SHA-256 is stored. An operator key (`vertaal keys create --operator`) may read every job,
for support; each such read is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from flask import request, session

from service.auth import SESSION_KEY, current_key

log = logging.getLogger(__name__)

SESSION_FIELD = "owner"
TOKEN_HEADER = "X-Job-Token"
KEY_OWNER = "key:"
ANONYMOUS_OWNER = "anon:"
# The shortest capability taken from a client (a token it was given, or a secret of its own):
# never a guessable one.
MIN_TOKEN_CHARS = 16


def key_owner(key_id: str) -> str:
    return KEY_OWNER + key_id


def anonymous_owner(token: str) -> str:
    return ANONYMOUS_OWNER + hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewOwner:
    """The owner a new job records, and for an anonymous sender the token it holds."""

    owner: str
    token: str | None = None


def new_owner() -> NewOwner:
    """The request's key, or its anonymous capability: the one it presents (its session's,
    or an `X-Job-Token` it was given before: its jobs are all one sender's), or one made now
    and kept in its session."""
    key = current_key()
    if key is not None:
        return NewOwner(key_owner(key.id))
    presented = _tokens()
    token = presented[0] if presented else secrets.token_urlsafe(32)
    if _session_token() is None:
        session[SESSION_FIELD] = token
    return NewOwner(anonymous_owner(token), token)


def session_owner() -> str | None:
    """The owner the request's session stands for (a browser's own: the key it signed in
    with, or its anonymous token), read without touching the request's body."""
    signed_in = session.get(SESSION_KEY)
    if isinstance(signed_in, str) and signed_in:
        return key_owner(signed_in)
    token = _session_token()
    return anonymous_owner(token) if token else None


def _session_token() -> str | None:
    token = session.get(SESSION_FIELD)
    return token if isinstance(token, str) and token else None


def _tokens() -> list[str]:
    """The anonymous capabilities the request holds: its session's, and an X-Job-Token (at
    least MIN_TOKEN_CHARS)."""
    header = request.headers.get(TOKEN_HEADER, "").strip()
    presented = [_session_token(), header if len(header) >= MIN_TOKEN_CHARS else None]
    return [t for t in presented if t]


def owns(owner: str | None) -> bool:
    """Whether the request is the job's owner (its key, or a holder of its capability)."""
    if not owner:
        return False  # a job from before owners were kept: nobody's (but an operator's)
    key = current_key()
    if owner.startswith(KEY_OWNER):
        return key is not None and hmac.compare_digest(owner, key_owner(key.id))
    return any(hmac.compare_digest(owner, anonymous_owner(token)) for token in _tokens())


def may_read(job_id: str, owner: str | None) -> bool:
    """The owner may read a job; so may an operator key, and that read is logged."""
    if owns(owner):
        return True
    key = current_key()
    if key is not None and key.operator and owner is not None:
        log.info("operator key %s (%s) read job %s of %s", key.id, key.name, job_id, owner)
        return True
    return False
