"""Checkers for the exercises of notebook 01 (training and generalization)."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch
from torch import nn

from . import NotAttempted, close, require, run_check
from ..models import count_parameters, mlp
from ..data import DeviceLoader
from ..training import evaluate, fit

__all__ = ["check_parameter_count", "check_training_loop", "check_evaluate", "diagnosis_curves", "plot_diagnosis_curves",
           "check_diagnosis", "DIAGNOSES"]


# --------------------------------------------------------------------------- exercise 1
_SHAPES = [(40, [256, 256], 10), (40, [], 10), (784, [100], 10), (3, [5, 7, 2], 4), (1, [1], 1)]


def _weights_only(n_in: int, hidden: list[int], n_out: int) -> int:
    sizes = [n_in, *hidden, n_out]
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def check_parameter_count(fn) -> bool:
    """``fn(in_features, hidden, out_features)``: the number of parameters of ``mlp(in, hidden, out)``."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(in_features, hidden, out_features), got {type(fn).__name__}")
        for n_in, hidden, n_out in _SHAPES:
            got = fn(n_in, list(hidden), n_out)
            if got is None:
                raise NotAttempted
            case = f"in_features={n_in}, hidden={hidden}, out_features={n_out}"
            require(isinstance(got, (int, np.integer)) and not isinstance(got, bool),
                    f"return a whole number (an int), got {type(got).__name__} for {case}")
            got = int(got)
            expected = count_parameters(mlp(n_in, hidden, n_out))
            sizes = [n_in, *hidden, n_out]
            require(got != _weights_only(n_in, hidden, n_out),
                    f"{got} for {case} counts the weights only: every Linear layer with m outputs also "
                    f"has m biases")
            require(got != expected - (sizes[-2] * n_out + n_out),
                    f"{got} for {case} leaves out the output layer Linear({sizes[-2]}, {n_out})")
            require(got == expected,
                    f"for {case} the network has {expected} parameters, you returned {got}. A Linear(a, b) "
                    f"layer holds a*b weights and b biases; there is one per consecutive pair in "
                    f"[in_features, *hidden, out_features]")

    return run_check("Exercise 1 (parameter count)", check,
                     "sum over layers of (fan_in + 1) * fan_out; the wide MLP has 25x more parameters "
                     "than it has training examples")


