"""Build the notebooks from their plain-text sources and execute them.

Sources live in ``notebooks/src/NN_topic.py`` in jupytext's "percent" format (readable diffs,
easy review; JupyterLab opens them as notebooks through jupytext, with the settings in
``notebooks/src/jupytext.toml``). The executed ``notebooks/NN_topic.ipynb`` is what students
open and what nbval runs. Cell markers::

    # %% [markdown]                 a markdown cell; its lines start with "# "
    # %%                            a code cell
    # %% {"tags": ["solution"]}     optional metadata after the marker: JSON, or
                                    jupytext's key=value form # %% tags=["solution"]

``jupytext.reads(text, fmt="py:percent")`` splits a source into cells; this script adds the
checks the course relies on (no text before the first marker, markdown lines commented,
metadata that parses) and jupytext's own round-trip bookkeeping (``lines_to_next_cell`` and
the like) stays out of the notebooks. Like jupytext, a commented magic in a code cell
(``# %time ...``) becomes a magic (``%time ...``).

Slide metadata is added automatically: a markdown cell whose first line is a ``#`` or
``##`` heading starts a slide, ``###`` a sub-slide; solution cells are hidden (collapsed
in JupyterLab, skipped in slides; ``plot`` cells show their figure with the code collapsed;
``listing`` cells stay out of the slides; the ``colab`` install cell is skipped). Metadata
written in the source wins. Cell ids are ``cell-000``, ``cell-001``, ... in source order.

Usage::

    python tools/build_notebooks.py              # build + execute every notebook
    python tools/build_notebooks.py 01 03        # only notebooks whose name starts with these
    python tools/build_notebooks.py --check      # fail if an .ipynb differs from its source
                                                 # (compares cells only: nothing is executed)
"""

from __future__ import annotations

import argparse
import resource
import json
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
SRC_DIR = NB_DIR / "src"
FORMAT = "py:percent"

# a cell marker as jupytext's percent reader sees it: "# %%", "#%%", "# %% [markdown] ..."
_MARKER = re.compile(r"^\s*#\s*%%%*(?:\s(.*))?$")
_MARKDOWN = re.compile(r"\[(markdown|md)\]")
# metadata that jupytext keeps only to write the text back unchanged (blank lines between
# cells, the spelling of the marker): not part of the notebook
_JUPYTEXT_BOOKKEEPING = {"skipline", "noskipline", "cell_marker", "lines_to_next_cell",
                         "lines_to_end_of_cell_marker", "region_name"}


def _check_lines(text: str) -> None:
    """The checks jupytext leaves to us: every line belongs to a cell, markdown is commented."""
    lines = text.splitlines()
    start = 0
    if lines and lines[0].rstrip() == "# ---":  # a jupytext YAML header is notebook metadata
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "# ---"), None)
        start = 0 if end is None else end + 1
    kind = None
    for lineno, line in enumerate(lines[start:], start + 1):
        marker = _MARKER.match(line)
        if marker:
            options = (marker.group(1) or "").split("{", 1)[0]  # "[markdown]", "Title [md]", ...
            kind = "markdown" if _MARKDOWN.search(options) else "other"
        elif kind is None:
            if line.strip():
                raise ValueError(f"line {lineno}: text before the first '# %%' cell marker: {line!r}")
        elif kind == "markdown" and line.strip() and not line.lstrip().startswith("#"):
            raise ValueError(f"line {lineno}: markdown lines must start with '# ' (is a '# %%' "
                             f"marker missing before this code?): {line!r}")


def _marker_line(text: str, fragment: str) -> str:
    for lineno, line in enumerate(text.splitlines(), 1):
        if _MARKER.match(line) and fragment in line:
            return f"line {lineno}"
    return "a cell marker"


def parse_source(text: str) -> list[dict]:
    """Split a percent-format source into cells: dicts with type, source and metadata."""
    _check_lines(text)
    try:
        nb = jupytext.reads(text, fmt=FORMAT)
    except Exception as exc:  # e.g. a YAML header that does not parse or validate
        raise ValueError(f"jupytext cannot read it as {FORMAT}: {type(exc).__name__}: {exc}") from exc
    out = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k not in _JUPYTEXT_BOOKKEEPING}
        if "incorrectly_encoded_metadata" in meta:  # jupytext's way of saying it could not parse it
            bad = meta["incorrectly_encoded_metadata"]
            raise ValueError(f"{_marker_line(text, bad)}: cell metadata must be JSON (or key=value), "
                             f"got {bad!r}; e.g. # %% {{\"tags\": [\"solution\"]}}")
        out.append({"type": cell.cell_type, "source": cell.source, "metadata": meta})
    return out


