"""Checkers for the exercises of notebook 13 (the training recipe and diagnostics).

1. ``check_initial_loss``: the student's ``initial_loss(k)``, the cross-entropy of an untrained classifier
   that gives every one of ``k`` classes the same probability, ln k; recognises log10, log2, 1/k, −ln k and
   1 − 1/k;
2. ``check_monitor``: the student's histogram monitor (a ``course_lib.training.Callback`` class), run
   through ``fit`` on a small model and compared with ``course_lib.monitor.TrainingMonitor``: the
   per-epoch histograms of each ReLU's output and of each Linear weight's gradient, and the update/weight
   ratio per step. Recognises the typical slips: hooks left registered (after training and after an
   error), the gradient's histogram taken before ``backward`` (or from the last batch), the ratio
   inverted, the learning rate (the update) left out, the copy of the weights not cloned.
"""

from __future__ import annotations

import math
from numbers import Real

import torch
from torch import nn

from . import NotAttempted, close, require, run_check
from ..monitor import TrainingMonitor
from ..training import Callback, fit

__all__ = ["check_initial_loss", "check_monitor", "MONITOR_BINS"]

MONITOR_BINS = 12


# --------------------------------------------------------------------------- exercise 1
def check_initial_loss(initial_loss) -> bool:
    """``initial_loss(k)``: the expected cross-entropy of a fresh classifier over ``k`` classes, ln k."""

    def check() -> None:
        if initial_loss is None:
            raise NotAttempted
        require(callable(initial_loss), "initial_loss must be a function of k (the number of classes)")
        for k in (3, 10, 2, 100):
            got = initial_loss(k)
            if isinstance(got, torch.Tensor):
                got = got.item()
            require(isinstance(got, Real) and not isinstance(got, bool),
                    f"initial_loss({k}) must return a number, got {type(got).__name__}")
            right = math.log(k)
            if close(got, right):
                continue
            slips = [(math.log10(k), "that is the logarithm to base 10; cross-entropy uses the natural log"),
                     (math.log2(k), "that is the logarithm to base 2 (bits); PyTorch's cross-entropy uses the "
                                    "natural log"),
                     (1 / k, "1/k is the probability each class gets; the loss is minus the log of it"),
                     (-math.log(k), "the sign: the loss is MINUS the log of the probability of the right class, "
                                    "so it is positive"),
                     (1 - 1 / k, "1 − 1/k is the error rate of guessing; the loss is −log of the probability")]
            for value, hint in slips:
                require(not close(got, value), f"initial_loss({k}) = {got:.4g}: {hint}")
            require(False, f"initial_loss({k}) = {got:.4g}; with every class at probability 1/k, what is −log of "
                           f"the right class's probability?")

    return run_check("initial loss", check, "ln k: 2.303 for the ten digits")


# --------------------------------------------------------------------------- exercise 2
def _task():
    g = torch.Generator().manual_seed(13)
    x = torch.randn(120, 6, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) / math.sqrt(m.in_features))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    return model, (x, y)


class _Boom(Callback):
    def on_step_end(self, state):
        if state.step == 3:
            raise RuntimeError("a failure in the middle of training")


def _hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


LR, EPOCHS, BATCH = 0.05, 3, 40


def _run(callback, model, data, extra=()):
    return fit(model, data, epochs=EPOCHS, lr=LR, batch_size=BATCH, seed=0, callbacks=[callback, *extra],
               progress=False)


def _lists(values, name: str):
    require(isinstance(values, dict), f"self.{name} must be a dict {{layer name: list}}, got {type(values).__name__}")
    out = {}
    for layer, items in values.items():
        require(isinstance(items, (list, tuple)), f"self.{name}[{layer!r}] must be a list, got "
                                                   f"{type(items).__name__}")
        out[str(layer)] = items
    return out


