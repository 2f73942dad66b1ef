"""`vertaal serve`: the web app under gunicorn, with the folder for its metrics made first and
removed when it stops.

prometheus_client chooses where it keeps its figures when it is first imported, and importing
anything from `service` imports it (the app's HTTP metrics). Its multiprocess mode, which sums
the figures of every web process, needs PROMETHEUS_MULTIPROC_DIR set before then: so it is set
here, before `service` is imported. Otherwise each web process keeps its HTTP figures to
itself and /metrics shows none.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from workers.settings import Settings

log = logging.getLogger(__name__)

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _scratch() -> Path:
    """Memory-backed where the system has it: the figures are rewritten at every request."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() else Path(tempfile.gettempdir())


def serve(settings: Settings, *, quiet: bool = False) -> None:
    """Run the web server until it is stopped; a metrics folder it made is removed then."""
    own = METRICS_DIR not in os.environ
    master = os.getpid()
    if own:
        if "prometheus_client" in sys.modules:
            log.warning("prometheus_client was imported first: /metrics will lack HTTP figures")
        os.environ[METRICS_DIR] = str(_scratch() / f"vertaal-metrics-{os.getpid()}")
    try:
        from service.server import serve as run_server

        run_server(settings, quiet=quiet)
    finally:
        # Only the process that made it: a web process gunicorn forked from here and then
        # recycles (max_requests) or stops unwinds through this same frame, while its
        # siblings and its replacement still write their figures there.
        if own and os.getpid() == master:
            shutil.rmtree(os.environ.pop(METRICS_DIR), ignore_errors=True)
