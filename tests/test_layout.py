"""The layout is the architecture: the product never imports its test bench, and the repository
names no place outside itself.

ruff's banned-api rule (TID251, pyproject.toml) says the same at lint time; this test reads the
imports itself so that it fails even where lint is not run.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT

PRODUCT = ["pipeline", "connectors", "dags", "quality", "spark_jobs", "dashboards"]
BENCH = "testbench"


def _tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", *patterns], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [PROJECT_ROOT / name.decode() for name in listed if name]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((node.lineno, str(node.args[0].value)))
    return found


def _bench_imports(paths: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
        for path in paths
        for line, module in _imported_modules(path)
        if module == BENCH or module.startswith(BENCH + ".")
    ]


def test_no_product_module_imports_the_bench():
    product_files = [path for path in _tracked(*PRODUCT) if path.suffix == ".py"]
    assert len(product_files) > 30, "the product's modules were not found"
    assert _bench_imports(product_files) == []


def test_the_check_catches_an_import_of_the_bench(tmp_path):
    offender = tmp_path / "step.py"
    offender.write_text(
        "import os\nfrom testbench.mock_apis import world\n"
        "def f():\n    import testbench.chaos\n"
        "    importlib.import_module('testbench.benchmark')\n"
    )
    found = [module for _, module in _imported_modules(offender) if module.startswith(BENCH)]
    assert found == ["testbench.mock_apis", "testbench.chaos", "testbench.benchmark"]


# Home and workspace folders of the machines the project is built on, written so that this list
# does not itself name them.
OUTSIDE = [f"/{folder}/" for folder in ("work", "home", "root", "Users")] + [
    "../shared",
    "shared/reference",
    "shared/CONVENTIONS",
]


@pytest.mark.parametrize("marker", OUTSIDE)
def test_no_tracked_file_names_a_place_outside_the_repository(marker):
    offenders = []
    for path in _tracked():
        if path.name == "uv.lock" or not path.is_file() or path == Path(__file__):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        offenders += [
            f"{path.relative_to(PROJECT_ROOT)}:{number}"
            for number, line in enumerate(text.splitlines(), 1)
            if marker in line
        ]
    assert offenders == [], f"{marker!r} names a place outside the repository"
