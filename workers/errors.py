"""The errors Vertaal raises, each one a message a user can act on.

The core raises these; the CLI maps them to exit codes and the API to HTTP statuses, each in
exactly one place (`service/cli.py`, `service/errors.py`).
"""

from __future__ import annotations

from billiard.exceptions import SoftTimeLimitExceeded

# Exceptions that stop work from outside (Celery's soft time limit, raised wherever the worker
# happens to be): a broad `except Exception` around a library call must let them through.
INTERRUPTIONS: tuple[type[BaseException], ...] = (SoftTimeLimitExceeded,)


class VertaalError(Exception):
    """Base class: `code` is a stable machine-readable name, `str(error)` the human message."""

    code = "error"


class InputError(VertaalError):
    """The article itself is unusable; other articles are unaffected."""

    code = "bad_input"


class EmptyArticleError(InputError):
    code = "empty_article"


class UndecodableError(InputError):
    code = "undecodable"


class UnsupportedFormatError(InputError):
    code = "unsupported_format"


class NotDutchError(InputError):
    code = "not_dutch"


class ArticleTooLargeError(InputError):
    code = "too_large"


class JobFailedError(VertaalError):
    """A job for one article ended without a result (a timeout, a cancel, a crash)."""

    code = "job_failed"


class ModelUnavailableError(VertaalError):
    """A configured model cannot be loaded; nothing can be translated until it is fixed."""

    code = "model_unavailable"


class ConfigurationError(VertaalError):
    """Settings that cannot work together; refused at start rather than failing later."""

    code = "bad_configuration"


class CancelledError(VertaalError):
    """Raised from a progress callback to stop an article between batches."""

    code = "cancelled"