# --------------------------------------------------------------------------- exercise 2
def _exercise_model(device: torch.device) -> nn.Module:
    """A small MLP with dropout, so train mode and eval mode give different outputs."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        return mlp(12, [32], 4, dropout=0.5).to(device)


def _exercise_data(device: torch.device, n: int = 203) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(12)
    x = torch.randn(n, 12, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    return x.to(device), y.to(device)


def _as_float(value, name: str) -> float:
    if isinstance(value, torch.Tensor):
        require(value.numel() == 1, f"{name} must be one number, got a tensor of shape {tuple(value.shape)}")
        require(not value.requires_grad,
                f"{name} is a tensor that still tracks gradients: evaluate inside torch.no_grad() "
                f"(and return plain numbers with .item())")
        return float(value.item())
    require(isinstance(value, Real) and not isinstance(value, bool),
            f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def _batch_stats(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int):
    """Per-batch (mean loss, number correct, size) in eval mode."""
    was = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(x[i:i + batch_size])
            yb = y[i:i + batch_size]
            out.append((nn.functional.cross_entropy(logits, yb).item(),
                        (logits.argmax(1) == yb).sum().item(), len(yb)))
    model.train(was)
    return out


def check_evaluate(fn, device: torch.device | str | None = None) -> bool:
    """``fn(model, x, y, batch_size)``: mean cross-entropy and accuracy over all samples, in eval mode.

    Must return a dict ``{"loss": float, "acc": float}``, work when ``batch_size`` does not divide
    the number of samples, and leave the model in the mode it found it in.
    """
    dev = torch.device(device) if device is not None else torch.device("cpu")

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(model, x, y, batch_size), got {type(fn).__name__}")
        model = _exercise_model(dev)
        x, y = _exercise_data(dev)
        batch_size = 50  # 203 samples: batches of 50, 50, 50, 50 and 3
        model.train()
        with torch.random.fork_rng(devices=[dev.index or 0] if dev.type == "cuda" else []):
            torch.manual_seed(0)
            result = fn(model, x, y, batch_size)
            if result is None:
                raise NotAttempted
            require(isinstance(result, dict) and {"loss", "acc"} <= set(result),
                    f"return a dict with keys 'loss' and 'acc', got {type(result).__name__}"
                    + (f" with keys {sorted(result)}" if isinstance(result, dict) else ""))
            loss, acc = _as_float(result["loss"], "'loss'"), _as_float(result["acc"], "'acc'")
            require(model.training, "the model was in train mode before your function ran and is in eval mode "
                                    "after it: remember model.training and restore it at the end")
            again = fn(model, x, y, batch_size)
            loss2 = _as_float(again["loss"], "'loss'")
        require(close(loss, loss2, rtol=1e-5),
                f"two calls on the same data gave different losses ({loss:.4f}, {loss2:.4f}): dropout is "
                f"still active; switch the model to eval mode with model.eval() before the forward passes")
        require(all(p.grad is None for p in model.parameters()),
                "your function left gradients in the parameters: evaluation must not call backward()")
        ref = evaluate(model, (x, y), batch_size=batch_size)
        stats = _batch_stats(model, x, y, batch_size)
        n_batches = len(stats)
        lecture_acc = sum(c for _, c, _ in stats) / (n_batches * batch_size)
        lecture_loss = sum(l for l, _, _ in stats) * batch_size / len(x)
        mean_of_means = sum(l for l, _, _ in stats) / n_batches
        require(0.0 <= acc <= 1.0, f"accuracy is a fraction in [0, 1], got {acc:g}")
        require(not (close(acc, lecture_acc, rtol=1e-4) and not close(acc, ref["acc"], rtol=1e-4)),
                f"accuracy {acc:.4f} divides by {n_batches} x {batch_size} = {n_batches * batch_size} samples, but "
                f"there are {len(x)}: the last batch holds only {len(x) % batch_size}. Count len(y) of each batch")
        require(close(acc, ref["acc"], rtol=1e-4),
                f"accuracy {acc:.4f} is wrong: expected {ref['acc']:.4f} (correct predictions / all samples)")
        require(not (close(loss, lecture_loss, rtol=1e-4) and not close(loss, ref["loss"], rtol=1e-4)),
                f"loss {loss:.4f}: each batch's mean loss was weighted by batch_size = {batch_size}, but the "
                f"last batch holds only {len(x) % batch_size} samples; weight by len(y)")
        require(not (close(loss, mean_of_means, rtol=1e-4) and not close(loss, ref["loss"], rtol=1e-4)),
                f"loss {loss:.4f} is the plain average of the {n_batches} batch means: the small last batch "
                f"counts as much as a full one. Weight each batch mean by its size, then divide by N")
        require(close(loss, ref["loss"], rtol=1e-4),
                f"loss {loss:.4f} is wrong: expected {ref['loss']:.4f}, the mean cross-entropy over all "
                f"{len(x)} samples")

    return run_check("Exercise 3 (evaluate)", check,
                     "eval mode, no gradients, and every sample counted once: that is course_lib's evaluate()")


# --------------------------------------------------------------------------- the training loop
def _loop_model(generator: torch.Generator) -> nn.Module:
    return mlp(6, [16], 3, generator=generator)


def _loop_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    x = torch.randn(107, 6, generator=g)               # 107 samples: batches of 25, 25, 25, 25 and 7
    y = (x[:, :3].argmax(1) + (x[:, 3] > 1).long()) % 3
    return x, y


def _variant_losses(x, y, epochs, batch_size, lr, seed, *, zero_grad=True, shuffle=True, weight=True,
                    reshuffle=True) -> list[float]:
    """The lecture's loop with one detail changed, to recognise a student's slip by its loss curve."""
    model = _loop_model(torch.Generator().manual_seed(seed))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    order = None if reshuffle else torch.randperm(len(x), generator=g)  # drawn once, for that slip
    out = []
    for _ in range(epochs):
        if shuffle and reshuffle:
            order = torch.randperm(len(x), generator=g)
        idx_all = order if shuffle else torch.arange(len(x))
        total, means = 0.0, []
        for start in range(0, len(x), batch_size):
            idx = idx_all[start:start + batch_size]
            if zero_grad:
                opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            means.append(loss.item())
        out.append(total / len(x) if weight else sum(means) / len(means))
    return out


def check_training_loop(fn) -> bool:
    """``fn(model, x, y, epochs, batch_size, lr, generator)``: the mini-batch SGD loop; returns the epoch losses.

    Checked against ``course_lib``'s ``fit`` on the same model, data and generator: the list of
    per-epoch mean training losses and the final weights must agree.
    """
    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(model, x, y, epochs, batch_size, lr, generator), "
                              f"got {type(fn).__name__}")
        x, y = _loop_data()
        epochs, batch_size, lr, seed = 3, 25, 0.5, 4
        model = _loop_model(torch.Generator().manual_seed(seed))
        losses = fn(model, x, y, epochs, batch_size, lr, torch.Generator().manual_seed(seed))
        if losses is None:
            raise NotAttempted
        require(isinstance(losses, (list, tuple)) and len(losses) == epochs,
                f"return a list with one mean training loss per epoch ({epochs} numbers), got "
                f"{type(losses).__name__}" + (f" of length {len(losses)}" if hasattr(losses, "__len__") else ""))
        losses = [_as_float(v, "each loss") for v in losses]
        ref_model = _loop_model(torch.Generator().manual_seed(seed))
        history = fit(ref_model, (x, y), epochs=epochs, batch_size=batch_size, lr=lr,
                      generator=torch.Generator().manual_seed(seed), progress=False)
        expected = history.train_loss
        variants = {
            "zero_grad": ("the gradients were never reset: call optimizer.zero_grad() before each backward(), "
                          "otherwise every step adds the gradients of all earlier batches", dict(zero_grad=False)),
            "weight": ("each epoch's loss is the plain average of the batch means, so the small last batch "
                       f"({len(x) % batch_size} samples) counts as much as a full one: add loss.item() * len(yb) "
                       "and divide by the number of samples", dict(weight=False)),
            "shuffle": ("the batches are taken in the stored order: shuffle at the start of every epoch with "
                        "order = torch.randperm(len(x), generator=generator)", dict(shuffle=False)),
            "reshuffle": ("the data is shuffled once, not at the start of every epoch: draw a new "
                          "torch.randperm(len(x), generator=generator) inside the epoch loop",
                          dict(reshuffle=False)),
        }
        ok = all(close(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(losses, expected))
        if not ok:
            for message, kwargs in variants.values():
                other = _variant_losses(x, y, epochs, batch_size, lr, seed, **kwargs)
                if all(close(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(losses, other)):
                    require(False, message)
            first = next(i for i, (a, b) in enumerate(zip(losses, expected))
                         if not close(a, b, rtol=1e-4, atol=1e-6))
            require(False, f"epoch {first + 1}: your mean training loss is {losses[first]:.5f}, fit gives "
                           f"{expected[first]:.5f}. Check: shuffle with torch.randperm(len(x), generator=generator) "
                           f"once per epoch, batches x[idx[i:i + batch_size]], SGD(model.parameters(), lr=lr), "
                           f"zero_grad → forward → cross-entropy → backward → step, and the loss of each batch "
                           f"weighted by its size")
        for (name, p), q in zip(model.named_parameters(), ref_model.parameters()):
            require(torch.allclose(p.detach(), q.detach(), atol=1e-5),
                    f"the losses agree but the final weights differ ({name}): update the model you were given, "
                    f"in place, with torch.optim.SGD(model.parameters(), lr=lr)")

    return run_check("Exercise 2 (training loop)", check, "the same loss curve and the same weights as fit(): "
                     "this loop is train_epoch, once per epoch")


# --------------------------------------------------------------------------- exercise 3
DIAGNOSES = ("underfitting", "overfitting", "good fit")
_ANSWERS = {"A": "overfitting", "B": "good fit", "C": "underfitting"}
_HINT = {  # what to look at, keyed by the right answer (without naming it)
    "underfitting": "where does the TRAINING error end up? A model that cannot fit even its training data "
                    "shows the same high error on both curves, however much data it gets",
    "overfitting": "look at the distance between the two curves at the largest training set: the training "
                   "error is near zero, the validation error far above it",
    "good fit": "both curves end close together AND low: small gap, small error",
}


def diagnosis_curves() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Three learning curves over training-set size: ``{name: (sizes, train_error, val_error)}``."""
    sizes = np.array([100, 200, 400, 800, 1600, 3200])
    t = np.log2(sizes / 100) / 5  # 0 .. 1 along the curve
    rng = np.random.default_rng(1)
    wiggle = lambda: rng.normal(0, 0.008, sizes.size)  # noqa: E731 - small, fixed measurement noise
    curves = {
        "A": (0.01 + 0.03 * t + wiggle(), 0.78 - 0.38 * t + wiggle()),
        "B": (0.02 + 0.06 * t + wiggle(), 0.55 - 0.45 * t ** 0.6 + wiggle()),
        "C": (0.30 + 0.28 * t ** 0.5 + wiggle(), 0.80 - 0.19 * t ** 0.5 + wiggle()),
    }
    return {k: (sizes, np.clip(tr, 0, 1), np.clip(va, 0, 1)) for k, (tr, va) in curves.items()}


