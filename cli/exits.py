"""Exit codes, and the one place that turns errors into a message and a code:
0 all done, 1 some articles failed, 2 Vertaal cannot run as configured (model missing, bad
setting, Redis or service unreachable, port taken), 130 interrupted."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from rich.console import Console

from workers.connections import RedisUnavailable
from workers.errors import VertaalError

EXIT_FAILED_ARTICLES = 1
EXIT_CANNOT_RUN = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])
stderr = Console(stderr=True)


def error(message: str, label: str = "Error:") -> None:
    stderr.print(f"[bold red]{label}[/] {message}", highlight=False)


def exits_cleanly(command: F) -> F:
    """Turn configuration, model and connection errors into one readable message and exit 2."""

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
        except KeyboardInterrupt:
            stderr.print("Interrupted; finished outputs are kept, none is half-written.")
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]
