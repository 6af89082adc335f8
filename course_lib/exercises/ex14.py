"""Checkers for the exercises of notebook 14 (ensembles).

1. ``check_ensemble_average``: the student's ensemble prediction ``fn(models, x)``, against
   :func:`course_lib.ensembles.ensemble_probs` (the mean of the members' softmax in eval mode), with a
   hint for each typical slip: averaging logits, a majority vote of the argmaxes, dropout left on,
   softmax over the wrong dimension, summing instead of averaging;
2. ``check_snapshot_epochs``: the epochs at which a snapshot ensemble takes its snapshots, against
   :func:`course_lib.ensembles.cycle_ends`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import NotAttempted, require, run_check
from ..ensembles import cycle_ends, ensemble_probs

__all__ = ["check_ensemble_average", "check_snapshot_epochs", "SNAPSHOT_RUN"]

# --------------------------------------------------------------------------- exercise 1
_N, _FEATURES, _CLASSES, _MEMBERS = 40, 6, 4, 3


def _exercise_members() -> list[nn.Module]:
    """Three small classifiers with dropout, in training mode (as they come out of fit)."""
    g = torch.Generator().manual_seed(14)
    members = []
    for _ in range(_MEMBERS):
        net = nn.Sequential(nn.Linear(_FEATURES, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, _CLASSES))
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 1.5)
        members.append(net.train())
    return members


def _slips(members: list[nn.Module], x: Tensor) -> list[tuple[Tensor, str]]:
    with torch.no_grad():
        for m in members:
            m.eval()
        logits = torch.stack([m(x) for m in members])               # (M, N, k)
        for m in members:
            m.train()
    probs = logits.softmax(dim=2)
    votes = torch.nn.functional.one_hot(logits.argmax(dim=2), _CLASSES).float()
    majority = torch.nn.functional.one_hot(votes.sum(0).argmax(dim=1), _CLASSES).float()
    return [
        (logits.mean(0).softmax(dim=1), "you averaged the logits and then took the softmax: average the "
                                        "members' PROBABILITIES (softmax each member first, then the mean)"),
        (logits.mean(0), "you averaged the logits: rows of logits are not probabilities; softmax each member's "
                         "output, then take the mean"),
        (votes.mean(0), "these are vote fractions of the members' argmaxes: average the full softmax "
                        "probabilities instead, so a confident member counts more than a hesitant one"),
        (majority, "this is a one-hot majority vote: average the members' softmax probabilities instead"),
        (probs.sum(0), f"each row sums to {_MEMBERS} (the number of members): you summed; divide by the number "
                       f"of members to get a mean"),
        (logits.softmax(dim=1).mean(0), "the softmax went over the examples (dim=0 of each member's (N, classes) "
                                        "output): take it over the classes, dim=1"),
    ]


def check_ensemble_average(fn) -> bool:
    """``fn(models, x)`` → (N, classes): the mean of the members' softmax probabilities, each in eval mode."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(models, x), got {type(fn).__name__}")
        members = _exercise_members()
        g = torch.Generator().manual_seed(1)
        x = torch.randn(_N, _FEATURES, generator=g)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            out = fn(members, x)
            if out is None:
                raise NotAttempted
            require(isinstance(out, Tensor), f"return a tensor, got {type(out).__name__}")
            require(tuple(out.shape) == (_N, _CLASSES),
                    f"expected shape (N, classes) = ({_N}, {_CLASSES}), got {tuple(out.shape)}"
                    + (": average over the members (dim=0 of the stacked outputs), not over the examples"
                       if tuple(out.shape) in ((_MEMBERS, _CLASSES), (_MEMBERS, _N)) else ""))
            out = out.detach().float()
            torch.manual_seed(1)
            again = fn([m.train() for m in members], x).detach().float()
        expected = ensemble_probs(members, x)
        for bad, hint in _slips(members, x):
            if torch.allclose(out, bad, atol=1e-5) and not torch.allclose(bad, expected, atol=1e-5):
                raise AssertionError(hint)
        require(torch.allclose(out, again, atol=1e-6),
                "two calls on the same input gave different answers: dropout is still ON. The members come "
                "in training mode; call model.eval() before predicting (and torch.no_grad() saves memory)")
        rows = out.sum(dim=1)
        require(torch.allclose(rows, torch.ones_like(rows), atol=1e-4),
                f"each row must be a probability distribution summing to 1, got row sums from "
                f"{rows.min():.3g} to {rows.max():.3g}")
        diff = (out - expected).abs().max().item()
        require(diff < 1e-4, f"your probabilities differ from the mean of the members' softmax by up to {diff:.3g}: "
                             f"softmax each member's eval-mode logits over the classes, then average")

    return run_check("Exercise 1 (ensemble average)", check,
                     "the mean of the members' probabilities: a calibrated average, not a vote")


# --------------------------------------------------------------------------- exercise 2
SNAPSHOT_RUN = {"T_0": 4, "T_mult": 2, "epochs": 40}


def check_snapshot_epochs(answer) -> bool:
    """The 1-based epochs at whose end a snapshot is taken in ``SNAPSHOT_RUN`` (T_0 = 4, T_mult = 2, 40 epochs)."""
    T_0, T_mult, epochs = SNAPSHOT_RUN["T_0"], SNAPSHOT_RUN["T_mult"], SNAPSHOT_RUN["epochs"]
    expected = cycle_ends(T_0, T_mult, epochs)
    wrong = [
        ([e - 1 for e in expected], "these are 0-based: count the epochs from 1 (the first period ends after "
                                    "epoch T_0)"),
        ([e + 1 for e in expected], "these are the epochs where the rate has already jumped back up (the "
                                    "restarts): the snapshot is taken at the end of the period, before it"),
        (cycle_ends(T_0, 1, epochs), "the periods grow: with T_mult = 2 each period is twice the one before"),
        (expected + [epochs], f"epoch {epochs} is in the middle of a period (the rate is still high there); "
                              f"take only the ends of complete periods"),
        ([T_0 * T_mult ** i for i in range(len(expected))], "these are the LENGTHS of the periods; the ends are "
                                                             "their running sums"),
    ]

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (list, tuple)) and all(isinstance(e, int) and not isinstance(e, bool)
                                                          for e in answer),
                f"give a list of epoch numbers (ints), got {type(answer).__name__}")
        got = list(answer)
        for bad, hint in wrong:
            require(got != bad, hint)
        require(got == sorted(got), "list the epochs in increasing order")
        require(all(1 <= e <= epochs for e in got), f"epochs run from 1 to {epochs}")
        require(len(got) == len(expected), f"expected {len(expected)} snapshots, got {len(got)}: how many whole "
                                           f"periods of lengths 4, 8, 16, ... fit into {epochs} epochs?")
        require(got == expected, f"{got} are not the ends of the periods: add up the period lengths T_0, "
                                 f"T_0·T_mult, T_0·T_mult², ...")

    return run_check("Exercise 2 (snapshot epochs)", check,
                     f"snapshots after epochs {expected}; the last {epochs - expected[-1]} epochs of the run add none")
