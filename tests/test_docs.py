"""The documentation: generated references match the code, links resolve, the README is short."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from docs.generate import ENV_EXAMPLE, ROOT, env_example, fill, generated_files, known_variables
from docs.markdown import anchors

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Pages that other branches write, linked from here before they are merged (none now).
WRITTEN_ELSEWHERE: set[Path] = set()
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return dict(generated_files())


@pytest.mark.parametrize(
    "path",
    ["docs/configuration.md", "docs/cli.md", "docs/api.md", ".env.example"],
)
def test_generated_parts_match_the_code(generated: dict[Path, str], path: str) -> None:
    written, expected = (ROOT / path).read_text(), generated[ROOT / path]
    before, after = written.splitlines(keepends=True), expected.splitlines(keepends=True)
    diff = "".join(difflib.unified_diff(before, after, "as written", "from the code", n=1))
    assert written == expected, f"{path} is out of date: run make docs\n{diff[:3000]}"


def test_every_generated_file_is_checked(generated: dict[Path, str]) -> None:
    checked = {"docs/configuration.md", "docs/cli.md", "docs/api.md", ".env.example"}
    assert {str(path.relative_to(ROOT)) for path in generated} == checked


def test_a_section_without_its_markers_is_an_error() -> None:
    with pytest.raises(SystemExit, match="BEGIN GENERATED: settings"):
        fill("# Configuration\n", {"settings": lambda: "table"}, "page.md")
    page = "a\n<!-- BEGIN GENERATED: settings -->\nold\n<!-- END GENERATED -->\nb\n"
    assert fill(page, {"settings": lambda: "new"}, "page.md") == page.replace("old\n", "\nnew\n\n")


def test_env_example_gets_defaults_and_missing_settings_keep_comments() -> None:
    written = "# Models, explained by hand.\nVERTAAL_BATCH_SIZE=99\nVERTAAL_PROMETHEUS_PORT=9090\n"
    rewritten = env_example(written)
    assert rewritten.startswith("# Models, explained by hand.\nVERTAAL_BATCH_SIZE=8\n")
    assert "VERTAAL_PROMETHEUS_PORT=9090\n" in rewritten  # docker-compose's own: left alone
    assert "\n# Sentences per translation batch.\n" not in rewritten  # already there
    assert "\n# Seconds a job record is kept.\nVERTAAL_JOB_TTL=86400\n" in rewritten


def test_env_example_holds_only_variables_something_reads() -> None:
    example = ENV_EXAMPLE.read_text()
    compose = (ROOT / "docker-compose.yml").read_text()
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    listed = set(re.findall(r"^(VERTAAL_[A-Z0-9_]+)=", example, re.M))
    for name in listed - set(known_variables()):
        assert name in compose, f"{name} is in .env.example, but nothing reads it"
    for name in set(re.findall(r"VERTAAL_[A-Z0-9_]*[A-Z0-9]", compose)):
        assert name in listed, f"docker-compose.yml reads {name}: add it to .env.example"
    for name in listed:
        assert f"`{name}`" in configuration, f"{name} is not in docs/configuration.md"


def test_the_readme_fits_on_a_few_screens_and_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    assert "make run" in readme and "make test" in readme


def links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of each Markdown link outside code blocks and code spans."""
    found, fenced = [], False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced:
            found += [(number, t) for t in LINK.findall(re.sub(r"`[^`]*`", "", line))]
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_between_pages_resolve(page: Path) -> None:
    broken = []
    for number, target in links(page):
        if re.match(r"[a-z]+:", target):
            continue  # another site
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if path in WRITTEN_ELSEWHERE:
            continue
        if not path.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text()):
            broken.append(f"{where} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_readme_links_every_page() -> None:
    readme = ROOT / "README.md"
    linked = {(ROOT / target.partition("#")[0]).resolve() for _, target in links(readme)}
    unlinked = [str(page.relative_to(ROOT)) for page in PAGES[1:] if page not in linked]
    assert not unlinked, f"README.md's table of pages does not link {unlinked}"
