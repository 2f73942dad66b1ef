"""The `vertaal` command line as Markdown, walked from its Click commands."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import click

from cli.main import main
from docs.markdown import cell, prose

WIDTH = 100  # fixed, so the reference never depends on the terminal that writes it


def walk(
    command: click.Command, parent: click.Context | None = None, name: str = "vertaal"
) -> Iterator[click.Context]:
    """A context for `command` and for each of its subcommands, depth first, in name order."""
    context = click.Context(
        command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH
    )
    yield context
    if isinstance(command, click.Group):
        for sub in command.list_commands(context):
            found = command.get_command(context, sub)
            if found is not None and not found.hidden:
                yield from walk(found, context, sub)


def help_text(command: click.Command) -> str:
    """The command's help as Click shows it: up to `\\f`, without `\\b` markers."""
    text = inspect.cleandoc(command.help or "").split("\f")[0]
    return prose("\n".join(line for line in text.splitlines() if line.strip() != "\b"))


def options(context: click.Context) -> list[click.Option]:
    """The command's options, --help left out (every command has it)."""
    return [
        param
        for param in context.command.get_params(context)
        if isinstance(param, click.Option) and not set(param.opts) <= set(context.help_option_names)
    ]


def section(context: click.Context) -> str:
    command = context.command
    usage = " ".join([context.command_path, *command.collect_usage_pieces(context)])
    parts = [f"### {context.command_path}", f"```text\n{usage}\n```", help_text(command)]
    if isinstance(command, click.Group):
        rows = ["| command | does |", "|---|---|"]
        for sub in command.list_commands(context):
            found = command.get_command(context, sub)
            if found is not None and not found.hidden:
                summary = found.get_short_help_str(limit=WIDTH)
                rows.append(f"| [`{sub}`](#{context.command_path.replace(' ', '-')}-{sub}) | "
                            f"{cell(summary)} |")  # fmt: skip
        parts.append("\n".join(rows))
    records = [record for o in options(context) if (record := o.get_help_record(context))]
    if records:
        rows = ["| option | meaning |", "|---|---|"]
        rows += [f"| `{cell(names)}` | {cell(meaning)} |" for names, meaning in records]
        parts.append("\n".join(rows))
    return "\n\n".join(part for part in parts if part)


def cli_reference() -> str:
    """Every command: usage, help, subcommands, and options with their environment twins."""
    return "\n\n".join(section(context) for context in walk(main))


def environment_options() -> Iterator[tuple[click.Context, click.Option]]:
    """(its command's context, option) for each option that reads an environment variable."""
    for context in walk(main):
        for option in options(context):
            if isinstance(option.envvar, str):
                yield context, option
