"""`python -m docs.generate` (`make docs`): write the parts of the docs that the code defines.

Each generated part sits between `<!-- BEGIN GENERATED: <name> -->` and `<!-- END GENERATED -->`
in its page; everything outside the markers is prose and stays as written. `.env.example` keeps
its hand-written comments: every setting's line is set to its default, and a setting missing
from it is appended. tests/test_docs.py fails when a page differs from what this writes now.

A module of the repository rather than a `vertaal` command: it writes files of this checkout,
which an installed Vertaal does not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

import click

from docs.cli_reference import cli_reference, environment_options
from docs.http_reference import http_reference
from docs.markdown import cell
from workers.settings import Settings

ROOT = Path(__file__).parents[1]
ENV_EXAMPLE = ROOT / ".env.example"
SECTION = re.compile(
    r"(?P<begin><!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n)(?P<body>.*?)"
    r"(?P<end><!-- END GENERATED -->)",
    re.S,
)


def env_value(value: Any) -> str:
    """A default as it is written in an environment variable (empty = unset)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def type_name(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{choice}`" for choice in get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return " or ".join(type_name(a) for a in get_args(annotation) if a is not NoneType)
    names = {str: "text", bool: "`true` or `false`", int: "integer", float: "number"}
    return names.get(annotation, "path" if annotation is Path else annotation.__name__)


def bounds(metadata: list[Any]) -> str:
    """pydantic's constraints (annotated_types Ge, Gt, Le, Lt) as `≥ 1, ≤ 256`."""
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    found = [
        f"{sign} {env_value(getattr(rule, name))}"
        for rule in metadata
        for name, sign in signs.items()
        if hasattr(rule, name)
    ]
    return ", ".join(found)


def settings_table() -> str:
    """Every Settings field: its variable, type and limits, default and description."""
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        kind = ", ".join(filter(None, [type_name(field.annotation), bounds(field.metadata)]))
        default = env_value(field.default)
        rows.append(
            f"| `VERTAAL_{name.upper()}` | {cell(kind)} | "
            f"{cell(f'`{default}`') if default else 'unset'} | {cell(field.description or '')} |"
        )
    return "\n".join(rows)


def cli_environment_table() -> str:
    """The command-line options that read an environment variable, with the command."""
    rows = ["| variable | command | option | meaning |", "|---|---|---|---|"]
    for context, option in environment_options():
        names = " / ".join(option.opts + option.secondary_opts)
        rows.append(
            f"| `{option.envvar}` | `{context.command_path}` | `{names}` | "
            f"{cell(option.help or '')} |"
        )
    return "\n".join(rows)


def known_variables() -> dict[str, tuple[str, str]]:
    """Every VERTAAL_* variable the code reads: name -> (default as written, description)."""
    known = {
        f"VERTAAL_{name.upper()}": (env_value(field.default), field.description or "")
        for name, field in Settings.model_fields.items()
    }
    for context, option in environment_options():
        assert isinstance(option.envvar, str)
        default = option.get_default(context, call=True)
        # Click marks "no default" with a sentinel of its own (Click 8.3) or None.
        written = env_value(default) if isinstance(default, str | int | float) else ""
        known.setdefault(option.envvar, (written, option.help or ""))
    return known


def env_example(current: str) -> str:
    """`.env.example` with every known variable set to its default, the missing ones added."""
    known, seen, lines = known_variables(), set(), []
    for line in current.splitlines():
        match = re.fullmatch(r"(VERTAAL_[A-Z0-9_]+)=.*", line)
        if match and match[1] in known:
            line = f"{match[1]}={known[match[1]][0]}"
            seen.add(match[1])
        lines.append(line)
    missing = [name for name in known if name not in seen]
    if missing:
        lines += ["", "# Added by `make docs`: move each beside its kin and say what it is for."]
        lines += [f"# {known[name][1]}\n{name}={known[name][0]}" for name in missing]
    return "\n".join(lines) + "\n"


def openapi() -> dict[str, Any]:
    """The OpenAPI document of an app built without Redis (building one connects to nothing)."""
    from service import create_app
    from service.openapi import openapi_document

    app = create_app({"secret_key": "docs", "redis_url": "redis://127.0.0.1:1/0"})
    with app.app_context():
        return openapi_document()


def generators() -> dict[str, dict[str, Callable[[], str]]]:
    """Page (relative to the repository) -> section name -> what writes the section."""
    return {
        "docs/configuration.md": {"settings": settings_table, "cli-env": cli_environment_table},
        "docs/cli.md": {"cli": cli_reference},
        "docs/api.md": {"http": lambda: http_reference(openapi())},
    }


def fill(text: str, sections: dict[str, Callable[[], str]], page: str) -> str:
    """`text` with each generated section written anew; every section must be there."""
    found = {match["name"] for match in SECTION.finditer(text)}
    if missing := set(sections) - found:
        raise SystemExit(f"{page}: no <!-- BEGIN GENERATED: {sorted(missing)[0]} --> marker")
    if unknown := found - set(sections):
        raise SystemExit(f"{page}: no generator for the section {sorted(unknown)[0]!r}")
    written = {name: make().strip() for name, make in sections.items()}
    return SECTION.sub(lambda m: f"{m['begin']}\n{written[m['name']]}\n\n{m['end']}", text)


def generated_files() -> Iterator[tuple[Path, str]]:
    """Each generated file with the text it should have now."""
    for page, sections in generators().items():
        path = ROOT / page
        yield path, fill(path.read_text(), sections, page)
    yield ENV_EXAMPLE, env_example(ENV_EXAMPLE.read_text())


def main() -> None:
    for path, text in generated_files():
        if path.read_text() != text:
            path.write_text(text)
            click.echo(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
