"""Model ensembles: average the predicted probabilities of several networks; snapshot ensembles.

**The ensemble average.** M members f_1 .. f_M, each giving logits z_m(x) (N, k). The ensemble
predicts the mean of their probabilities,

    p̂(y | x) = (1/M) Σ_m softmax(z_m(x))_y ,

not the mean of the logits and not a majority vote of the argmaxes. Its log loss is never worse
than the members' mean log loss: −log is convex, so by Jensen's inequality

    −log p̂(y | x) = −log (1/M) Σ_m p_m(y | x)  ≤  (1/M) Σ_m −log p_m(y | x)    for every example,

with equality only when all members give the label the same probability. How much better it is
depends on how independent the members' errors are (different seeds, different minima).

**Snapshot ensembles** (Huang et al. 2017): one training run with a warm-restart schedule
(:class:`course_lib.schedules.CosineAnnealingWarmRestarts`, periods T_0, T_0·T_mult, ...). At the end of
each period the learning rate is near η_min and the weights sit in a minimum; the restart kicks
them out towards another. :class:`SnapshotCallback` keeps a copy of the weights at each period
end (:func:`cycle_ends` lists those epochs), and :class:`Ensemble` averages the copies: M members
for the price of one run.

Where it computes follows the library's rule (:func:`course_lib.device.resolve_device`), as
``training.predict`` and ``dropout.mc_predict``: an explicit ``device=`` wins, else the device of
``x``; the members are moved there.
"""

from __future__ import annotations

import copy
from typing import Iterable, Sequence

import torch
from torch import Tensor, nn

from ._checks import describe, integer, one_of, tensor
from .device import resolve_device
from .schedules import CosineAnnealingWarmRestarts
from .training import Callback, FitState, predict

__all__ = ["Ensemble", "ensemble_probs", "log_loss", "cycle_ends", "SnapshotCallback"]


def _check_members(members, name: str = "members") -> list[nn.Module]:
    if isinstance(members, nn.Module) or not isinstance(members, Iterable):
        raise TypeError(f"{name} must be a list of nn.Module (the ensemble's members), got {describe(members)}")
    members = list(members)
    if not members:
        raise ValueError(f"{name} is empty: an ensemble needs at least one member")
    for i, m in enumerate(members):
        if not isinstance(m, nn.Module):
            raise TypeError(f"{name}[{i}] must be an nn.Module, got {describe(m)}")
    return members


def _check_outputs(outs: Sequence[Tensor], name: str = "members") -> None:
    shapes = [tuple(o.shape) for o in outs]
    if outs[0].ndim != 2:
        raise ValueError(f"{name} must output logits of shape (N, classes), {name}[0] gave shape {shapes[0]}")
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            what = "classes" if len(s) == 2 and s[0] == shapes[0][0] else "output shapes"
            raise ValueError(f"{name} disagree on the number of {what}: {name}[0] gives shape {shapes[0]}, "
                             f"{name}[{i}] gives {s}; every member must predict the same classes")


class Ensemble(nn.Module):
    """An ensemble used like a model: ``Ensemble(members)(x)`` is the mean of the members' softmax outputs.

    ``x`` (N, *) → (N, k):  p̂ = (1/M) Σ_m softmax(f_m(x), dim=1).  Gradients flow to every member.
    ``output="log_probs"`` returns log p̂ instead, so that ``evaluate(ensemble, data)`` with its
    cross-entropy loss reports the ensemble's log loss (cross-entropy of log-probabilities that
    already sum to 1 is the negative log-likelihood). The argmax, hence the accuracy, is the same.
    The members are kept in an ``nn.ModuleList`` (``.to(device)``, ``.eval()`` reach them all).
    """

    def __init__(self, members: Iterable[nn.Module], output: str = "probs") -> None:
        super().__init__()
        self.members = nn.ModuleList(_check_members(members))
        self.output = one_of(output, "output", ("probs", "log_probs"))

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "x")
        outs = [m(x) for m in self.members]
        _check_outputs(outs)
        probs = torch.stack([o.softmax(dim=1) for o in outs]).mean(dim=0)
        return probs.clamp_min(torch.finfo(probs.dtype).tiny).log() if self.output == "log_probs" else probs

    def extra_repr(self) -> str:
        return f"{len(self.members)} members, output={self.output}"


def ensemble_probs(members: Iterable[nn.Module], x: Tensor, *, batch_size: int = 4096,
                   device: torch.device | str | None = None) -> Tensor:
    """The ensemble's prediction: ``(1/M) Σ_m softmax(f_m(x))``, each member in eval mode.

    ``x`` (N, *) → (N, k) probabilities (rows sum to 1), on the device where it computed: an explicit
    ``device``, else ``x``'s (each member is moved there, as :func:`~course_lib.training.predict`
    does). Each member's train/eval mode is restored afterwards; no gradients are recorded.
    """
    members = _check_members(members)
    x = tensor(x, "x")
    dev = resolve_device(members[0], x, device)
    with torch.no_grad():
        outs = [predict(m, x, batch_size=batch_size, device=dev) for m in members]
    _check_outputs(outs)
    return torch.stack([o.softmax(dim=1) for o in outs]).mean(dim=0)


