"""Structure of the stored notebooks (nbval executes them; these checks keep the conventions)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
SRC_DIR = NB_DIR / "src"
SOURCES = sorted(SRC_DIR.glob("[0-9][0-9]_*.py"))

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


MAX_NOTEBOOK_BYTES = 1_000_000
# What a page loads by itself (a stylesheet, a script, an image, a font): in an output anything with an address
# outside; in markdown an HTML tag or CSS that fetches one. A markdown link ([paper](https://...)) only
# navigates when clicked and is allowed.
OUTSIDE_IN_OUTPUT = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", re.I)
OUTSIDE_IN_MARKDOWN = re.compile(r"<(?:img|script|link|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*[\"']?"
                                 r"(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//|@import", re.I)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebook_loads_nothing_from_outside(path):
    cells = _cells(path)
    found = []
    for i, c in enumerate(cells, 1):
        if c["cell_type"] == "markdown":
            found += [(i, m.group(0)) for m in OUTSIDE_IN_MARKDOWN.finditer(_src(c))]
        for o in c.get("outputs", []):
            texts = [o.get("text", "")] + [v for k, v in o.get("data", {}).items() if not k.startswith("image/")]
            for t in texts:
                t = "".join(t) if isinstance(t, list) else (t if isinstance(t, str) else "")
                found += [(i, m.group(0)) for m in OUTSIDE_IN_OUTPUT.finditer(t)]
    assert not found, f"{path.name} loads from outside when opened: cell {found[0][0]}: {found[0][1]!r}"


def test_the_outside_address_checks_catch_what_they_should():
    assert OUTSIDE_IN_OUTPUT.search('<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/x.css">')
    assert OUTSIDE_IN_OUTPUT.search("<script src='//cdn.example.org/a.js'></script>")
    assert not OUTSIDE_IN_OUTPUT.search("data:image/png;base64,iVBORw0KGgo= and 1/2 // 3")
    assert OUTSIDE_IN_MARKDOWN.search('<img src="https://example.org/a.png">')
    assert not OUTSIDE_IN_MARKDOWN.search("[Ioffe & Szegedy](https://arxiv.org/abs/1502.03167)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    cells = _cells(path)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert cells[0]["cell_type"] == "markdown" and _src(cells[0]).startswith("# ")
    assert "Learning objectives" in _src(cells[0]) or "learning objectives" in _src(cells[0]).lower()
    assert code[0]["metadata"].get("tags") == ["colab"], "the first code cell is the Colab cell (tools/colab.py)"
    assert "setup_notebook(" in _src(code[1]), "the next code cell must set up profile, seed and device"
    assert any("assert " in _src(c) or "ctx.claim(" in _src(c) for c in code
               if "solution" not in c["metadata"].get("tags", [])), "a notebook checks the claim it teaches"
    assert all(c.get("outputs") is not None for c in code)
    assert all(c["execution_count"] is not None for c in code), "stored notebooks are executed"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"stored with error output: {errors[0].get('ename')}"
    assert all("slideshow" in c["metadata"] for c in cells), "every cell carries slide metadata"
    assert any(c["metadata"]["slideshow"]["slide_type"] == "slide" for c in cells)
    assert path.stat().st_size <= MAX_NOTEBOOK_BYTES, \
        f"{path.name} is {path.stat().st_size / 1e6:.2f} MB; a stored notebook is at most 1 MB (smaller figures, fewer frames)"
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
        assert sol["metadata"]["jupyter"]["outputs_hidden"] is True, "a collapsed solution hides its output too"
        assert _src(sol).startswith("# Solution: expand to see\n"), "a solution's first visible line gives nothing away"
        assert "assert " in _src(sol) and "check" in _src(sol), "a solution asserts that its checker passes"
        assert any("[correct]" in "".join(o.get("text", "")) for o in sol["outputs"]), "solution output shows [correct]"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_figure_text_is_readable_when_projected(src):
    """No font below 12 pt: the course style sets 12 pt and more; a notebook may only go larger."""
    import re

    small = [(n, line.strip()) for n, line in enumerate(src.read_text().splitlines(), 1)
             for size in re.findall(r"fontsize\s*=\s*(\d+(?:\.\d+)?)", line) if float(size) < 12]
    assert not small, f"{src.name}: font sizes below 12 pt at lines {small}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_live_slides_need_no_internet(path):
    """RISE reads its settings from the notebook: a theme whose fonts ship with reveal.js, the projector size."""
    assert json.loads(path.read_text())["metadata"].get("rise") == build.RISE_SETTINGS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_in_the_readme_course_map(path):
    assert path.name in (ROOT / "README.md").read_text()


def test_source_parser_rejects_malformed_sources():
    # jupytext reads these without complaint; the build refuses them with the line at fault
    with pytest.raises(ValueError, match=r"line 1: cell metadata must be JSON"):
        build.parse_source("# %% {tags: x}\nprint(1)\n")
    with pytest.raises(ValueError, match=r"line 3: cell metadata must be JSON"):
        build.parse_source('# %%\nx = 1\n# %% {"tags": ["solution"], oops\nprint(1)\n')
    with pytest.raises(ValueError, match="line 1: text before the first"):
        build.parse_source("print(1)\n# %%\n")
    with pytest.raises(ValueError, match="line 3: markdown lines must start with"):
        build.parse_source("# %% [markdown]\n# fine\nnot a comment\n")
    with pytest.raises(ValueError, match="jupytext cannot read it"):  # a YAML header that does not validate
        build.parse_source("# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n# %%\nx = 1\n")


def test_source_parser_reads_the_percent_format_with_jupytext():
    cells = build.parse_source("# %% [markdown]\n# ## Part 1\n# text\n\n# %% {\"tags\": [\"solution\"]}\n"
                               "def f():\n    return 1\n\n\n# %%\nf()\n")
    nb = build.to_notebook(cells)
    assert [c.id for c in nb.cells] == ["cell-000", "cell-001", "cell-002"]
    assert nb.cells[0].source == "## Part 1\ntext" and nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"
    assert nb.cells[1].metadata["jupyter"]["source_hidden"] is True
    # jupytext's round-trip bookkeeping (two blank lines after the def) stays out of the notebook
    assert nb.cells[1].metadata == {"tags": ["solution"], "slideshow": {"slide_type": "skip"},
                                    "jupyter": {"source_hidden": True, "outputs_hidden": True}}
    # jupytext's key=value metadata and a YAML header (as jupytext may write them) are read too
    cells = build.parse_source('# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n# ---\n\n'
                               '# %% tags=["exercise"]\nx = 1\n\n# %% [markdown] {"slideshow": {"slide_type": "-"}}\n'
                               "# ## Not a new slide\n")
    nb = build.to_notebook(cells)
    assert nb.cells[0].metadata["tags"] == ["exercise"]
    assert nb.cells[1].metadata["slideshow"]["slide_type"] == "-", "metadata in the source wins"


@pytest.mark.parametrize("src", [*SOURCES, SRC_DIR / "_template.py"], ids=lambda p: p.stem)
def test_source_opens_in_jupyterlab_and_saves_back_unchanged(src, tmp_path):
    """What JupyterLab does through jupytext: open the .py as a notebook, work in it, save it."""
    from jupytext import TextFileContentsManager

    text = src.read_text()
    (tmp_path / "src").mkdir()
    shutil.copy(SRC_DIR / "jupytext.toml", tmp_path / "src")
    (tmp_path / "src" / src.name).write_text(text)
    cm = TextFileContentsManager(root_dir=str(tmp_path))
    model = cm.get(f"src/{src.name}")
    assert model["type"] == "notebook"
    nb = model["content"]
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c["type"], c["source"]) for c in build.parse_source(text)]
    for cell in nb.cells:  # state that JupyterLab records while one works
        cell.metadata["jupyter"] = {"source_hidden": True}
        cell.metadata["collapsed"] = False
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    cm.save({"type": "notebook", "content": nb}, f"src/{src.name}")
    assert (tmp_path / "src" / src.name).read_text() == text, "saving from JupyterLab would rewrite the source"


def test_check_detects_drift_without_executing(tmp_path, monkeypatch):
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    source = src_dir / "01_demo.py"
    source.write_text("# %% [markdown]\n# # Demo\n\n# %%\nx = 1\n")
    monkeypatch.setattr(build, "NB_DIR", tmp_path)
    monkeypatch.setattr(build, "SRC_DIR", src_dir)
    monkeypatch.setattr(build, "execute", lambda nb: pytest.fail("--check must not execute"))
    assert build.main(["--check"]) == 1, "a missing .ipynb is drift"
    assert build.main(["--no-execute"]) == 0
    assert build.main(["--check"]) == 0
    source.write_text("# %% [markdown]\n# # Demo\n\n# %% {\"tags\": [\"solution\"]}\nx = 1\n")
    assert build.main(["--check"]) == 1, "changed metadata is drift"
    source.write_text("# %% [markdown]\n# # Demo\nnot commented\n")
    assert build.main(["--check"]) == 1, "a malformed source fails the check"


def test_plot_and_listing_tags():
    cells = build.parse_source('# %% {"tags": ["plot"]}\nplt.plot([1])\n\n# %% {"tags": ["listing"]}\nshow_source(f)\n')
    nb = build.to_notebook(cells)
    assert nb.cells[0].metadata["jupyter"] == {"source_hidden": True}
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "-"
    assert nb.cells[1].metadata["slideshow"]["slide_type"] == "notes"


def _slides(cells: list[dict]) -> list[list[dict]]:
    """The cells of each slide or sub-slide as presented: skipped cells and speaker notes left out."""
    slides: list[list[dict]] = []
    for cell in cells:
        kind = cell["metadata"].get("slideshow", {}).get("slide_type", "-")
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append([])
        slides[-1].append(cell)
    return slides


def _visible_lines(cell: dict) -> int:
    """Lines of code and printed output a slide shows for a code cell (collapsed code counts as none)."""
    if cell["cell_type"] != "code":
        return 0
    hidden = cell["metadata"].get("jupyter", {}).get("source_hidden", False)
    lines = 0 if hidden else len(_src(cell).splitlines())
    streams = {}   # the kernel may split one printed text into several chunks: count the text, not the chunks
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            streams[out["name"]] = streams.get(out["name"], "") + "".join(out["text"])
        elif "text/plain" in out.get("data", {}) and "image/png" not in out["data"]:
            lines += len("".join(out["data"]["text/plain"]).splitlines())
    return lines + sum(len(text.splitlines()) for text in streams.values())


MAX_SLIDE_LINES = 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_slides_fit_a_projector(path):
    """At most one figure per slide, and a bound on the lines of code and output a slide shows."""
    for slide in _slides(_cells(path)):
        title = next((_src(c).splitlines()[0] for c in slide if c["cell_type"] == "markdown"), "(untitled)")
        figures = sum(1 for c in slide if c["cell_type"] == "code" for o in c.get("outputs", [])
                      if "image/png" in o.get("data", {}) or "image/jpeg" in o.get("data", {}))
        assert figures <= 1, f"slide {title!r} shows {figures} figures: give each figure its own (sub-)slide"
        lines = sum(_visible_lines(c) for c in slide)
        assert lines <= MAX_SLIDE_LINES, (f"slide {title!r} shows {lines} lines of code and output (at most "
                                          f"{MAX_SLIDE_LINES}): tag plotting cells 'plot', listings 'listing', or split it")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_check_cells_show_only_the_verdict_and_outputs_stay_small(path):
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        if ".check_" in _src(cell):
            results = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
            assert not results, f"a check cell shows an extra value: {results[0]['data'].get('text/plain')}"
        for out in cell["outputs"]:
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert len(text) < 20_000, f"an output of {len(text):,} characters: {text[:60]!r}"
            assert "\\xff\\xd8" not in text, "raw JPEG bytes stored as text"
