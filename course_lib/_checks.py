"""Argument checks shared by every module: one policy for bad input.

The rule, everywhere in ``course_lib``:

* a value of the wrong **type** raises ``TypeError``;
* a value of the right type but **out of range** raises ``ValueError``;
* every message names the argument, says what it got and what is accepted, e.g.
  ``dropout p must be a real number in [0, 1), got str '0.5'``.

Each helper returns the value converted to the plain type it checked (``float``, ``int``,
``str``), so a caller writes ``self.p = probability(p, "p")`` and stores a clean value.
``bool`` is never accepted as a number (``True`` is an ``int`` in Python, but ``lr=True`` is a bug).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["color", "describe", "real", "integer", "probability", "one_of", "positive_sizes", "tensor", "finite", "flag",
           "generator", "device"]


def describe(value: Any) -> str:
    """``"str '0.5'"``, ``"float nan"``, ``"Tensor of shape (3, 4) and dtype torch.int64"``: what was given."""
    if isinstance(value, Tensor):
        return f"Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _number(v: float) -> str:
    """``3``, ``0.5``, ``4294967295``: whole numbers written out in full, others as ``:g``."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e16 else f"{v:g}"


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    lo = "-inf" if low is None else _number(low)
    hi = "inf" if high is None else _number(high)
    return f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"


