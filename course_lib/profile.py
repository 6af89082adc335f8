"""The scale switch and the one-call set-up that opens every notebook.

Two profiles:

``fast`` (default)  offline data (digits, MNIST-1D, synthetic sets), small models, few
                    epochs: every notebook runs in well under a minute on two CPU cores.
``full``            the real datasets (MNIST, Fashion-MNIST, CIFAR-10 via torchvision),
                    more epochs, on the GPU when one is present.

Choose with the environment variable ``COURSE_PROFILE`` before starting Jupyter
(``COURSE_PROFILE=full make lab``) or pass ``profile=`` to :func:`setup_notebook`.
Every notebook's first code cell is::

    from course_lib import setup_notebook
    ctx = setup_notebook(seed=0)
    epochs = ctx.pick(fast=20, full=100)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch

from .device import get_device, seed_everything, set_deterministic, set_num_threads

__all__ = ["PROFILES", "get_profile", "Setup", "setup_notebook"]

PROFILES = ("fast", "full")


def get_profile(name: str | None = None) -> str:
    """Return the profile in force: ``name`` if given, else ``COURSE_PROFILE``, else ``'fast'``."""
    raw = name if name is not None else os.environ.get("COURSE_PROFILE", "fast")
    value = str(raw).strip().lower() or "fast"
    if value not in PROFILES:
        source = "profile" if name is not None else "COURSE_PROFILE"
        raise ValueError(f"unknown {source} {raw!r}; choose one of {', '.join(PROFILES)}")
    return value


@dataclass
class Setup:
    """What a notebook needs to know about its run: profile, device, seed."""

    profile: str
    device: torch.device
    seed: int
    generator: torch.Generator = field(repr=False)

    @property
    def full(self) -> bool:
        """True in the full profile."""
        return self.profile == "full"

    def pick(self, fast: Any, full: Any) -> Any:
        """Return ``fast`` or ``full`` according to the profile (e.g. a number of epochs)."""
        return full if self.full else fast


def setup_notebook(seed: int = 0, *, profile: str | None = None, device: str | None = None,
                   deterministic: bool = True, style: bool = True, verbose: bool = True) -> Setup:
    """Seed everything, pick the device and profile, and set the plotting style.

    On the CPU in the fast profile PyTorch gets one thread unless ``COURSE_NUM_THREADS`` says
    otherwise (same numbers on every machine, no contention); in the full profile it keeps its
    own default. Returns a :class:`Setup`; prints one line saying what was chosen when ``verbose``.
    """
    chosen = get_profile(profile)
    dev = get_device(device)
    # The fast profile's models are tiny: one CPU thread is as quick as several, gives the same
    # numbers on every machine, and does not fight other processes for cores. COURSE_NUM_THREADS wins.
    default_threads = 1 if chosen == "fast" and dev.type == "cpu" else None
    threads = set_num_threads(None if os.environ.get("COURSE_NUM_THREADS", "").strip() else default_threads)
    set_deterministic(deterministic)
    generator = seed_everything(seed)
    if style:
        from .plots import use_course_style

        use_course_style()
    if verbose:
        where = f"{dev} ({threads} thread{'s' if threads > 1 else ''})" if dev.type == "cpu" else str(dev)
        print(f"profile={chosen}  device={where}  seed={seed}  torch={torch.__version__}")
    return Setup(profile=chosen, device=dev, seed=seed, generator=generator)
