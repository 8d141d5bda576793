"""The architecture as a test: gradio only in ui/ and app.py, one direction between packages.

`comparison` is the foundation (base encoder, adapters, embeddings, metrics, charts, the
shared basics in `comparison/basics.py`); `tuning` may import it, never the reverse. Imports
are read with `ast`, so one inside a function counts as much as one at the top.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Top-level package names of every import in a file (absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no python files under {package}/"
    return files


@pytest.mark.parametrize("package", ["comparison", "tuning"])
def test_no_gradio_below_the_ui(package: str) -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _files(package)
                 if _imports(p) & {"gradio", "gradio_client", "ui"}]
    assert offenders == []


def test_comparison_never_imports_tuning() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _files("comparison") if "tuning" in _imports(p)]
    assert offenders == []


def test_basics_imports_neither_package() -> None:
    assert not _imports(ROOT / "comparison" / "basics.py") & {"comparison", "tuning", "ui"}


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from tuning.model import pool\n    import gradio as gr\n")
    assert {"tuning", "gradio"} <= _imports(probe)