def plot_diagnosis_curves():
    """Draw the three curves of :func:`diagnosis_curves` side by side; returns the figure."""
    import matplotlib.pyplot as plt

    from ..plots import plot_learning_curve

    curves = diagnosis_curves()
    fig, axes = plt.subplots(1, len(curves), figsize=(12, 3.8), sharey=True)
    for ax, (name, (sizes, train, val)) in zip(axes, curves.items()):
        plot_learning_curve(sizes, train, val, ax=ax, title=f"Model {name}")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig


def _normalize(label) -> str:
    text = str(label).strip().lower().replace("-", "").replace("_", " ")
    text = " ".join(text.split())
    return {"overfit": "overfitting", "underfit": "underfitting", "good": "good fit", "goodfit": "good fit",
            "good fitting": "good fit"}.get(text, text)


def check_diagnosis(answer) -> bool:
    """``answer``: ``{"A": label, "B": label, "C": label}`` with labels from :data:`DIAGNOSES`."""

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, dict), f"give a dict like {{'A': 'overfitting', ...}}, got {type(answer).__name__}")
        missing = sorted(set(_ANSWERS) - set(answer))
        require(not missing, f"label every model: missing {missing}")
        labels = {k: _normalize(answer[k]) for k in _ANSWERS}
        if all(v in ("", "none", "...", "?") for v in labels.values()):
            raise NotAttempted
        for key, label in labels.items():
            require(label in DIAGNOSES, f"model {key}: {answer[key]!r} is not one of {DIAGNOSES}")
        for key, label in labels.items():
            right = _ANSWERS[key]
            require(label == right, f"model {key} is not {label}. Hint: {_HINT[right]}")

    return run_check("Exercise 4 (diagnosis)", check,
                     "A overfits (large gap), B fits well (low and close), C underfits (high and close)")
