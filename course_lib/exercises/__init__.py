"""Automatic checks for the notebooks' exercises.

Each exercise in a notebook has a cell for the student's attempt, then a call to a checker
from this package, for example ``ex01.check_capacity(answer)``. A checker prints one line:

* ``[not attempted]`` while the attempt is still ``None`` or raises ``NotImplementedError``
  (so a notebook with untouched exercises still runs top to bottom);
* ``[wrong]`` with what is wrong, when a check fails;
* ``[correct]`` when every check passes,

and returns ``True`` only in the last case. The worked solutions in the notebooks assert
that their checker returns ``True``, so CI keeps solutions and checkers in step.

One module per notebook: ``ex01`` for notebook 01, and so on.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["NotAttempted", "run_check", "require", "close"]


class NotAttempted(Exception):
    """Raised inside a check when the student has not filled in the exercise yet."""


def require(condition: bool, message: str) -> None:
    """Fail the check with ``message`` (what is wrong, and a hint) unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def close(actual: float, expected: float, *, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """``|actual − expected| <= atol + rtol·|expected|``."""
    return abs(float(actual) - float(expected)) <= atol + rtol * abs(float(expected))


def run_check(name: str, check: Callable[[], None], success: str = "") -> bool:
    """Run ``check`` and print the verdict for exercise ``name``; return True when it passes."""
    try:
        check()
    except (NotAttempted, NotImplementedError):
        print(f"[not attempted] {name}: fill in your answer above, then run this cell again.")
        return False
    except AssertionError as exc:
        print(f"[wrong] {name}: {exc}")
        return False
    except Exception as exc:  # the student's code raised: say what, not a traceback wall
        print(f"[wrong] {name}: your answer raised {type(exc).__name__}: {exc}")
        return False
    print(f"[correct] {name}" + (f": {success}" if success else ""))
    return True
