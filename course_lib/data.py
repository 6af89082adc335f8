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

Every dataset is a small loader function in :data:`DATASET_REGISTRY`, added with the
:func:`register_dataset` decorator; :func:`load_dataset` looks the name up there and does
the common work (checking arguments, splitting, moving to the device). A notebook adds a
dataset of its own the same way, without touching :func:`load_dataset`.

Small datasets are kept whole on the device; :class:`DeviceLoader` cuts shuffled
mini-batches from them there, which is far faster than a per-sample ``DataLoader``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from . import _checks
from ._checks import as_tensor, describe, integer, one_of, real
from .device import shifted_seed

__all__ = [
    "Split", "DatasetSplits", "DeviceLoader", "LoadedData", "DatasetEntry", "DATASET_REGISTRY",
    "register_dataset", "LOADER_OPTIONS", "OFFLINE_DATASETS", "TORCHVISION_DATASETS", "DATASETS", "load_dataset",
    "load_photo", "make_polynomial", "make_spirals", "polynomial_target", "data_root",
]

PHOTOS = ("cat", "astronaut", "coffee", "camera")


def data_root() -> Path:
    """Folder for downloaded and cached data: ``COURSE_DATA`` or ``~/.cache/course_lib``."""
    return Path(os.environ.get("COURSE_DATA") or Path.home() / ".cache" / "course_lib").expanduser()


# --------------------------------------------------------------------------- argument checks
_flag, _device = _checks.flag, _checks.device


def _generator(value: Any, name: str = "generator") -> torch.Generator | None:
    """``None`` or a CPU ``torch.Generator`` (random draws happen on the CPU, then move to the device)."""
    return _checks.generator(value, name, cpu=True)


# --------------------------------------------------------------------------- containers
@dataclass
class Split:
    """One split of a dataset: inputs ``x`` of shape ``(N, ...)`` and targets ``y`` of shape ``(N, ...)``.

    ``x`` and ``y`` are tensors or NumPy arrays. Arrays are converted with ``torch.as_tensor``
    (sharing memory where it can): ``float64`` becomes ``float32``, the dtype of model weights,
    and integer labels ``y`` become ``int64``; other dtypes are kept (``uint8`` images stay
    ``uint8``). Tensors are taken as they are.
    """

    x: Tensor
    y: Tensor

    def __post_init__(self) -> None:
        self.x = as_tensor(self.x, "Split x")
        self.y = as_tensor(self.y, "Split y", labels=True)
        for name, t in (("x", self.x), ("y", self.y)):
            if t.ndim == 0:
                raise ValueError(f"Split {name} must have a first (sample) dimension, got a 0-dim tensor")
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x and y disagree on the number of samples: x has {self.x.shape[0]} "
                             f"(shape {tuple(self.x.shape)}), y has {self.y.shape[0]} (shape {tuple(self.y.shape)})")

    def __len__(self) -> int:
        return self.x.shape[0]

    def __iter__(self):  # lets ``x, y = split`` work
        return iter((self.x, self.y))

    def to(self, device: torch.device | str) -> "Split":
        """This split with both tensors on ``device``."""
        device = _device(device, optional=False)
        return Split(self.x.to(device), self.y.to(device))

    def subset(self, n: int, generator: torch.Generator | None = None) -> "Split":
        """A random subset of ``n`` samples (without replacement), drawn from ``generator``."""
        n = integer(n, "subset size n", low=1, high=len(self))
        idx = torch.randperm(len(self), generator=_generator(generator))[:n].to(self.x.device)
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

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {describe(self.name)}")
        for part in ("train", "val", "test"):
            if not isinstance(getattr(self, part), Split):
                raise TypeError(f"{part} must be a Split, got {describe(getattr(self, part))}")
        if self.num_classes is not None:
            self.num_classes = integer(self.num_classes, "num_classes (None for regression)", low=1)
        if isinstance(self.classes, str) or not all(isinstance(c, str) for c in self.classes):
            raise TypeError(f"classes must be a sequence of class names (str), got {describe(self.classes)}")
        self.classes = tuple(self.classes)

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
        """All three splits on ``device``."""
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
    without the per-sample indexing and collation. ``x`` and ``y`` may be NumPy arrays
    (converted as :class:`Split` does).
    """

    def __init__(self, x: Tensor, y: Tensor, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = False, generator: torch.Generator | None = None) -> None:
        x, y = Split(x, y)  # checks types and lengths
        if len(x) == 0:
            raise ValueError("cannot batch an empty dataset (0 samples)")
        batch_size = integer(batch_size, "batch_size", low=1)
        shuffle, drop_last = _flag(shuffle, "shuffle"), _flag(drop_last, "drop_last")
        if drop_last and batch_size > len(x):
            raise ValueError(f"drop_last=True with batch_size={batch_size} > {len(x)} samples leaves no batch")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.generator = _generator(generator)

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

    Arm k of K: radius r in (0, 1], angle θ = 4r + 2πk/K + noise·ε with ε ~ N(0, 1);
    x = r (sin θ, cos θ). The ``n_samples`` points are shared out as evenly as possible
    (the first ``n_samples % K`` arms get one more). Returns ``x`` of shape ``(N, 2)`` and
    labels ``y`` (the arm) of shape ``(N,)``.
    """
    n_classes = integer(n_classes, "n_classes", low=2)
    n_samples = integer(n_samples, f"n_samples (at least one per arm, n_classes={n_classes})", low=n_classes)
    noise = real(noise, "noise", low=0.0)
    generator = _generator(generator)
    sizes = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    # r = 0 would be one point shared by all arms, so each arm starts one step out
    r = torch.cat([torch.linspace(0.0, 1.0, m + 1)[1:] for m in sizes])
    k = torch.arange(n_classes).repeat_interleave(torch.tensor(sizes))
    theta = 4 * r + 2 * torch.pi * k / n_classes + noise * torch.randn(n_samples, generator=generator)
    x = torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1)
    return x, k


