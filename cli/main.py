"""`vertaal`: translate files and folders, run the service, manage the models.

A thin client: it parses options into Settings and calls the pipeline (or a running service).
Errors become exit codes in `cli/exits.py`. Heavy modules are imported inside commands:
`vertaal serve` never loads torch.
"""

from __future__ import annotations

import sys

import click

from cli.exits import F, exits_cleanly
from cli.glossaries import glossaries
from cli.keys import keys
from cli.models import models
from cli.probes import worker_alive
from cli.translate import translate
from workers.settings import load_settings


@click.group()
@click.version_option(package_name="vertaal")
def main() -> None:
    """Vertaal: Dutch news articles to English translations and summaries."""


def listen_options(command: F) -> F:
    """--host and --port, for the commands that run the web server."""
    command = click.option(
        "--port", type=int, envvar="VERTAAL_PORT", show_envvar=True, help="Port to listen on."
    )(command)
    return click.option(
        "--host", envvar="VERTAAL_HOST", show_envvar=True, help="Address to listen on."
    )(command)


@main.command()
@listen_options
@click.option(
    "--quiet", "-q", is_flag=True, envvar="VERTAAL_QUIET", show_envvar=True,
    help="Log only warnings and errors: no line per request, no start-up lines.",
)  # fmt: skip
@exits_cleanly
def serve(host: str | None, port: int | None, quiet: bool) -> None:
    """Run the web app and job API under gunicorn (default http://127.0.0.1:8000/)."""
    from cli.serving import serve as run_server

    run_server(load_settings(host=host, port=port), quiet=quiet)


@main.command()
@click.option(
    "--processes", "-c", type=click.IntRange(1, 64), envvar="VERTAAL_WORKER_PROCESSES",
    show_envvar=True, help="Worker processes (each loads the models once).",
)  # fmt: skip
@click.option("--loglevel", default="INFO", show_default=True, help="Celery log level.")
@click.option(
    "--queues", default="vertaal,vertaal-short,vertaal-webhooks", show_default=True,
    help="The queues to take: vertaal (articles and documents), vertaal-short (LibreTranslate "
    "and DeepL texts, answered while the client waits), vertaal-webhooks (callbacks).",
)  # fmt: skip
@exits_cleanly
def worker(processes: int | None, loglevel: str, queues: str) -> None:
    """Run a Celery worker that translates queued jobs (and delivers their callbacks).

    Checks that the models are there and tells the web process what they are before it
    starts; the models themselves load in each worker process on its first job.
    """
    from workers.worker import run_worker

    taken = tuple(q.strip() for q in queues.split(",") if q.strip())
    run_worker(load_settings(worker_processes=processes), loglevel, taken)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--port", default=5555, show_default=True, help="Port Flower listens on.")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.pass_context
@exits_cleanly
def flower(context: click.Context, port: int, address: str) -> None:
    """Run Celery Flower against Vertaal's broker: every job's task, its state and runtime.

    Further options go to Flower itself (for example --basic-auth=user:password).
    """
    from workers.celery_app import create_celery

    app = create_celery(load_settings())
    app.start(["flower", f"--port={port}", f"--address={address}", *context.args])


@main.command()
@listen_options
@click.option(
    "--verbose", "-v", is_flag=True, envvar="VERTAAL_VERBOSE", show_envvar=True,
    help="Show every log line of the workers and the web server (one per request).",
)  # fmt: skip
@exits_cleanly
def up(host: str | None, port: int | None, verbose: bool) -> None:
    """Run everything on this machine: Redis (started if none answers), workers, the web app.

    Prints one line per part as it starts, the address once the service answers, and only
    warnings and errors after that (all of it with -v). Ctrl-C stops all of it.
    """
    from cli.stack import default_data_dir, run_stack
    from workers.engines.signature import output_signature

    settings = load_settings(host=host, port=port)
    output_signature(settings)  # a missing model stops everything before anything starts
    sys.exit(run_stack(settings, default_data_dir(), announce=click.echo, verbose=verbose))


main.add_command(translate)
main.add_command(models)
main.add_command(keys)
main.add_command(glossaries)
main.add_command(worker_alive)
