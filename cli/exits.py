"""Exit codes, and the one place that turns errors and stop signals into a message and a code:
0 all done, 1 some articles failed, 2 Vertaal cannot run as configured (model missing, bad
setting, Redis or service unreachable, port taken), 130 interrupted by Ctrl-C (SIGINT), 143
stopped by SIGTERM. Either signal stops a run the same way: what is in flight is cancelled,
finished outputs are kept, nothing is left half-written."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

from pydantic import ValidationError
from rich.console import Console

from workers.connections import RedisUnavailable
from workers.errors import VertaalError

EXIT_FAILED_ARTICLES = 1
EXIT_CANNOT_RUN = 2
# The shell's convention: 128 plus the signal's number.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt: every cleanup that handles one
    (cancelling jobs, removing temporary files) handles both."""


# The signal that stopped this run. A library may catch a KeyboardInterrupt and raise a plain
# one again (watchfiles does), so the exit code is chosen from this, not from the exception.
_stopped_by: list[signal.Signals] = []


def _terminate(number: int, frame: FrameType | None) -> None:
    _stopped_by.append(signal.SIGTERM)
    # A second SIGTERM (an impatient supervisor) must not cut the cleanup of the first short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


def _interrupt(number: int, frame: FrameType | None) -> None:
    _stopped_by.append(signal.SIGINT)
    raise KeyboardInterrupt


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Within it, SIGINT and SIGTERM both raise a KeyboardInterrupt in the main thread.

    A script that starts a command in the background (`vertaal translate ... &`) without job
    control hands it SIGINT ignored, so `kill -INT` would do nothing: both handlers are set
    here explicitly, and the previous ones restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives the signals)
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    _stopped_by.clear()
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def error(message: str, label: str = "Error:") -> None:
    stderr.print(f"[bold red]{label}[/] {message}", highlight=False)


def _stopped(stop: KeyboardInterrupt) -> int:
    """The message and exit code of a run stopped by a signal."""
    terminated = isinstance(stop, Terminated) or signal.SIGTERM in _stopped_by
    _stopped_by.clear()
    what = "Stopped by SIGTERM" if terminated else "Interrupted"
    stderr.print(f"{what}; finished outputs are kept, none is half-written.", highlight=False)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def exits_cleanly(command: F) -> F:
    """Turn configuration, model and connection errors into one readable message and exit 2;
    a stop signal into exit 130 (SIGINT) or 143 (SIGTERM)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except VertaalError as problem:
            error(str(problem))
            sys.exit(EXIT_CANNOT_RUN)
        except RedisUnavailable as problem:
            error(f"Redis is not answering: {problem}")
            sys.exit(EXIT_CANNOT_RUN)
        except ValidationError as problem:
            problems = "; ".join(
                f"VERTAAL_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in problem.errors()
            )
            error(problems, "Invalid setting:")
            sys.exit(EXIT_CANNOT_RUN)
        except KeyboardInterrupt as stop:
            sys.exit(_stopped(stop))

    return wrapper  # type: ignore[return-value]
