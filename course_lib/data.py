"""Datasets as tensors, split into train / validation / test, and batched on the device.

Offline sets (the ``fast`` profile; no network needed):

=============  ===================================================  =====================
name           what                                                 shape of one input
=============  ===================================================  =====================
``digits``     scikit-learn's 8x8 handwritten digits, 10 classes    ``(1, 8, 8)``
``mnist1d``    MNIST-1D (Greydanus & Kobak), generated, 10 classes  ``(40,)``
``moons``      two interleaving half-circles, 2 classes             ``(2,)``
``spirals``    interleaved spiral arms, 3 classes                   ``(2,)``
``poly``       noisy samples of a cubic, regression                 ``(1,)``
=============  ===================================================  =====================

Real sets for the ``full`` profile, through ``torchvision.datasets``: ``mnist``,
``fashion_mnist`` (``(1, 28, 28)``) and ``cifar10`` (``(3, 32, 32)``). Pixel values are
scaled to [0, 1].

Small datasets are kept whole on the device; :class:`DeviceLoader` cuts shuffled
mini-batches from them there, which is far faster than a per-sample ``DataLoader``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "Split", "DatasetSplits", "DeviceLoader", "OFFLINE_DATASETS", "TORCHVISION_DATASETS",
    "DATASETS", "load_dataset", "load_photo", "make_polynomial", "make_spirals", "data_root",
]

OFFLINE_DATASETS = ("digits", "mnist1d", "moons", "spirals", "poly")
TORCHVISION_DATASETS = ("mnist", "fashion_mnist", "cifar10")
DATASETS = OFFLINE_DATASETS + TORCHVISION_DATASETS
PHOTOS = ("cat", "astronaut", "coffee", "camera")


def data_root() -> Path:
    """Folder for downloaded and cached data: ``COURSE_DATA`` or ``~/.cache/course_lib``."""
    return Path(os.environ.get("COURSE_DATA") or Path.home() / ".cache" / "course_lib").expanduser()


# --------------------------------------------------------------------------- containers
@dataclass
class Split:
    """One split of a dataset: inputs ``x`` of shape ``(N, ...)`` and targets ``y`` of shape ``(N, ...)``."""

    x: Tensor
    y: Tensor

    def __post_init__(self) -> None:
        if not isinstance(self.x, Tensor) or not isinstance(self.y, Tensor):
            raise TypeError(f"Split needs tensors, got x: {type(self.x).__name__}, y: {type(self.y).__name__}")
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x and y disagree on the number of samples: x has {self.x.shape[0]} "
                             f"(shape {tuple(self.x.shape)}), y has {self.y.shape[0]} (shape {tuple(self.y.shape)})")

    def __len__(self) -> int:
        return self.x.shape[0]

    def __iter__(self):  # lets ``x, y = split`` work
        return iter((self.x, self.y))

    def to(self, device: torch.device | str) -> "Split":
        return Split(self.x.to(device), self.y.to(device))

    def subset(self, n: int, generator: torch.Generator | None = None) -> "Split":
        """A random subset of ``n`` samples (without replacement)."""
        if not 0 < n <= len(self):
            raise ValueError(f"subset size must be in 1..{len(self)}, got {n}")
        idx = torch.randperm(len(self), generator=generator)[:n].to(self.x.device)
        return Split(self.x[idx], self.y[idx])


@dataclass
class DatasetSplits:
    """A dataset split three ways, plus what a model needs to know about it."""

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int | None  # None for regression
    classes: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        return "regression" if self.num_classes is None else "classification"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    @property
    def num_features(self) -> int:
        return int(np.prod(self.input_shape))

    def to(self, device: torch.device | str) -> "DatasetSplits":
        return replace(self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device))

    def __repr__(self) -> str:
        kind = f"{self.num_classes} classes" if self.num_classes else "regression"
        return (f"DatasetSplits({self.name!r}, train={len(self.train)}, val={len(self.val)}, "
                f"test={len(self.test)}, input_shape={self.input_shape}, {kind}, device={self.train.x.device})")


# --------------------------------------------------------------------------- batching
class DeviceLoader:
    """Mini-batches cut from tensors that already live on the compute device.

    Each pass over the loader is one epoch; with ``shuffle=True`` the order is a fresh
    permutation every epoch, drawn from ``generator`` so a seeded run repeats exactly.
    Works like ``torch.utils.data.DataLoader(TensorDataset(x, y), batch_size, shuffle)``
    without the per-sample indexing and collation.
    """

    def __init__(self, x: Tensor, y: Tensor, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = False, generator: torch.Generator | None = None) -> None:
        Split(x, y)  # validates types and lengths
        if len(x) == 0:
            raise ValueError("cannot batch an empty dataset (0 samples)")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if drop_last and batch_size > len(x):
            raise ValueError(f"drop_last=True with batch_size={batch_size} > {len(x)} samples leaves no batch")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.x.device, non_blocking=True)
            x, y = self.x[order], self.y[order]
        else:
            x, y = self.x, self.y
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield x[start:start + self.batch_size], y[start:start + self.batch_size]


# --------------------------------------------------------------------------- generators
def make_spirals(n_samples: int = 600, n_classes: int = 3, noise: float = 0.2,
                 generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Points on ``n_classes`` interleaved spiral arms (the cs231n toy set).

    Arm k: radius r in (0, 1], angle θ = 4r + 2πk/K + noise·ε; x = r (sin θ, cos θ).
    """
    if n_classes < 2 or n_samples < n_classes:
        raise ValueError(f"need n_classes >= 2 and n_samples >= n_classes, got {n_samples}, {n_classes}")
    per = n_samples // n_classes
    r = torch.linspace(0.0, 1.0, per + 1)[1:].repeat(n_classes)  # r = 0 would be one point shared by all arms
    k = torch.arange(n_classes).repeat_interleave(per)
    theta = 4 * r + 2 * torch.pi * k / n_classes + noise * torch.randn(per * n_classes, generator=generator)
    x = torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1)
    return x, k