def check_monitor(Monitor) -> bool:
    """``Monitor(bins)``: a Callback class filling ``act_hists``, ``grad_hists`` (per epoch) and ``ratios`` (per step)."""

    def check() -> None:
        if Monitor is None:
            raise NotAttempted
        require(isinstance(Monitor, type) and issubclass(Monitor, Callback),
                "pass the class itself (a subclass of course_lib.training.Callback), not an instance")
        ref_model, data = _task()
        ref = TrainingMonitor(bins=MONITOR_BINS)
        _run(ref, ref_model, data)
        model, _ = _task()
        mon = Monitor(MONITOR_BINS)
        _run(mon, model, data)
        require(_hooks(model) == 0, "after training the model still has forward hooks registered: remove them "
                                    "in on_fit_end (keep the handles that register_forward_hook returns)")
        steps = len(ref.ratio_steps)
        acts = _lists(getattr(mon, "act_hists", None), "act_hists")
        grads = _lists(getattr(mon, "grad_hists", None), "grad_hists")
        ratios = _lists(getattr(mon, "ratios", None), "ratios")
        require(set(acts) == set(ref.activations), f"act_hists should have one entry per ReLU, named as in "
                                                   f"model.named_modules() ({sorted(ref.activations)}), got "
                                                   f"{sorted(acts)}")
        require(set(grads) == set(ref.gradients) and set(ratios) == set(ref.ratios),
                f"grad_hists and ratios should have one entry per Linear layer ({sorted(ref.gradients)}), got "
                f"{sorted(grads)} and {sorted(ratios)}")
        for layer, hists in acts.items():
            want = [h.counts for h in ref.activations[layer]]
            require(len(hists) == len(want), f"act_hists[{layer!r}] has {len(hists)} histograms for {EPOCHS} "
                                             f"epochs: record one per epoch, on the epoch's first batch only")
            for e, (got, w) in enumerate(zip(hists, want), start=1):
                got = torch.as_tensor(got, dtype=torch.float64).cpu()
                require(got.shape == w.shape and torch.equal(got, w),
                        f"act_hists[{layer!r}] of epoch {e} differs from the layer's output on the epoch's first "
                        f"batch (counts sum to {got.sum().item():.0f}, expected {w.sum().item():.0f}); use "
                        f"course_lib.monitor.histogram(output, bins)")
        for layer, hists in grads.items():
            want = [h.counts for h in ref.gradients[layer]]
            require(len(hists) == len(want), f"grad_hists[{layer!r}] has {len(hists)} histograms for {EPOCHS} "
                                             f"epochs: one per epoch, on its first batch; is .grad still None "
                                             f"where you read it (before backward)?")
            for e, (got, w) in enumerate(zip(hists, want), start=1):
                got = torch.as_tensor(got, dtype=torch.float64).cpu()
                require(got.shape == w.shape, f"grad_hists[{layer!r}] of epoch {e} has {got.numel()} counts, "
                                              f"expected {w.numel()} (bins)")
                require(torch.equal(got, w), f"grad_hists[{layer!r}] of epoch {e} is not the gradient of the "
                                             f"epoch's first batch: read .grad in on_after_backward, after backward "
                                             f"and before the step (before backward it still holds the previous "
                                             f"batch's gradient)")
        lr = LR
        for layer, values in ratios.items():
            want = ref.ratios[layer]
            require(len(values) == len(want), f"ratios[{layer!r}] has {len(values)} values for {len(want)} "
                                              f"optimizer steps: one per step, in on_step_end")
            got = [float(v) for v in values]
            if all(v == 0 for v in got):
                require(False, f"ratios[{layer!r}] are all 0: the copy of the weights taken before the step "
                               f"changed with them. Keep weight.detach().clone(), not the tensor itself")
            if all(close(g * w, 1.0, rtol=1e-3) for g, w in zip(got, want)):
                require(False, f"ratios[{layer!r}] are inverted: the ratio is ‖ΔW‖ / ‖W‖, the update over the "
                               f"weight")
            if all(close(g * lr, w, rtol=1e-2) for g, w in zip(got, want)):
                require(False, f"ratios[{layer!r}] are 1/lr = {1 / lr:g} times too large: ‖∂L/∂W‖/‖W‖ leaves out the "
                               f"learning rate; measure the update ΔW = W(after step) − W(before step)")
            for s, (g, w) in enumerate(zip(got, want), start=1):
                require(close(g, w, rtol=1e-3), f"ratios[{layer!r}] at step {s} is {g:.4g}, expected ‖ΔW‖/‖W‖ = "
                                                f"{w:.4g}: copy W after backward, compare after the step")
        model, _ = _task()
        mon = Monitor(MONITOR_BINS)
        try:
            _run(mon, model, data, extra=[_Boom()])
        except RuntimeError:
            pass
        require(_hooks(model) == 0, "when training raises, the model keeps your hooks: remove them in "
                                    "on_exception(state, exc) too (fit calls it before re-raising)")

    return run_check("histogram monitor", check, "the same histograms and ratios as course_lib's TrainingMonitor, "
                                                 "and no hook left behind")
