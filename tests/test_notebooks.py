"""Structure of the stored notebooks (nbval executes them; these checks keep the conventions)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted((NB_DIR / "src").glob("[0-9][0-9]_*.py"))

spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_notebooks_and_each_has_a_source():
    assert NOTEBOOKS, "no notebooks found"
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in SOURCES]


def test_notebooks_are_in_sync_with_their_sources():
    assert build.main(["--check"]) == 0, "an .ipynb differs from notebooks/src: run `make notebooks`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    cells = _cells(path)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert cells[0]["cell_type"] == "markdown" and _src(cells[0]).startswith("# ")
    assert "Learning objectives" in _src(cells[0]) or "learning objectives" in _src(cells[0]).lower()
    assert "setup_notebook(" in _src(code[0]), "the first code cell must set up profile, seed and device"
    assert any("assert " in _src(c) for c in code if "solution" not in c["metadata"].get("tags", []))
    assert all(c.get("outputs") is not None for c in code)
    assert all(c["execution_count"] is not None for c in code), "stored notebooks are executed"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"stored with error output: {errors[0].get('ename')}"
    assert all("slideshow" in c["metadata"] for c in cells), "every cell carries slide metadata"
    assert any(c["metadata"]["slideshow"]["slide_type"] == "slide" for c in cells)
    assert path.stat().st_size < 2_000_000, "keep stored figures small"
    headings = [_src(c) for c in cells if c["cell_type"] == "markdown"]
    assert any(h.lstrip().startswith("## Summary") for h in headings)
    assert any(h.lstrip().startswith("## Exercises") for h in headings)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_attempt_check_and_hidden_solution(path):
    cells = _cells(path)
    attempts = [c for c in cells if "exercise" in c["metadata"].get("tags", [])]
    solutions = [c for c in cells if "solution" in c["metadata"].get("tags", [])]
    assert len(attempts) >= 2, "at least two exercises"
    assert len(solutions) >= len(attempts)
    for sol in solutions:
        assert sol["metadata"]["jupyter"]["source_hidden"] is True
        assert sol["metadata"]["slideshow"]["slide_type"] == "skip"
        assert "assert " in _src(sol) and "check" in _src(sol), "a solution asserts that its checker passes"
        assert any("[correct]" in "".join(o.get("text", "")) for o in sol["outputs"]), "solution output shows [correct]"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_in_the_readme_course_map(path):
    assert path.name in (ROOT / "README.md").read_text()


def test_source_parser_rejects_malformed_sources():
    with pytest.raises(ValueError, match="cell metadata must be JSON"):
        build.parse_source("# %% {tags: x}\nprint(1)\n")
    with pytest.raises(ValueError, match="text before the first"):
        build.parse_source("print(1)\n# %%\n")
    with pytest.raises(ValueError, match="markdown lines must start with"):
        build.parse_source("# %% [markdown]\nnot a comment\n")
    cells = build.parse_source("# %% [markdown]\n# ## Part 1\n# text\n\n# %% {\"tags\": [\"solution\"]}\nx = 1\n")
    nb = build.to_notebook(cells)
    assert nb.cells[0].source == "## Part 1\ntext" and nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"
    assert nb.cells[1].metadata["jupyter"]["source_hidden"] is True