def make_polynomial(n_samples: int = 40, noise: float = 0.3, generator: torch.Generator | None = None
                    ) -> tuple[Tensor, Tensor]:
    """Noisy samples of the cubic f(x) = 1.5x³ − x² − x + 0.5 for x uniform in [−1.5, 1.5].

    Returns ``x`` of shape ``(N, 1)`` and ``y = f(x) + noise·ε`` of shape ``(N, 1)``.
    """
    x = torch.rand(n_samples, 1, generator=generator) * 3 - 1.5
    y = polynomial_target(x) + noise * torch.randn(n_samples, 1, generator=generator)
    return x, y


def polynomial_target(x: Tensor) -> Tensor:
    """The noise-free cubic behind the ``poly`` dataset."""
    return 1.5 * x**3 - x**2 - x + 0.5


def _mnist1d_arrays(num_samples: int, seed: int) -> dict[str, np.ndarray]:
    """MNIST-1D generated procedurally (never downloaded), cached on disk after the first call."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args(as_dict=True)
    args.update(num_samples=num_samples, seed=seed)
    key = hashlib.sha1(json.dumps({k: v for k, v in args.items() if k != "url"}, sort_keys=True).encode()).hexdigest()[:12]
    cache = data_root() / f"mnist1d-{key}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return dict(f)
    from mnist1d.utils import ObjectView

    raw = make_dataset(ObjectView(args))
    arrays = {k: np.asarray(raw[k]) for k in ("x", "y", "x_test", "y_test")}
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home still works, just without the cache
    return arrays


# --------------------------------------------------------------------------- splitting
def _split_off(x: Tensor, y: Tensor, fraction: float, generator: torch.Generator) -> tuple[Split, Split]:
    """Randomly split (x, y) into (rest, part) where part holds ``fraction`` of the samples."""
    n = len(x)
    n_part = int(round(fraction * n))
    if not 0 < n_part < n:
        raise ValueError(f"a split fraction of {fraction} of {n} samples leaves an empty split")
    order = torch.randperm(n, generator=generator)
    part, rest = order[:n_part], order[n_part:]
    return Split(x[rest], y[rest]), Split(x[part], y[part])


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value}")


# --------------------------------------------------------------------------- loaders
def load_dataset(name: str, *, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0,
                 device: torch.device | str | None = None, n_samples: int | None = None, noise: float | None = None,
                 root: str | Path | None = None, download: bool = True) -> DatasetSplits:
    """Load dataset ``name`` as tensors split into train / val / test.

    Parameters
    ----------
    name : one of :data:`DATASETS`.
    val_fraction : share of the training data held out for validation.
    test_fraction : share held out for testing, for sets that have no official test split
        (digits, moons, spirals, poly); MNIST-1D and the torchvision sets keep their own test split.
    seed : seeds the split (and the generation of synthetic sets): same seed, same splits.
    device : where the tensors go (default: stay on the CPU).
    n_samples : size of a generated set (moons, spirals, poly, mnist1d) before splitting.
    noise : noise level of a synthetic set.
    root, download : where torchvision keeps the real datasets and whether it may download them.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; offline: {', '.join(OFFLINE_DATASETS)}; "
                         f"downloaded with torchvision: {', '.join(TORCHVISION_DATASETS)}")
    _check_fraction("val_fraction", val_fraction)
    _check_fraction("test_fraction", test_fraction)
    if n_samples is not None and n_samples < 10:
        raise ValueError(f"n_samples must be at least 10, got {n_samples}")
    g = torch.Generator().manual_seed(seed)
    classes: tuple[str, ...] = ()
    test: Split | None = None

    if key == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
        y = torch.tensor(d.target, dtype=torch.long)
        num_classes, classes = 10, tuple(str(i) for i in range(10))
    elif key == "mnist1d":
        arrays = _mnist1d_arrays(n_samples or 5000, seed=42)  # the canonical set; `seed` only moves the val split
        x = torch.tensor(arrays["x"], dtype=torch.float32)
        y = torch.tensor(arrays["y"], dtype=torch.long)
        test = Split(torch.tensor(arrays["x_test"], dtype=torch.float32), torch.tensor(arrays["y_test"], dtype=torch.long))
        num_classes, classes = 10, tuple(str(i) for i in range(10))
    elif key == "moons":
        from sklearn.datasets import make_moons

        xs, ys = make_moons(n_samples=n_samples or 1000, noise=0.25 if noise is None else noise, random_state=seed)
        x, y = torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.long)
        num_classes = 2
    elif key == "spirals":
        x, y = make_spirals(n_samples or 900, 3, noise=0.2 if noise is None else noise, generator=g)
        num_classes = 3
    elif key == "poly":
        x, y = make_polynomial(n_samples or 60, noise=0.3 if noise is None else noise, generator=g)
        num_classes = None
    else:
        train_full, test, classes = _load_torchvision(key, root=root, download=download)
        x, y = train_full.x, train_full.y
        num_classes = len(classes)

    if test is None:
        rest, test = _split_off(x, y, test_fraction, g)
        x, y = rest.x, rest.y
    train, val = _split_off(x, y, val_fraction, g)
    splits = DatasetSplits(key, train, val, test, num_classes, classes)
    return splits.to(device) if device is not None else splits


