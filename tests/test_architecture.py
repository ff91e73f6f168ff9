"""The architecture contract: senet's modules import only downward, and never in a cycle.

The layering is the ``[tool.importlinter]`` contract of pyproject.toml (cli > commands > analysis >
train | bench > api > data | fast | weights | complexity > spec > zoo > registry > models > layers
> options > config | io | jsonio | runtime > errors); import-linter checks it, counting imports inside functions too. The cycle check
builds the import graph with grimp (import-linter's graph library) and looks for strongly
connected components itself.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``senet`` package under ``root`` with ``root``'s pyproject.toml,
    in a fresh interpreter (this venv's) that imports ``senet`` from ``root``."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def broken_imports(report: str) -> list[str]:
    """The ``importer -> imported`` lines of an import-linter report."""
    return [line.strip("- ").split(" (l.")[0] for line in report.splitlines() if line.startswith("- ")]


def import_cycles(package: str = "senet") -> list[list[str]]:
    """Every group of modules that import each other in a cycle (Tarjan's strongly connected
    components of grimp's graph, module- and function-level imports alike), largest first."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # recursive Tarjan: the graph has ~100 modules
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return sorted(cycles, key=len, reverse=True)


def test_no_import_cycles() -> None:
    assert import_cycles() == []


def test_cycle_search_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from cyclic import b  # a function-level import counts\n")
    (pkg / "b.py").write_text("import cyclic.a\n")
    (pkg / "c.py").write_text("import cyclic.b\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    try:
        assert import_cycles("cyclic") == [["cyclic.a", "cyclic.b"]]
    finally:
        sys.path.remove(str(tmp_path))


def test_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    report = result.stdout + result.stderr
    assert "Analyzed" in report, report  # the contract ran (the config and the package were found)
    assert result.returncode == 0 and not broken_imports(report), report


def test_contract_fails_on_an_upward_import(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "senet", tmp_path / "senet", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    se = tmp_path / "senet" / "layers" / "se.py"
    source = se.read_text()
    se.write_text(
        source.replace(
            "from torch import nn\n", "from torch import nn\n\nimport senet.train  # noqa: F401\n", 1
        )
    )
    result = lint_imports(tmp_path)
    report = result.stdout + result.stderr
    assert result.returncode != 0
    assert "senet.layers.se -> senet.train" in broken_imports(report), report
