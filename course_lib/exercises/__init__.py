"""Automatic checks for the notebooks' exercises.

Each exercise in a notebook has a cell for the student's attempt, then a call to a checker
from this package, for example ``ex01.check_capacity(answer)``. A checker prints one line:

* ``[not attempted]`` while the attempt is still ``None`` or raises ``NotImplementedError``
  (so a notebook with untouched exercises still runs top to bottom);
* ``[wrong]`` with what is wrong, when a check fails;
* ``[correct]`` when every check passes,

and returns a :class:`Verdict`, true only in the last case. The worked solutions in the
notebooks ``assert`` their checker, so CI keeps solutions and checkers in step. A verdict shows
nothing more in a notebook cell (the printed line is the verdict, with no ``True``/``False`` under it).

One module per notebook: ``ex01`` for notebook 01, and so on.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["NotAttempted", "Verdict", "run_check", "require", "close"]


class NotAttempted(Exception):
    """Raised inside a check when the student has not filled in the exercise yet."""


def require(condition: bool, message: str) -> None:
    """Fail the check with ``message`` (what is wrong, and a hint) unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def close(actual: float, expected: float, *, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """``|actual − expected| <= atol + rtol·|expected|``."""
    return abs(float(actual) - float(expected)) <= atol + rtol * abs(float(expected))


class Verdict:
    """The outcome of a check: ``status`` is ``"correct"``, ``"wrong"`` or ``"not attempted"``.

    True only when correct (``assert ex.check_...(answer)`` in a solution). In a notebook it
    displays nothing: the check has already printed its one line.
    """

    __slots__ = ("status", "message")

    def __init__(self, status: str, message: str = "") -> None:
        self.status, self.message = status, message

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __repr__(self) -> str:
        return f"Verdict({self.status!r})"

    def _ipython_display_(self) -> None:
        """IPython calls this instead of printing the repr: the verdict line is already printed."""


def run_check(name: str, check: Callable[[], None], success: str = "") -> Verdict:
    """Run ``check`` and print the verdict for exercise ``name``; the returned Verdict is true when it passes."""
    try:
        check()
    except (NotAttempted, NotImplementedError):
        line = f"[not attempted] {name}: fill in your answer above, then run this cell again."
        print(line)
        return Verdict("not attempted", line)
    except AssertionError as exc:
        line = f"[wrong] {name}: {exc}"
        print(line)
        return Verdict("wrong", line)
    except Exception as exc:  # the student's code raised: say what, not a traceback wall
        line = f"[wrong] {name}: your answer raised {type(exc).__name__}: {exc}"
        print(line)
        return Verdict("wrong", line)
    line = f"[correct] {name}" + (f": {success}" if success else "")
    print(line)
    return Verdict("correct", line)