_TV_CLASSES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}


def _load_torchvision(key: str, root: str | Path | None, download: bool) -> tuple[Split, Split, tuple[str, ...]]:
    """Train and test split of a torchvision dataset, as float tensors in [0, 1] of shape (N, C, H, W)."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TV_CLASSES[key])
    folder = Path(root) if root is not None else data_root()
    try:
        parts = [cls(str(folder), train=train, download=download) for train in (True, False)]
    except (RuntimeError, OSError) as exc:  # URLError is an OSError
        how = "could not be downloaded" if download else "was not found and download=False"
        raise RuntimeError(
            f"dataset {key!r} {how} (looked in {folder}): {str(exc).strip().splitlines()[0]}\n"
            f"Without internet use an offline dataset instead: {', '.join(OFFLINE_DATASETS)} "
            f"(the default 'fast' profile does), or copy the {_TV_CLASSES[key]} files into {folder} "
            f"(or set COURSE_DATA)."
        ) from exc
    out = []
    for ds in parts:
        data = torch.as_tensor(np.asarray(ds.data))
        if data.ndim == 3:  # (N, H, W) grey images
            data = data.unsqueeze(1)
        else:  # (N, H, W, C) colour images
            data = data.permute(0, 3, 1, 2)
        x = data.float().div_(255.0).contiguous()
        y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.long)
        out.append(Split(x, y))
    return out[0], out[1], tuple(parts[0].classes)


def load_photo(name: str = "cat", device: torch.device | str | None = None) -> Tensor:
    """A sample photo shipped with scikit-image, as a ``uint8`` tensor of shape ``(C, H, W)``.

    Names: ``cat``, ``astronaut``, ``coffee`` (colour) and ``camera`` (grey, one channel).
    """
    import skimage.data

    key = str(name).strip().lower()
    if key not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {', '.join(PHOTOS)}")
    image = np.asarray(getattr(skimage.data, "camera" if key == "camera" else key)())
    t = torch.from_numpy(image.copy())
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1).contiguous()
    return t.to(device) if device is not None else t
