"""Show the source of a ``course_lib`` object inside a notebook.

The notebooks teach from the one tested copy of each implementation: instead of pasting
code into a cell, a notebook calls ``show_source(fit)`` and the reader sees exactly the
code that runs, syntax-highlighted.
"""

from __future__ import annotations

import inspect

from ._checks import describe

__all__ = ["get_source", "show_source"]


def get_source(obj) -> str:
    """The source text of a function, class, method or module.

    ``TypeError`` for anything else (an instance, a number, a name as a string); ``ValueError``
    when Python has no source for it (built into C, or typed at an interactive prompt).
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj) or inspect.ismodule(obj)):
        hint = ""
        if isinstance(obj, str):
            hint = "; pass the object itself, not its name (show_source(fit), not show_source('fit'))"
        elif type(obj).__module__ != "builtins":
            hint = f"; for an instance, pass its class: show_source(type(obj)) shows {type(obj).__name__}"
        raise TypeError(f"obj must be a function, class, method or module, got {describe(obj)}{hint}")
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError) as exc:
        raise ValueError(f"no source is available for {obj!r}: {exc}") from exc


def show_source(obj) -> None:
    """Display the source of ``obj``: highlighted in a notebook, printed elsewhere (``get_source`` returns it)."""
    text = get_source(obj)
    try:
        from IPython import get_ipython
        from IPython.display import Code, display

        if get_ipython() is not None:
            display(Code(text, language="python"))
            return None
    except ImportError:
        pass
    print(text)
    return None