def make_polynomial(n_samples: int = 40, noise: float = 0.3, generator: torch.Generator | None = None
                    ) -> tuple[Tensor, Tensor]:
    """Noisy samples of the cubic f(x) = 1.5x³ − x² − x + 0.5 for x uniform in [−1.5, 1.5].

    Returns ``x`` of shape ``(N, 1)`` and ``y = f(x) + noise·ε`` with ε ~ N(0, 1), of shape ``(N, 1)``.
    """
    n_samples = integer(n_samples, "n_samples", low=1)
    noise = real(noise, "noise", low=0.0)
    generator = _generator(generator)
    x = torch.rand(n_samples, 1, generator=generator) * 3 - 1.5
    y = polynomial_target(x) + noise * torch.randn(n_samples, 1, generator=generator)
    return x, y


def polynomial_target(x: Tensor) -> Tensor:
    """The noise-free cubic behind the ``poly`` dataset: f(x) = 1.5x³ − x² − x + 0.5, elementwise."""
    if not isinstance(x, (Tensor, np.ndarray)):
        raise TypeError(f"x must be a torch.Tensor or a NumPy array, got {describe(x)}")
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


# --------------------------------------------------------------------------- the registry
@dataclass
class LoadedData:
    """What a dataset loader returns: every sample ``(x, y)``, or the training part and an official ``test``.

    ``num_classes`` is ``None`` for regression; ``classes`` names the classes (optional).
    Without ``test``, :func:`load_dataset` holds out ``test_fraction`` of ``(x, y)`` for testing.
    """

    x: Tensor
    y: Tensor
    num_classes: int | None
    classes: tuple[str, ...] = ()
    test: Split | None = None


@dataclass(frozen=True)
class DatasetEntry:
    """One registered dataset: its loader, whether it works offline, and which options the loader takes."""

    name: str
    loader: Callable[..., LoadedData]
    offline: bool
    options: frozenset[str]


#: What :func:`load_dataset` can hand a loader; a loader names the ones it uses as its arguments.
LOADER_OPTIONS = ("generator", "seed", "n_samples", "noise", "root", "download")

#: Every dataset :func:`load_dataset` knows, by name, in the order registered.
DATASET_REGISTRY: dict[str, DatasetEntry] = {}


def _dataset_key(name: Any, what: str = "dataset name") -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str such as 'digits', got {describe(name)}")
    return name.strip().lower().replace("-", "_")


