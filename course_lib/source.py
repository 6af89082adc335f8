"""Show the source of a ``course_lib`` object inside a notebook.

The notebooks teach from the one tested copy of each implementation: instead of pasting
code into a cell, a notebook calls ``show_source(fit)`` and the reader sees exactly the
code that runs, syntax-highlighted.
"""

from __future__ import annotations

import inspect

__all__ = ["get_source", "show_source"]


def get_source(obj) -> str:
    """The source text of a function, class, method or module (``TypeError`` for anything else)."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj) or inspect.ismodule(obj)):
        raise TypeError(f"show_source needs a function, class, method or module, got {type(obj).__name__}")
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError) as exc:
        raise TypeError(f"no source is available for {obj!r}: {exc}") from exc


def show_source(obj):
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
