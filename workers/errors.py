"""The errors Vertaal raises, each one a message a user can act on.

The core raises these; each class names its stable `code` and the HTTP status it stands for,
so the service (answering) and the client (reading an answer back) share one map. The CLI maps
them to exit codes in `cli/main.py`.
"""

from __future__ import annotations

from billiard.exceptions import SoftTimeLimitExceeded

# Exceptions that stop work from outside (Celery's soft time limit, raised wherever the worker
# happens to be): a broad `except Exception` around a library call must let them through.
INTERRUPTIONS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded,)


class VertaalError(Exception):
    """Base class: `code` is a stable machine-readable name, `str(error)` the human message,
    `http_status` what the API answers when a request causes it."""

    code = "error"
    http_status = 500


class InputError(VertaalError):
    """The article itself is unusable; other articles are unaffected."""

    code = "bad_input"
    http_status = 400


class EmptyArticleError(InputError):
    code = "empty_article"


class UndecodableError(InputError):
    code = "undecodable"


class UnsupportedFormatError(InputError):
    code = "unsupported_format"
    http_status = 415


class NotDutchError(InputError):
    code = "not_dutch"
    http_status = 422

    def __init__(self, message: str, looks_like: str = "", language: str | None = None) -> None:
        super().__init__(message)
        # What the text looks like ("English (en, 99% sure)"), for a page that words the
        # way out in its own terms (a checkbox) rather than the CLI's or the API's.
        self.looks_like = looks_like
        # The same as an ISO 639 code, when the check could tell (a protocol names it).
        self.language = language


class ArticleTooLargeError(InputError):
    code = "too_large"
    http_status = 413


class GlossaryError(InputError):
    """A glossary that cannot be used as given: the message names the line and the problem."""

    code = "bad_glossary"


class GlossaryTooLargeError(GlossaryError):
    code = "glossary_too_large"
    http_status = 413


class JobFailedError(VertaalError):
    """A job for one article ended without a result (a timeout, a cancel, a crash)."""

    code = "job_failed"


class ModelUnavailableError(VertaalError):
    """A configured model cannot be loaded; nothing can be translated until it is fixed."""

    code = "model_unavailable"
    http_status = 503


class ConfigurationError(VertaalError):
    """Settings that cannot work together; refused at start rather than failing later."""

    code = "bad_configuration"


class CancelledError(VertaalError):
    """Raised from a progress callback to stop an article between batches."""

    code = "cancelled"


class JobTimeoutError(VertaalError):
    """Raised from a progress callback when an article has run past its own time limit."""

    code = "timeout"


def _subclasses(kind: type[VertaalError]) -> list[type[VertaalError]]:
    found = [kind]
    for sub in kind.__subclasses__():
        found += _subclasses(sub)
    return found


def error_from_code(code: str, message: str) -> VertaalError:
    """The error an API answer names by its code (the base class for codes not listed here),
    so a client raises what the server raised."""
    by_code = {kind.code: kind for kind in _subclasses(VertaalError)}
    return by_code.get(code, VertaalError)(message)