def real(value: Any, name: str, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number (int or float, not bool) in the interval given; returns a ``float``.

    ``low_open`` / ``high_open`` exclude the end points: ``real(lr, "lr", low=0, low_open=True)``
    accepts ``lr > 0``.
    """
    accepted = f"a real number in {_interval(low, high, low_open, high_open)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, Tensor) and value.ndim == 0 and not value.dtype.is_complex \
                and value.dtype != torch.bool:
            value = value.item()  # a 0-dim tensor is a number
        else:
            raise TypeError(f"{name} must be {accepted}, got {describe(value)}")
    v = float(value)
    if (math.isnan(v) or math.isinf(v) or (low is not None and (v < low or (low_open and v == low)))
            or (high is not None and (v > high or (high_open and v == high)))):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return v


def integer(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An ``int`` (not bool, not float) in ``[low, high]``; returns it."""
    accepted = "an int" + ("" if low is None and high is None else f" in {_interval(low, high, False, False)}")
    if isinstance(value, Tensor) and value.ndim == 0 and not value.is_floating_point() and value.dtype != torch.bool \
            and not value.is_complex():
        value = int(value)  # a 0-dim integer tensor is an int
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {accepted}, got {describe(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be {accepted}, got {v}")
    return v


def probability(value: Any, name: str, *, include_one: bool = False, meaning: str = "") -> float:
    """A probability: a real number in ``[0, 1)`` (or ``[0, 1]`` with ``include_one``); returns a ``float``.

    ``meaning`` is appended to the message (for example what the probability is of).
    """
    try:
        return real(value, name, low=0.0, high=1.0, high_open=not include_one)
    except (TypeError, ValueError) as exc:
        if meaning:
            raise type(exc)(f"{exc} ({meaning})") from None
        raise


def one_of(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of the strings in ``choices`` (case-insensitive, surrounding spaces ignored); returns it lower-cased."""
    listed = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {listed}, got {describe(value)}")
    key = value.strip().lower()
    if key not in {c.lower() for c in choices}:
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return key


def positive_sizes(value: Any, name: str) -> tuple[int, ...]:
    """A sequence of positive ints (layer widths); returns a tuple. A single int is refused with a hint."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        raise TypeError(f"{name} must be a sequence of layer sizes, got the int {value}; "
                        f"for one hidden layer write [{value}]")
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a sequence of positive ints (layer sizes), got {describe(value)}")
    sizes = list(value)
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name} must contain ints (layer sizes), got {describe(s)} in {sizes!r}")
        if s < 1:
            raise ValueError(f"{name} must contain positive sizes, got {int(s)} in {sizes!r}")
    return tuple(int(s) for s in sizes)


def tensor(value: Any, name: str, *, floating: bool | None = None, ndim: int | Sequence[int] | None = None) -> Tensor:
    """A ``torch.Tensor``; ``floating=True`` demands a float dtype, ``False`` an integer one; ``ndim`` the rank."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(value)}")
    if floating is True and not torch.is_floating_point(value):
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}; convert with .float()")
    if floating is False and (torch.is_floating_point(value) or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor, got dtype {value.dtype}; convert with .long()")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            plural = "" if allowed == (1,) else "s"
            raise ValueError(f"{name} must have {want} dimension{plural}, got shape {tuple(value.shape)}")
    return value


def finite(value: Tensor, name: str, hint: str = "") -> Tensor:
    """Reject a float tensor holding NaN or ±inf, saying how many and where the first one is."""
    if torch.is_floating_point(value) or value.is_complex():
        bad = ~torch.isfinite(value)
        if bool(bad.any()):
            count = int(bad.sum())
            first = tuple(int(i) for i in bad.nonzero()[0])
            kinds = []
            if bool(torch.isnan(value).any()):
                kinds.append("NaN")
            if bool(torch.isinf(value).any()):
                kinds.append("inf")
            raise ValueError(f"{name} contains {count} non-finite value{'s' if count > 1 else ''} "
                             f"({' and '.join(kinds)}; first at index {first}){'; ' + hint if hint else ''}")
    return value


def flag(value: Any, name: str) -> bool:
    """``True`` or ``False`` (a NumPy bool too); anything else, ``1`` and ``"yes"`` included, is a ``TypeError``."""
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def generator(value: Any, name: str = "generator", *, cpu: bool = False) -> torch.Generator | None:
    """``None`` or a ``torch.Generator`` (on the CPU when ``cpu`` is set); returns it."""
    if value is None:
        return None
    if not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {describe(value)}; "
                        f"make one with torch.Generator().manual_seed(0)")
    if cpu and value.device.type != "cpu":
        raise ValueError(f"{name} must be a CPU torch.Generator, got one on {value.device}; "
                         f"use torch.Generator() (the draws are moved to the device afterwards)")
    return value


def device(value: Any, name: str = "device", *, optional: bool = True) -> torch.device | None:
    """A ``torch.device`` or a name such as ``'cpu'``, ``'cuda'``, ``'cuda:0'``, ``'mps'`` (or ``None`` when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a torch.device or a name such as 'cpu' or 'cuda', got {describe(value)}")
    try:
        return torch.device(value)
    except RuntimeError:
        raise ValueError(f"{name} must be a device name such as 'cpu', 'cuda', 'cuda:0' or 'mps', "
                         f"got {value!r}") from None


def as_tensor(value: Any, name: str, labels: bool = False) -> Tensor:
    """A tensor as it is, or a NumPy array converted with ``torch.as_tensor``: ``float64`` becomes
    ``float32`` and, with ``labels``, integers become ``int64`` (what ``cross_entropy`` needs)."""
    if isinstance(value, np.ndarray):
        value = torch.as_tensor(value)
        if value.dtype == torch.float64:
            return value.float()
        integral = not (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool)
        return value.long() if labels and integral else value
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or a NumPy array, got {describe(value)}")
    return value


def color(value: Any, name: str = "color") -> Any:
    """A matplotlib colour (``"C0"``, ``"k"``, ``"#0072B2"``, an RGB tuple) or ``None``, returned as it is."""
    from matplotlib.colors import is_color_like  # imported here: the checks load without matplotlib

    if value is None or is_color_like(value):
        return value
    error = ValueError if isinstance(value, (str, tuple, list)) else TypeError
    raise error(f"{name} must be a matplotlib colour such as 'C0', 'k' or '#0072B2' (or None), "
                f"got {describe(value)}")