def register_dataset(name: str, *, offline: bool) -> Callable[[Callable[..., LoadedData]], Callable[..., LoadedData]]:
    """Decorator: ``load_dataset(name)`` calls the decorated loader, which returns a :class:`LoadedData`.

    The loader's arguments say which options of :func:`load_dataset` it uses, out of
    :data:`LOADER_OPTIONS`: ``generator`` (a ``torch.Generator`` seeded with ``seed``; draw every
    random number from it), ``seed``, ``n_samples``, ``noise``, ``root``, ``download``. Give
    ``n_samples`` and ``noise`` defaults: they are passed only when the caller sets them, and a
    caller who sets one for a dataset whose loader does not take it gets an error. ``offline``
    says whether it works without internet (listed in ``OFFLINE_DATASETS``, otherwise in
    ``TORCHVISION_DATASETS``). A name can be registered once. Example::

        @register_dataset("circles", offline=True)
        def load_circles(seed, n_samples=500, noise=0.1):
            x, y = sklearn.datasets.make_circles(n_samples, noise=noise, random_state=seed)
            return LoadedData(torch.tensor(x, dtype=torch.float32), torch.tensor(y), num_classes=2)
    """
    key = _dataset_key(name)
    if not key:
        raise ValueError(f"dataset name must not be empty, got {name!r}")
    if key in DATASET_REGISTRY:
        raise ValueError(f"dataset {key!r} is already registered; choose another name")
    offline = _flag(offline, "offline")

    def decorator(loader: Callable[..., LoadedData]) -> Callable[..., LoadedData]:
        if not callable(loader):
            raise TypeError(f"register_dataset({key!r}) decorates a loader function, got {describe(loader)}")
        options = set()
        for p in inspect.signature(loader).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name not in LOADER_OPTIONS:
                raise TypeError(f"the loader of dataset {key!r} takes {p}, which load_dataset cannot give; "
                                f"a loader names the options it uses, out of {', '.join(LOADER_OPTIONS)}")
            options.add(p.name)
        if key in DATASET_REGISTRY:  # registered between the call and the decoration
            raise ValueError(f"dataset {key!r} is already registered; choose another name")
        DATASET_REGISTRY[key] = DatasetEntry(key, loader, offline, frozenset(options))
        return loader

    return decorator


def __getattr__(attribute: str) -> tuple[str, ...]:
    """``OFFLINE_DATASETS``, ``TORCHVISION_DATASETS`` and ``DATASETS``, read from the registry when asked."""
    if attribute == "OFFLINE_DATASETS":
        return tuple(name for name, entry in DATASET_REGISTRY.items() if entry.offline)
    if attribute == "TORCHVISION_DATASETS":
        return tuple(name for name, entry in DATASET_REGISTRY.items() if not entry.offline)
    if attribute == "DATASETS":
        return __getattr__("OFFLINE_DATASETS") + __getattr__("TORCHVISION_DATASETS")
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


# --------------------------------------------------------------------------- the offline sets
_DIGITS = tuple(str(i) for i in range(10))


def _digits_arrays() -> dict[str, np.ndarray]:
    """scikit-learn's digits as arrays, cached on disk after the first call: importing
    ``sklearn.datasets`` takes seconds, reading the cache milliseconds."""
    from importlib.metadata import version

    cache = data_root() / f"digits-sklearn-{version('scikit-learn')}.npz"
    if cache.exists():
        with np.load(cache) as f:
            return dict(f)
    from sklearn.datasets import load_digits

    d = load_digits()
    arrays = {"images": np.asarray(d.images), "target": np.asarray(d.target)}
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home still works, just without the cache
    return arrays


@register_dataset("digits", offline=True)
def _load_digits() -> LoadedData:
    """scikit-learn's 1797 handwritten digits, 8x8 pixels scaled to [0, 1]."""
    d = _digits_arrays()
    x = torch.tensor(d["images"], dtype=torch.float32).unsqueeze(1) / 16.0
    return LoadedData(x, torch.tensor(d["target"], dtype=torch.long), 10, _DIGITS)


