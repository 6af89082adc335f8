"""Write the student copies of the notebooks: the exercises without their solutions.

``make student`` runs this script. For every ``notebooks/NN_topic.ipynb`` it writes
``student/NN_topic.ipynb``, the same notebook (text, code, stored outputs and figures) less

* every cell tagged ``solution`` (the worked solution, its code and its output), and
* the ``<details><summary><b>Solution</b>`` explanation before it.

The exercise cells (tagged ``exercise``) keep their stubs (``answer = None``, or a function that
raises ``NotImplementedError``), and each check cell keeps the output it printed for that stub:
``[not attempted] ...``. A student who runs a copy top to bottom sees the same notebook as the
course's, with every exercise waiting to be answered.

Usage::

    python tools/student_copies.py                # every notebook into student/
    python tools/student_copies.py 03 --out DIR
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_TEXT = "<details><summary><b>Solution</b>"


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def is_solution(cell) -> bool:
    """A worked solution (tagged ``solution``) or the markdown box that explains it."""
    if "solution" in cell.get("metadata", {}).get("tags", []):
        return True
    return cell.cell_type == "markdown" and _source(cell).lstrip().startswith(SOLUTION_TEXT)


def student_copy(nb):
    """A copy of the notebook node without its solutions (see the module docstring)."""
    student = copy.deepcopy(nb)
    student.cells = [cell for cell in student.cells if not is_solution(cell)]
    exercises = [c for c in nb.cells if "exercise" in c.get("metadata", {}).get("tags", [])]
    solutions = [c for c in nb.cells if "solution" in c.get("metadata", {}).get("tags", [])]
    if len(exercises) != len(solutions):
        raise ValueError(f"{len(exercises)} exercise cells but {len(solutions)} solution cells: every exercise needs "
                         f"exactly one solution (see CONTRIBUTING.md)")
    return student


def notebooks(selection: list[str]) -> list[Path]:
    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return every
    chosen = [p for p in every if any(p.name.startswith(s) for s in selection)]
    if not chosen:
        raise SystemExit(f"student_copies: no notebook matches {selection} (have: {', '.join(p.stem for p in every)})")
    return chosen


def write(selection: list[str] | None = None, out: Path | None = None) -> list[Path]:
    out = Path(out or ROOT / "student")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks(selection or []):
        target = out / path.name
        nbformat.write(student_copy(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="NN prefixes (default: every notebook)")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    for path in write(args.notebooks, args.out):
        print(f"student: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
