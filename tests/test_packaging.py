"""Everything the product imports is declared, so a fresh install has it."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LOCAL = {"cli", "service", "workers", "bench", "tests"}
# What the web image must never carry (issue 20): gigabytes the web process never uses.
MODEL_LIBRARIES = {"torch", "transformers", "ctranslate2"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - LOCAL - set(sys.stdlib_module_names)


def declared(*extras: str) -> set[str]:
    """Distributions pyproject declares: the dependencies every install gets, plus `extras`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = list(project["dependencies"])
    for extra in extras:
        found += project["optional-dependencies"][extra]
    return {canonical(re.split(r"[<>=\[;! ~]", dep)[0]) for dep in found}


@pytest.mark.parametrize(
    ("package", "extras"),
    # The web app installs with the web extra; the core's modules with the worker's; the
    # command line spans both (its commands import what they need when they run).
    [("service", ("web",)), ("workers", ("worker",)), ("cli", ("web", "worker"))],
)
def test_every_third_party_import_is_declared_where_its_door_installs_it(
    package: str, extras: tuple[str, ...]
) -> None:
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for module in sorted(imported_modules(ROOT / package)):
        owners = {canonical(d) for d in distributions.get(module, [module])}
        if not owners & declared(*extras):
            missing.append(f"{module} (from {', '.join(sorted(owners))})")
    assert not missing, f"{package} imports what pyproject.toml does not declare: {missing}"


def test_the_model_libraries_are_the_workers_alone() -> None:
    assert declared("worker") >= MODEL_LIBRARIES
    assert not MODEL_LIBRARIES & declared("web")


def _imports(path: Path) -> set[str]:
    """Absolute module names `path` imports (with `from x import y`, both x and x.y)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_module_imports_back_from_its_own_package() -> None:
    """A package's `__init__` may import its modules; they never import from it."""
    problems = []
    for package in ("cli", "service", "workers"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "__init__.py":
                continue
            parent = ".".join(path.relative_to(ROOT).parent.parts)
            own = {f"{parent}.{p.stem}" for p in path.parent.glob("*.py")} | {
                f"{parent}.{p.name}" for p in path.parent.iterdir() if p.is_dir()
            }
            for name in _imports(path):
                if (
                    name.startswith(parent + ".")
                    and name not in own
                    and name.count(".") == (parent.count(".") + 1)
                ):
                    problems.append(f"{path.relative_to(ROOT)} imports {name} from {parent}")
    assert not problems, problems


def test_doors_do_not_import_each_other() -> None:
    """service (web) and cli are doors onto the core in workers; the core imports neither,
    and the web app never imports the command line. (`vertaal serve` starts the web app, so
    cli may import service.server.)"""
    problems = []
    for package, forbidden in (("workers", ("cli", "service")), ("service", ("cli",))):
        for path in (ROOT / package).rglob("*.py"):
            for name in _imports(path):
                if name.split(".")[0] in forbidden:
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
    for path in (ROOT / "cli").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("service") and not name.startswith("service.server"):
                problems.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not problems, problems