def log_loss(probs: Tensor, y: Tensor) -> float:
    """Mean negative log-likelihood of the labels: ``−(1/N) Σ_i log p_i(y_i)``.

    ``probs`` (N, k) probabilities, ``y`` (N,) class indices on the same device. A probability of 0
    is clamped to the smallest positive float (a large but finite loss).
    """
    tensor(probs, "probs", floating=True, ndim=2)
    tensor(y, "y", floating=False, ndim=1)
    if y.shape[0] != probs.shape[0]:
        raise ValueError(f"y must hold one label per row of probs ({probs.shape[0]}), got {y.shape[0]}")
    if probs.min() < 0 or not torch.allclose(probs.sum(1), torch.ones_like(probs[:, 0]), atol=1e-3):
        raise ValueError("probs rows must be probabilities (>= 0, summing to 1); pass logits.softmax(dim=1)")
    p = probs.gather(1, y.to(probs.device)[:, None]).squeeze(1)
    return float(-p.clamp_min(torch.finfo(probs.dtype).tiny).log().mean())


def cycle_ends(T_0: int, T_mult: int = 1, epochs: int | None = None, *, count: int | None = None) -> list[int]:
    """The epochs (1-based) at which the periods of a warm-restart schedule end: T_0, T_0 + T_0·T_mult, ...

    The schedule stepped once per epoch restarts after each of them. ``epochs``: keep the ends
    within a run of that many epochs; ``count``: stop after that many ends. At least one of the two.
    """
    T_0, T_mult = integer(T_0, "T_0", low=1), integer(T_mult, "T_mult", low=1)
    if epochs is None and count is None:
        raise ValueError("cycle_ends needs epochs (the length of the run) or count (how many ends)")
    epochs = None if epochs is None else integer(epochs, "epochs", low=0)
    count = None if count is None else integer(count, "count", low=0)
    ends, end, period = [], 0, T_0
    while (count is None or len(ends) < count):
        end += period
        if epochs is not None and end > epochs:
            break
        ends.append(end)
        period *= T_mult
    return ends


class SnapshotCallback(Callback):
    """A ``fit`` callback that keeps a copy of the model at the end of each warm-restart period.

    ``SnapshotCallback(scheduler)`` with a :class:`~course_lib.schedules.CosineAnnealingWarmRestarts`
    stepped once per epoch (``SchedulerCallback(scheduler)``) from a fresh start (``last_epoch`` 0):
    at the end of epoch e it copies the model if e is one of :func:`cycle_ends` (T_0, T_0 + T_0·T_mult,
    ...), the last epoch at the small learning rate before the restart. After ``fit``:
    ``snapshots`` (deep copies, in eval mode, on the training device), ``epochs`` (their 1-based
    epochs), ``ensemble(output=...)`` an :class:`Ensemble` of them. A capped run keeps the ends it
    reached (``include_last=True`` adds the final epoch if it is not one, e.g. a run cut short).
    """

    def __init__(self, scheduler, include_last: bool = False) -> None:
        if not isinstance(scheduler, (CosineAnnealingWarmRestarts,
                                      torch.optim.lr_scheduler.CosineAnnealingWarmRestarts)):
            raise TypeError(f"scheduler must be a warm-restart schedule (course_lib.schedules."
                            f"CosineAnnealingWarmRestarts): snapshots are taken at its restarts, got "
                            f"{describe(scheduler)}")
        if not isinstance(include_last, bool):
            raise TypeError(f"include_last must be a bool, got {describe(include_last)}")
        self.scheduler = scheduler
        self.include_last = include_last
        self.snapshots: list[nn.Module] = []
        self.epochs: list[int] = []
        self._start = 0

    def on_fit_start(self, state: FitState) -> None:
        if self.scheduler.optimizer is not state.optimizer:
            raise ValueError("the scheduler adjusts a different optimizer from the one fit trains with; build the "
                             "optimizer, the scheduler on it, and pass the same optimizer to fit(optimizer=...)")
        if self.scheduler.last_epoch != 0:
            raise ValueError(f"the scheduler must start fresh (last_epoch 0) so that its periods line up with the "
                             f"epochs of fit, got last_epoch {self.scheduler.last_epoch}")
        self.snapshots, self.epochs = [], []
        self._start = len(state.history)   # fit may continue a history: count this run's epochs from 1

    def _take(self, state: FitState, epoch: int) -> None:
        snap = copy.deepcopy(state.model).eval()
        for p in snap.parameters():
            p.requires_grad_(False)
        self.snapshots.append(snap)
        self.epochs.append(epoch)

    def on_epoch_end(self, state: FitState) -> None:
        epoch = len(state.history) - self._start
        if epoch in cycle_ends(self.scheduler.T_0, self.scheduler.T_mult, epochs=epoch):
            self._take(state, epoch)

    def on_fit_end(self, state: FitState) -> None:
        epoch = len(state.history) - self._start
        if self.include_last and epoch > 0 and (not self.epochs or self.epochs[-1] != epoch):
            self._take(state, epoch)

    def ensemble(self, output: str = "probs") -> Ensemble:
        """An :class:`Ensemble` of the snapshots taken (ValueError if there are none yet)."""
        if not self.snapshots:
            raise ValueError("no snapshots were taken: run fit with this callback for at least T_0 epochs "
                             "(or pass include_last=True)")
        return Ensemble(self.snapshots, output=output)
