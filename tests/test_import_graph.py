"""Who may import whom: the two processes share only `intercom_stream` and `schemas`, neither
imports the other; no product package imports development or test code; `dev/` (benchmarks and
the tooling they share with the tests) never imports `tests/`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package, and the package it must never import.
SEPARATED = [("ingress", "stream_app"), ("stream_app", "ingress")]
PRODUCT = ["intercom_stream", "ingress", "stream_app", "schemas"]
TOOLING = [(package, tooling) for package in PRODUCT for tooling in ("dev", "tests")]


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Yield the line and the absolute module name of every import in a parsed module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def is_within(module: str, package: str) -> bool:
    """Whether the module is the package or one of its submodules."""
    return module == package or module.startswith(package + ".")


def crossings(package: str, forbidden: str) -> list[str]:
    """Return `path:line module` for every import of `forbidden` in a module under `package`."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        found += [
            f"{path.relative_to(ROOT)}:{line} {module}"
            for line, module in imported(tree)
            if is_within(module, forbidden)
        ]
    return found


@pytest.mark.parametrize(("package", "forbidden"), SEPARATED)
def test_a_process_package_never_imports_the_other(package: str, forbidden: str) -> None:
    """No module under one process package imports the other, directly or from a submodule."""
    assert (ROOT / package / "__init__.py").is_file()
    assert crossings(package, forbidden) == []


@pytest.mark.parametrize(("package", "forbidden"), TOOLING)
def test_no_product_package_imports_development_or_test_code(package: str, forbidden: str) -> None:
    """What ships never depends on the benchmarks, their tooling or the tests."""
    assert crossings(package, forbidden) == []


def test_development_tooling_never_imports_the_tests() -> None:
    """The benchmarks and the tooling they share with the tests (dev/) stand without tests/."""
    assert (ROOT / "dev" / "__init__.py").is_file()
    assert crossings("dev", "tests") == []


def test_the_check_sees_an_import_in_any_form() -> None:
    """Every absolute import form counts; a longer name and a relative import do not."""
    source = "\n".join([
        "import ingress", "import ingress.app", "from ingress import app",
        "from ingress.a import b", "import ingressive", "from . import ingress",
    ])  # fmt: skip
    modules = [module for _, module in imported(ast.parse(source))]
    named = [module for module in modules if is_within(module, "ingress")]
    assert named == ["ingress", "ingress.app", "ingress", "ingress.a"]
