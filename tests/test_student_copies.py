"""The student copies of ``make student`` (tools/student_copies.py): solutions out, everything else kept.

The course notebooks run every exercise's stub through its check before the worked solution, so
the stored output of each check cell is what a student sees on a first run; in the copies it must
say ``[not attempted]``. Nothing outside the solutions may need a name that only a solution defines,
or a copy would stop half-way. That the solutions pass their checks is asserted inside the course
notebooks (each solution cell ends with ``assert ex.check_...``), which nbval executes; the hints for
wrong answers are tested per checker in ``tests/test_exercises_exNN.py``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import student_copies  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _text(cell) -> str:
    out = "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                  for o in cell.get("outputs", []))
    return cell.source + out


@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    student_copies.write(out=out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_student_copy_has_no_solutions_and_unanswered_checks(copies, path):
    course = nbformat.read(path, as_version=4)
    student = nbformat.read(copies / path.name, as_version=4)
    kept = [c for c in course.cells if not student_copies.is_solution(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept], "cells other than solutions must be kept"
    assert len(student.cells) < len(course.cells)
    for cell in student.cells:
        assert "solution" not in _tags(cell)
        assert "Solution: expand to see" not in _text(cell)
        assert not cell.source.lstrip().startswith(student_copies.SOLUTION_TEXT)

    exercises = [i for i, c in enumerate(student.cells) if "exercise" in _tags(c)]
    assert exercises, f"{path.name} has no exercise cells"
    for i in exercises:
        check = student.cells[i + 1]
        assert check.cell_type == "code" and check.source.lstrip().startswith("ex."), \
            f"{path.name}: the cell after exercise cell {i} is not its check"
        printed = _text(check)
        assert "[not attempted]" in printed, f"{path.name}: check after exercise cell {i} printed {printed[-200:]!r}"


def _names(source: str, ctx_type) -> set[str]:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx_type)}
    if ctx_type is ast.Store:
        names |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        names |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                  for a in n.names}
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_nothing_outside_the_solutions_needs_them(path):
    """A name defined only in a solution cell is never used by a later cell of the student copy."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    defined_outside = set()
    only_in_solutions: set[str] = set()
    for cell in cells:
        stored = _names(cell.source, ast.Store)
        if "solution" in _tags(cell):
            only_in_solutions |= stored - defined_outside
            continue
        used = _names(cell.source, ast.Load) & only_in_solutions
        assert not used, f"{path.name}: a cell uses {sorted(used)}, defined only in a solution:\n{cell.source[:300]}"
        defined_outside |= stored
        only_in_solutions -= stored


def test_an_exercise_without_a_solution_is_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("answer = None", metadata={"tags": ["exercise"]})]
    with pytest.raises(ValueError, match="1 exercise cells but 0 solution cells"):
        student_copies.student_copy(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_every_check_a_student_meets_has_tested_hints(path):
    """Each checker used in the notebook's check cells is exercised with wrong answers in its test file.

    ``tests/test_exercises_exNN.py`` must call the checker and expect a ``[wrong]`` verdict with a hint
    (the message a student sees when an answer is wrong); this test keeps a new checker from
    arriving without them.
    """
    import re

    cells = nbformat.read(path, as_version=4).cells
    checks = {m for c in cells if c.cell_type == "code" and "solution" not in _tags(c)
              for m in re.findall(r"\bex\.(check_\w+)\(", c.source)}
    assert checks, f"{path.name} has no exercise checks"
    tests = ROOT / "tests" / f"test_exercises_ex{path.name[:2]}.py"
    assert tests.exists(), f"{tests.name} is missing"
    text = tests.read_text()
    assert "[wrong]" in text, f"{tests.name} never checks a [wrong] verdict"
    for name in sorted(checks):
        assert text.count(name) >= 2, f"{tests.name} does not test {name} with right and wrong answers"
