"""The tree says where a change goes: rooms of a few modules each, and no import circles
(counting imports made inside functions)."""

import ast
from collections import defaultdict
from pathlib import Path

from tests.processes import ROOT

PACKAGES = ("cli", "service", "workers")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project's modules `path` imports, wherever in the file (TYPE_CHECKING blocks,
    which never run, aside)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def graph() -> dict[str, set[str]]:
    paths = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    known = {module_name(p) for p in paths}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        name = module_name(path)
        # A package's __init__ imported only as the way to its modules is no edge.
        edges[name] = {m for m in imports_of(path, known) if m != name}
    return edges


def test_no_module_imports_itself_round_a_circle() -> None:
    edges = graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target in (node.rsplit(".", 1)[0],):  # a module naming its own package
                continue
            if state.get(target) == 1:
                circles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_the_jobs_room_never_imports_the_operations_room() -> None:
    """Operations follow jobs (they consume the job-ends stream), never the other way."""
    edges = graph()
    crossing = [
        (source, target)
        for source, targets in edges.items()
        if source.startswith("workers.jobs")
        for target in targets
        if target.startswith("workers.operations")
    ]
    assert not crossing, crossing


def test_workers_keeps_its_top_level_to_a_dozen_modules() -> None:
    top = [p.name for p in (ROOT / "workers").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 12, sorted(top)
    for room in ("jobs", "operations", "pipeline", "engines"):
        assert (ROOT / "workers" / room / "__init__.py").exists(), room
    for room in ("jobs", "operations"):
        mirrored = ROOT / "tests" / "workers" / room
        assert mirrored.is_dir(), f"tests mirror workers/{room}"