@register_dataset("mnist1d", offline=True)
def _load_mnist1d(n_samples: int = 5000) -> LoadedData:
    """MNIST-1D: the canonical set (generator seed 42; ``seed`` only moves the val split), 80% train / 20% test.

    The generator makes the same number of samples of every class, so for an ``n_samples`` that is
    not a multiple of 10 it makes the next multiple and the last samples are left out.
    """
    arrays = _mnist1d_arrays(-(-n_samples // 10) * 10, seed=42)
    x = np.concatenate([arrays["x"], arrays["x_test"]])[:n_samples]
    y = np.concatenate([arrays["y"], arrays["y_test"]])[:n_samples]
    n_train = int(n_samples * 0.8)  # as mnist1d splits: int(len * train_split)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    return LoadedData(x[:n_train], y[:n_train], 10, _DIGITS, test=Split(x[n_train:], y[n_train:]))


@register_dataset("moons", offline=True)
def _load_moons(seed: int, n_samples: int = 1000, noise: float = 0.25) -> LoadedData:
    """scikit-learn's two interleaving half-circles."""
    from sklearn.datasets import make_moons

    xs, ys = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return LoadedData(torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.long), 2)


@register_dataset("spirals", offline=True)
def _load_spirals(generator: torch.Generator, n_samples: int = 900, noise: float = 0.2) -> LoadedData:
    """Three spiral arms, from :func:`make_spirals`."""
    x, y = make_spirals(n_samples, 3, noise=noise, generator=generator)
    return LoadedData(x, y, 3)


@register_dataset("poly", offline=True)
def _load_poly(generator: torch.Generator, n_samples: int = 60, noise: float = 0.3) -> LoadedData:
    """A noisy cubic, from :func:`make_polynomial` (regression)."""
    x, y = make_polynomial(n_samples, noise=noise, generator=generator)
    return LoadedData(x, y, None)


# --------------------------------------------------------------------------- the torchvision sets
_TV_CLASSES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}


STANDIN_MANIFEST = "STANDIN.json"  # lies beside the stand-in files that tools/standin_data.py writes


def _open_torchvision(cls: type, folder: Path, train: bool, download: bool):
    """``cls(folder, train=train, download=download)``, also for the stand-in CIFAR-10 files of a dry run.

    torchvision's ``CIFAR10`` compares the MD5 sum of each file with the official archive's, which the
    small stand-in files of the full-profile dry run (``tools/standin_data.py``) cannot match. They come
    with a manifest of their own sums; when it is there, this one instance of the real class checks
    against those instead (instance attributes; the class is untouched), and torchvision's own code
    checks and reads the files. A folder with the real dataset has no manifest.
    """
    manifest = folder / getattr(cls, "base_folder", "") / STANDIN_MANIFEST
    if cls.__name__ != "CIFAR10" or not manifest.is_file():
        return cls(str(folder), train=train, download=download)
    md5 = json.loads(manifest.read_text())["md5"]
    ds = cls.__new__(cls)
    ds.train_list = [[name, md5.get(name, "not in the manifest")] for name, _ in cls.train_list]
    ds.test_list = [[name, md5.get(name, "not in the manifest")] for name, _ in cls.test_list]
    ds.meta = {**cls.meta, "md5": md5.get(cls.meta["filename"], "not in the manifest")}
    ds.__init__(str(folder), train=train, download=download)
    return ds


