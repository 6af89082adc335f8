"""Build the notebooks from their plain-text sources and execute them.

Sources live in ``notebooks/src/NN_topic.py`` in the "percent" format (readable diffs, easy
review); the executed ``notebooks/NN_topic.ipynb`` is what students open and what nbval
runs. Cell markers::

    # %% [markdown]                 a markdown cell; its lines start with "# "
    # %%                            a code cell
    # %% {"tags": ["solution"]}     optional JSON metadata after the marker

Slide metadata is added automatically: a markdown cell whose first line is a ``#`` or
``##`` heading starts a slide, ``###`` a sub-slide; solution cells are hidden (collapsed
in JupyterLab, skipped in slides). Metadata written in the source wins.

Usage::

    python tools/build_notebooks.py              # build + execute every notebook
    python tools/build_notebooks.py 01 03        # only notebooks whose name starts with these
    python tools/build_notebooks.py --check      # fail if an .ipynb differs from its source
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
SRC_DIR = NB_DIR / "src"
MARKER = "# %%"


def parse_source(text: str) -> list[dict]:
    """Split a percent-format source into cells: dicts with type, source and metadata."""
    cells: list[dict] = []
    current: dict | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith(MARKER):
            rest = line[len(MARKER):].strip()
            kind = "code"
            if rest.startswith("[markdown]"):
                kind, rest = "markdown", rest[len("[markdown]"):].strip()
            try:
                meta = json.loads(rest) if rest else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {lineno}: cell metadata must be JSON, got {rest!r} ({exc})") from None
            current = {"type": kind, "lines": [], "metadata": meta}
            cells.append(current)
        elif current is None:
            if line.strip():
                raise ValueError(f"line {lineno}: text before the first '# %%' cell marker")
        else:
            current["lines"].append(line)
    out = []
    for cell in cells:
        lines = cell["lines"]
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if cell["type"] == "markdown":
            bad = [ln for ln in lines if ln and not ln.startswith("#")]
            if bad:
                raise ValueError(f"markdown lines must start with '# ': {bad[0]!r}")
            lines = [ln[2:] if ln.startswith("# ") else ln[1:] for ln in lines]
        out.append({"type": cell["type"], "source": "\n".join(lines), "metadata": cell["metadata"]})
    return out


def _default_metadata(cell: dict) -> dict:
    tags = cell["metadata"].get("tags", [])
    if "solution" in tags:
        return {"slideshow": {"slide_type": "skip"}, "jupyter": {"source_hidden": True}}
    if cell["type"] == "markdown":
        first = cell["source"].lstrip().split("\n", 1)[0]
        if first.startswith("# ") or first.startswith("## "):
            return {"slideshow": {"slide_type": "slide"}}
        if first.startswith("### "):
            return {"slideshow": {"slide_type": "subslide"}}
    return {"slideshow": {"slide_type": "-"}}


def to_notebook(cells: list[dict]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(cells):
        meta = {**_default_metadata(cell), **cell["metadata"]}
        make = nbformat.v4.new_markdown_cell if cell["type"] == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(cell["source"], metadata=meta, id=f"cell-{i:03d}"))
    return nb


def _strip(nb: nbformat.NotebookNode) -> list[tuple]:
    return [(c.cell_type, c.source, json.dumps(c.metadata, sort_keys=True)) for c in nb.cells]


def execute(nb: nbformat.NotebookNode, timeout: int = 600) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    os.environ.setdefault("COURSE_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(NB_DIR)}})
    client.execute()
    for cell in nb.cells:  # keep stored notebooks free of volatile metadata
        cell.metadata.pop("execution", None)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="build only notebooks whose name starts with one of these")
    parser.add_argument("--check", action="store_true", help="verify .ipynb cells match their sources")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without running them")
    args = parser.parse_args(argv)
    sources = sorted(SRC_DIR.glob("[0-9][0-9]_*.py"))
    if args.only:
        sources = [s for s in sources if any(s.stem.startswith(o) for o in args.only)]
    if not sources:
        print("no notebook sources matched", file=sys.stderr)
        return 2
    failed = []
    for src in sources:
        target = NB_DIR / f"{src.stem}.ipynb"
        nb = to_notebook(parse_source(src.read_text()))
        if args.check:
            if not target.exists() or _strip(nbformat.read(target, as_version=4)) != _strip(nb):
                failed.append(target.name)
            continue
        start = time.perf_counter()
        if not args.no_execute:
            execute(nb)
        nbformat.write(nb, target)
        print(f"{target.name}: built in {time.perf_counter() - start:.1f} s")
    if failed:
        print("out of date with notebooks/src (run `make notebooks`): " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
