"""The regularization baseline that notebooks 02–05 share: one data set, one network, one recipe.

Every regularizer of those notebooks (L2, L1, max-norm, dropout, augmentation, input noise,
label smoothing, early stopping) is measured against the same unregularized run, so their
effects can be compared in one table at the end of notebook 05.

**The data** (fast profile): scikit-learn's 8×8 handwritten digits, 500 training images of
which 30 % have their label replaced by a uniformly random one (some by chance keep the true
label), 500 clean validation images and the remaining 797 clean test images. Noisy labels are
what a network memorizes when nothing stops it, so regularization has something to prevent.
(With clean labels and 200 images, L2 does not raise validation accuracy on this network: an
honest negative that notebook 02 mentions.) Full profile: MNIST, 10 000 training images with
the same label noise, 10 000 validation images, the official test set.

**The network**: an MLP 64-256-256-10 (784-1024-1024-10 for MNIST) with ReLU, trained with Adam
(learning rate 2·10⁻³, batch 50) for 150 epochs (fast) — long enough to fit the noisy labels.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import torch
from torch import nn

from . import _checks
from .data import DatasetSplits, Split, load_dataset
from .device import shifted_seed
from .models import mlp

__all__ = ["BASELINE", "corrupt_labels", "load_baseline", "baseline_model", "baseline_optimizer"]

#: the recipe: epochs, batch size and Adam's learning rate, per profile
BASELINE = {
    "fast": {"dataset": "digits", "n_train": 500, "n_val": 500, "hidden": (256, 256), "epochs": 150,
             "batch_size": 50, "lr": 2e-3, "label_noise": 0.3},
    "full": {"dataset": "mnist", "n_train": 10_000, "n_val": 10_000, "hidden": (1024, 1024), "epochs": 60,
             "batch_size": 100, "lr": 1e-3, "label_noise": 0.3},
}


def corrupt_labels(y: torch.Tensor, fraction: float, num_classes: int,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace a random ``fraction`` of the labels ``y`` (N,) by labels drawn uniformly from all classes.

    Returns ``(noisy_y, replaced)``, ``replaced`` a bool mask (N,) of the labels that were redrawn
    (about 1/k of them land on the true class again). ``generator`` makes the choice reproducible.
    """
    _checks.tensor(y, "y", floating=False, ndim=1)
    fraction = _checks.real(fraction, "fraction", low=0.0, high=1.0)
    num_classes = _checks.integer(num_classes, "num_classes", low=2)
    n = len(y)
    count = int(round(fraction * n))
    order = torch.randperm(n, generator=generator)
    replaced = torch.zeros(n, dtype=torch.bool)
    replaced[order[:count]] = True
    new = torch.randint(0, num_classes, (n,), generator=generator)
    noisy = torch.where(replaced, new, y.cpu())
    return noisy.to(y.device), replaced.to(y.device)


def load_baseline(profile: str = "fast", *, seed: int = 0, device: torch.device | str | None = None,
                  label_noise: float | None = None) -> DatasetSplits:
    """The baseline's data for ``profile`` (``"fast"`` or ``"full"``), labels corrupted with ``seed``.

    ``label_noise`` overrides the fraction of corrupted training labels (0 gives clean labels).
    Validation and test labels are always clean. The same ``seed`` gives the same split and noise.
    """
    profile = _checks.one_of(profile, "profile", tuple(BASELINE))
    seed = _checks.integer(seed, "seed", low=0)
    cfg = BASELINE[profile]
    noise = cfg["label_noise"] if label_noise is None else _checks.real(label_noise, "label_noise", low=0.0, high=1.0)
    g = torch.Generator().manual_seed(shifted_seed(seed))  # load_dataset shifts the seed it is given itself
    if cfg["dataset"] == "digits":
        d = load_dataset("digits", seed=seed, val_fraction=0.5, test_fraction=797 / 1797)
        pool_x = torch.cat([d.train.x, d.val.x])
        pool_y = torch.cat([d.train.y, d.val.y])
        test = d.test
    else:
        d = load_dataset(cfg["dataset"], seed=seed)
        pool_x = torch.cat([d.train.x, d.val.x])
        pool_y = torch.cat([d.train.y, d.val.y])
        test = d.test
    n_train, n_val = cfg["n_train"], cfg["n_val"]
    if len(pool_x) < n_train + n_val:
        n_train, n_val = len(pool_x) // 2, len(pool_x) - len(pool_x) // 2  # a small stand-in data set
    order = torch.randperm(len(pool_x), generator=g)
    tr, va = order[:n_train], order[n_train:n_train + n_val]
    noisy, _ = corrupt_labels(pool_y[tr], noise, d.num_classes, generator=g)
    splits = replace(d, name=f"{d.name}-baseline", train=Split(pool_x[tr], noisy), val=Split(pool_x[va], pool_y[va]),
                     test=test)
    return splits.to(device) if device is not None else splits


def baseline_model(data: DatasetSplits, profile: str = "fast", *, dropout: float = 0.0, input_dropout: float = 0.0,
                   hidden: Sequence[int] | None = None, generator: torch.Generator | None = None) -> nn.Sequential:
    """The baseline MLP for ``data`` (a fresh one each call), optionally with dropout.

    ``hidden`` replaces the baseline's hidden widths (for a sweep over network sizes).
    """
    cfg = BASELINE[_checks.one_of(profile, "profile", tuple(BASELINE))]
    hidden = list(cfg["hidden"]) if hidden is None else list(_checks.positive_sizes(hidden, "hidden"))
    model = mlp(data.num_features, hidden, data.num_classes, dropout=dropout,
                input_dropout=input_dropout, generator=generator)
    return model.to(data.train.x.device)


def baseline_optimizer(profile: str = "fast", *, weight_decay: float = 0.0):
    """A factory for ``fit(optimizer=...)``: the baseline's Adam.

    With ``weight_decay`` it is AdamW, decoupled decay on the **weights only**: matrices and
    kernels (tensors of two or more dimensions) decay, biases and other vectors do not, as
    notebook 02 teaches.

    The optimizer is PyTorch's fused implementation (``fused=True``, which the course's devices,
    CPU, CUDA and MPS, all have): the same update rule computed in one kernel for all
    parameters, which makes a baseline run about 1.4 times faster on a laptop CPU than the
    default loop over parameters. Results agree with the default implementation up to rounding.
    """
    cfg = BASELINE[_checks.one_of(profile, "profile", tuple(BASELINE))]
    wd = _checks.real(weight_decay, "weight_decay", low=0.0)
    if not wd:
        return lambda params: torch.optim.Adam(params, lr=cfg["lr"], fused=True)

    def adamw(params):
        params = list(params)
        groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": wd},
                  {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg["lr"], fused=True)

    return adamw
