"""Device choice, seeding and determinism: the set-up every notebook does first.

A notebook (or a script) calls :func:`get_device` once and passes the result on with
``device=``; nothing in ``course_lib`` assumes the CPU.

Environment variables read here:

``COURSE_DEVICE``       force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``); default: the best present
``COURSE_NUM_THREADS``  number of CPU threads PyTorch may use; default: PyTorch's own choice
``COURSE_SEED_OFFSET``  a non-negative int k; shifts every seed a notebook gives course_lib (see
                        :func:`shifted_seed`), so the same notebook runs on seeds it was never tuned on;
                        default 0, the seeds as written
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["get_device", "available_devices", "resolve_device", "data_device", "module_device", "seed_everything",
           "seed_offset", "shifted_seed", "set_num_threads", "set_deterministic"]

SEED_STRIDE = 1_000_003  # a prime above every seed the notebooks write, so shifted seeds never meet unshifted ones


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


def module_device(model: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter (or buffer); the CPU for a module with neither."""
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


def data_device(data) -> torch.device | None:
    """The device that ``data`` lives on: a tensor, a ``Split`` or an ``(x, y)`` pair of tensors.

    ``None`` for anything else (an iterable of batches such as a ``DataLoader``, a NumPy array),
    whose batches are moved to the compute device one by one.
    """
    if isinstance(data, torch.Tensor):
        return data.device
    x = getattr(data, "x", None)  # a Split
    if isinstance(x, torch.Tensor):
        return x.device
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return data[0].device
    return None


def resolve_device(model: torch.nn.Module, data=None, device: torch.device | str | None = None) -> torch.device:
    """Where ``fit``, ``evaluate``, ``predict`` and ``mc_predict`` compute. One rule for all of them:

    1. an explicit ``device=`` wins (checked: asking for CUDA on a machine without it is a clear error);
    2. otherwise data that already lives on a device (a tensor, a ``Split``, an ``(x, y)`` pair) decides;
    3. otherwise (an iterable of batches) the model's device.

    The caller then moves the model there, so a model built on the CPU trains on the GPU when
    the data was loaded with ``device=ctx.device``.
    """
    if device is not None:
        if not isinstance(device, (str, torch.device)):
            raise TypeError(f"device must be a str or torch.device, got {type(device).__name__} {device!r}")
        return get_device(str(device))
    found = data_device(data)
    return found if found is not None else module_device(model)


def seed_offset() -> int:
    """The seed offset k in force: ``COURSE_SEED_OFFSET`` (a non-negative int), 0 when unset."""
    raw = os.environ.get("COURSE_SEED_OFFSET", "").strip()
    if not raw:
        return 0
    try:
        k = int(raw)
    except ValueError:
        k = -1
    if k < 0:
        raise ValueError(f"COURSE_SEED_OFFSET must be a non-negative integer, got {raw!r}")
    return k


def shifted_seed(seed: int) -> int:
    """The seed actually used for the seed ``seed`` a notebook wrote: ``seed + k · 1000003`` with
    k = ``COURSE_SEED_OFFSET`` (0 by default, so ``seed`` itself).

    Every place where course_lib turns a seed into random numbers goes through here
    (:func:`seed_everything`, ``Setup.rng``, ``fit(seed=)``, ``load_dataset``, ``load_baseline``), so
    one switch moves every draw of a notebook (initialization, splits, label noise, batch order,
    masks) to seeds nobody tuned it on, and different seeds stay different. Results stay below
    2³², which scikit-learn's generators need.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    k = seed_offset()
    return seed if k == 0 else (seed + k * SEED_STRIDE) % 2**32


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's generators (all devices) with ``seed``
    (shifted by ``COURSE_SEED_OFFSET``, see :func:`shifted_seed`).

    Returns a fresh CPU ``torch.Generator`` seeded the same way, for code that wants its
    own stream (shuffling, masks) without touching the global one.
    """
    seed = shifted_seed(seed)
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
