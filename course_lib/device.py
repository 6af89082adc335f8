"""Device choice, seeding and determinism: the set-up every notebook does first.

A notebook (or a script) calls :func:`get_device` once and passes the result on with
``device=``; nothing in ``course_lib`` assumes the CPU.

Environment variables read here:

``COURSE_DEVICE``       force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``); default: the best present
``COURSE_NUM_THREADS``  number of CPU threads PyTorch may use; default: PyTorch's own choice
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["get_device", "seed_everything", "set_num_threads", "set_deterministic"]


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(prefer: str | None = None) -> torch.device:
    """Return the device to compute on: CUDA if present, then Apple MPS, then the CPU.

    ``prefer`` (or the ``COURSE_DEVICE`` environment variable) forces a choice; asking for
    a device this machine does not have raises a ``RuntimeError`` that says what is present.
    """
    choice = prefer if prefer is not None else os.environ.get("COURSE_DEVICE", "").strip()
    if choice:
        device = torch.device(choice)  # raises on a malformed name
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was asked for but CUDA is not available here; "
                               f"available: {available_devices()}")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"device {choice!r} was asked for but MPS is not available here; "
                               f"available: {available_devices()}")
        if device.type not in {"cpu", "cuda", "mps"}:
            raise RuntimeError(f"unsupported device {choice!r}; use one of {available_devices()}")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[str]:
    """Names of the devices present, best first (always ends with ``'cpu'``)."""
    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if _mps_available():
        names.append("mps")
    return names + ["cpu"]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's generators (all devices) with ``seed``.

    Returns a fresh CPU ``torch.Generator`` seeded the same way, for code that wants its
    own stream (shuffling, masks) without touching the global one.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def set_num_threads(n: int | None = None) -> int:
    """Limit PyTorch's CPU threads to ``n`` (default: ``COURSE_NUM_THREADS`` if set).

    Returns the number of threads in force afterwards.
    """
    if n is None:
        raw = os.environ.get("COURSE_NUM_THREADS", "").strip()
        if raw:
            try:
                n = int(raw)
            except ValueError:
                raise ValueError(f"COURSE_NUM_THREADS must be a positive integer, got {raw!r}") from None
    if n is not None:
        if n < 1:
            raise ValueError(f"number of threads must be >= 1, got {n}")
        torch.set_num_threads(n)
    return torch.get_num_threads()


def set_deterministic(enabled: bool = True) -> None:
    """Ask PyTorch for deterministic kernels, so a re-run gives the same numbers.

    cuDNN's autotuner is switched off and cuBLAS is given a fixed workspace; operations that
    have no deterministic implementation warn instead of failing (``warn_only=True``).
    """
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = not enabled
    torch.backends.cudnn.deterministic = enabled
    torch.use_deterministic_algorithms(enabled, warn_only=True)