def _default_metadata(cell: dict) -> dict:
    """Slide and display metadata from a cell's tags and heading (metadata written in the source wins).

    ``solution``: code and outputs collapsed in JupyterLab, skipped in slides. ``plot``: the code
    is collapsed (the figure shows) in JupyterLab and in live slides, and removed from exported
    slides. ``listing`` (long code listings such as ``show_source``): in the notebook, not on slides.
    """
    tags = cell["metadata"].get("tags", [])
    if "colab" in tags:  # the install cell for Google Colab (tools/colab.py): never on a slide
        return {"slideshow": {"slide_type": "skip"}}
    if "solution" in tags:
        return {"slideshow": {"slide_type": "skip"}, "jupyter": {"source_hidden": True, "outputs_hidden": True}}
    if "listing" in tags:
        return {"slideshow": {"slide_type": "notes"}}
    if "plot" in tags:
        return {"slideshow": {"slide_type": "-"}, "jupyter": {"source_hidden": True}}
    if cell["type"] == "markdown":
        first = cell["source"].lstrip().split("\n", 1)[0]
        if first.startswith("# ") or first.startswith("## "):
            return {"slideshow": {"slide_type": "slide"}}
        if first.startswith("### "):
            return {"slideshow": {"slide_type": "subslide"}}
    return {"slideshow": {"slide_type": "-"}}


# Live slides (jupyterlab-rise) read these from the notebook's metadata. reveal.js's "white" theme
# ships its fonts; RISE's default theme ("simple") fetches them from Google Fonts, which fails offline.
# 1280x720 is the projector size the figures are made for (and what `make slides` uses).
RISE_SETTINGS = {"theme": "white", "width": 1280, "height": 720}


def to_notebook(cells: list[dict]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "rise": RISE_SETTINGS,
    }
    for i, cell in enumerate(cells):
        meta = {**_default_metadata(cell), **cell["metadata"]}
        make = {"markdown": nbformat.v4.new_markdown_cell, "raw": nbformat.v4.new_raw_cell}.get(
            cell["type"], nbformat.v4.new_code_cell)
        nb.cells.append(make(cell["source"], metadata=meta, id=f"cell-{i:03d}"))
    return nb


def _strip(nb: nbformat.NotebookNode) -> list[tuple]:
    return [(c.get("id"), c.cell_type, c.source, json.dumps(c.metadata, sort_keys=True)) for c in nb.cells]


def execute(nb: nbformat.NotebookNode, timeout: int = 600) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    os.environ.setdefault("COURSE_PROGRESS", "0")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(NB_DIR)}})
    client.execute()
    for cell in nb.cells:  # keep stored notebooks free of volatile metadata
        cell.metadata.pop("execution", None)
    return nb


def _children_cpu() -> float:
    """User + system CPU seconds of finished child processes (the kernel, once it has shut down).

    On a shared machine the wall-clock time grows with the load; the kernel's CPU time grows less
    (only where the jobs share a core), so it is the closer estimate of the time on an idle machine.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
        try:
            nb = to_notebook(parse_source(src.read_text()))
        except ValueError as exc:
            print(f"{src.relative_to(ROOT) if src.is_relative_to(ROOT) else src}: {exc}", file=sys.stderr)
            failed.append(target.name)
            continue
        if args.check:
            if not target.exists() or _strip(nbformat.read(target, as_version=4)) != _strip(nb):
                failed.append(target.name)
            continue
        start, cpu = time.perf_counter(), _children_cpu()
        if not args.no_execute:
            execute(nb)
        nbformat.write(nb, target)
        print(f"{target.name}: built in {time.perf_counter() - start:.1f} s "
              f"(kernel CPU time {_children_cpu() - cpu:.1f} s)")
    if failed:
        what = "out of date with notebooks/src (run `make notebooks`)" if args.check else "not built"
        print(f"{what}: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