def _load_torchvision(key: str, root: str | os.PathLike | None, download: bool) -> LoadedData:
    """Train and test split of a torchvision dataset, as float tensors in [0, 1] of shape (N, C, H, W)."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TV_CLASSES[key])
    folder = Path(root) if root is not None else data_root()
    try:
        parts = [_open_torchvision(cls, folder, train, download) for train in (True, False)]
    except (RuntimeError, OSError) as exc:  # URLError is an OSError
        how = "could not be downloaded" if download else "was not found and download=False"
        offline = ", ".join(__getattr__("OFFLINE_DATASETS"))
        raise RuntimeError(
            f"dataset {key!r} {how} (looked in {folder}): {str(exc).strip().splitlines()[0]}\n"
            f"Without internet use an offline dataset instead: {offline} "
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
    classes = tuple(parts[0].classes)
    return LoadedData(out[0].x, out[0].y, len(classes), classes, test=out[1])


def _torchvision_loader(key: str) -> Callable[..., LoadedData]:
    def load(root: str | os.PathLike | None = None, download: bool = True) -> LoadedData:
        return _load_torchvision(key, root, download)

    load.__doc__ = f"{_TV_CLASSES[key]} through torchvision.datasets, with its official test split."
    return load


for _key in _TV_CLASSES:
    register_dataset(_key, offline=False)(_torchvision_loader(_key))


# --------------------------------------------------------------------------- splitting
def _split_off(x: Tensor, y: Tensor, fraction: float, name: str, generator: torch.Generator) -> tuple[Split, Split]:
    """Randomly split (x, y) into (rest, part) where part holds ``fraction`` of the samples."""
    n = len(x)
    n_part = int(round(fraction * n))
    if not 0 < n_part < n:
        raise ValueError(f"{name}={fraction} of {n} samples leaves an empty split ({n_part} and {n - n_part} "
                         f"samples); choose a fraction that keeps at least one sample on each side")
    order = torch.randperm(n, generator=generator)
    part, rest = order[:n_part], order[n_part:]
    return Split(x[rest], y[rest]), Split(x[part], y[part])


# --------------------------------------------------------------------------- loading
def load_dataset(name: str, *, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0,
                 device: torch.device | str | None = None, n_samples: int | None = None, noise: float | None = None,
                 root: str | os.PathLike | None = None, download: bool = True) -> DatasetSplits:
    """Load dataset ``name`` as tensors split into train / val / test.

    Parameters
    ----------
    name : one of :data:`DATASETS` (anything registered with :func:`register_dataset`).
    val_fraction : share of the training data held out for validation, in (0, 1).
    test_fraction : share held out for testing, in (0, 1), for sets that have no official test split
        (digits, moons, spirals, poly); MNIST-1D and the torchvision sets keep their own test split.
    seed : an int in [0, 2³² − 1]; seeds the split (and the generation of synthetic sets): same seed,
        same splits.
    device : where the tensors go (default: stay on the CPU).
    n_samples : size of a generated set (moons, spirals, poly, mnist1d) before splitting, at least 10;
        the set has exactly this many samples.
    noise : noise level (≥ 0) of a synthetic set (moons, spirals, poly).
    root, download : where torchvision keeps the real datasets and whether it may download them.

    ``n_samples`` and ``noise`` given for a dataset that has no such option are an error, not ignored.
    """
    key = _dataset_key(name)
    if key not in DATASET_REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; offline: {', '.join(__getattr__('OFFLINE_DATASETS'))}; "
                         f"downloaded with torchvision: {', '.join(__getattr__('TORCHVISION_DATASETS'))}")
    entry = DATASET_REGISTRY[key]
    val_fraction = real(val_fraction, "val_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    test_fraction = real(test_fraction, "test_fraction", low=0.0, high=1.0, low_open=True, high_open=True)
    seed = integer(seed, "seed", low=0)
    if seed >= 2**32:  # scikit-learn's generators take seeds below 2**32
        raise ValueError(f"seed must be an int in [0, 2**32 - 1], got {seed}")
    device = _device(device)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder (str or Path) or None, got {describe(root)}")
    download = _flag(download, "download")
    options: dict[str, Any] = {}
    if n_samples is not None:
        options["n_samples"] = integer(n_samples, "n_samples", low=10)
    if noise is not None:
        options["noise"] = real(noise, "noise", low=0.0)
    for option in options:
        if option not in entry.options:
            takers = [n for n, e in DATASET_REGISTRY.items() if option in e.options]
            raise ValueError(f"{option} does not apply to dataset {key!r}; it applies to {', '.join(takers)}")

    seed = shifted_seed(seed)
    g = torch.Generator().manual_seed(seed)
    given = {"generator": g, "seed": seed, "root": root, "download": download, **options}
    data = entry.loader(**{k: v for k, v in given.items() if k in entry.options})
    if not isinstance(data, LoadedData):
        raise TypeError(f"the loader of dataset {key!r} must return a LoadedData, got {describe(data)}")
    x, y, test = data.x, data.y, data.test
    if test is None:
        rest, test = _split_off(x, y, test_fraction, "test_fraction", g)
        x, y = rest.x, rest.y
    train, val = _split_off(x, y, val_fraction, "val_fraction", g)
    splits = DatasetSplits(key, train, val, test, data.num_classes, data.classes)
    return splits.to(device) if device is not None else splits


def load_photo(name: str = "cat", device: torch.device | str | None = None) -> Tensor:
    """A sample photo shipped with scikit-image, as a ``uint8`` tensor of shape ``(C, H, W)``.

    Names: ``cat``, ``astronaut``, ``coffee`` (colour) and ``camera`` (grey, one channel).
    """
    import skimage.data

    key = one_of(name, "photo name", PHOTOS)
    device = _device(device)
    image = np.asarray(getattr(skimage.data, key)())
    t = torch.from_numpy(image.copy())
    t = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1).contiguous()
    return t.to(device) if device is not None else t
