"""Logs from web and worker, plain for a terminal or one JSON object per line, each record
carrying the request id and job id it belongs to, so one job can be followed from the request
that sent it to the worker that ran it.

The request id comes from the `X-Request-ID` header (or is made), travels to the worker in
the Celery message's headers, and is bound there while the task runs. Article text never
reaches the logs: Celery's own task records carry the task's arguments and return value in a
`data` field, which is left out.
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)
# A client's X-Request-ID is kept only when it looks like an id (no log injection).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
CELERY_HEADER = "request_id"


def new_request_id(incoming: str | None) -> str:
    return incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds request_id and job_id to every record (on the handler: third-party loggers too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        return True


def _json_formatter() -> dict[str, Any]:
    from pythonjsonlogger.core import RESERVED_ATTRS

    return {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        # Celery's task records hold the article in `data` (args, return value): never log it.
        "reserved_attrs": [*RESERVED_ATTRS, "data"],
    }


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    plain = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    formatter = _json_formatter() if log_format == "json" else {"format": plain}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"vertaal": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "vertaal",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
    }


def configure_logging(log_format: str, level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(log_format, level))


def connect_celery_logging(log_format: str, level: str) -> None:
    """In a worker: Vertaal's logging instead of Celery's, and each task's request id bound
    from its message headers (set in the web process by `attach_request_id`)."""
    from celery import signals

    def setup(**_: Any) -> None:
        configure_logging(log_format, level)

    def bind(task: Any = None, args: Any = None, **_: Any) -> None:
        request_id_var.set(getattr(task.request, CELERY_HEADER, None) if task else None)
        job_id_var.set(args[0] if args else None)

    def unbind(**_: Any) -> None:
        request_id_var.set(None)
        job_id_var.set(None)

    signals.setup_logging.connect(setup, weak=False)
    signals.task_prerun.connect(bind, weak=False)
    signals.task_postrun.connect(unbind, weak=False)


def attach_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Celery's before_task_publish: the current request id rides along with the message."""
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(CELERY_HEADER, request_id)
