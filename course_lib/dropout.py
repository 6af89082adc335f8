"""Dropout: random masks, vanilla and inverted dropout, Monte-Carlo prediction, DropConnect.

**Which p?** Every function and layer here follows PyTorch (``nn.Dropout(p)``): ``p`` is the
probability of *dropping* a unit. The lecture slides and Srivastava et al. (2014) write ``p``
(or ``keep_prob``) for the probability of *keeping* it. The two are related by

    p_keep = 1 − p            (the paper's p = 0.5 for hidden units is ``nn.Dropout(0.5)``,
                               its p = 0.8 for inputs is ``nn.Dropout(0.2)``).

During training each unit ``h_i`` is multiplied by a Bernoulli variable (one mask entry)

    m_i ~ Bernoulli(p_keep),  i.e. ``mask = rand(n) < p_keep``; P(m_i = 1) = p_keep,

a fresh mask on every forward pass. The two ways to make test time match training:

=================  ============================  =================================
                   training                      test (``model.eval()``)
=================  ============================  =================================
vanilla dropout    d = m ⊙ h                     d = p_keep · h   (scale at test)
inverted dropout   d = m ⊙ h / p_keep            d = h            (scale at train)
=================  ============================  =================================

In both, the test-time output is the expectation of the training-time output,
E[m ⊙ h] = p_keep · h, so the layers after it see activations of the same size. PyTorch's
``nn.Dropout`` is inverted dropout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import _checks
from ._checks import describe, integer, probability, tensor
from .device import resolve_device

__all__ = ["check_probability", "dropout_mask", "vanilla_dropout", "inverted_dropout", "VanillaDropout",
           "InvertedDropout", "InvertedDropout2d", "DropConnectLinear", "is_dropout_layer", "enable_dropout",
           "use_generator", "mc_predict"]


def check_probability(p: float, name: str = "p") -> float:
    """Validate a drop probability: a real number in ``[0, 1)``; returns it as a ``float``.

    ``p = 1`` would drop every unit (and inverted dropout would divide by ``p_keep = 0``). A wrong
    type raises ``TypeError``, a value outside ``[0, 1)`` (or NaN) ``ValueError``; both messages name
    ``name`` and recall that p is the probability of *dropping*.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (the argument's name, for the message), got {describe(name)}")
    return probability(p, name, meaning=f"{name} is the probability of DROPPING a unit, as in nn.Dropout; "
                                        f"the keep probability is 1 - {name}")


def _check_input(x) -> Tensor:
    return tensor(x, "x", floating=True)


_check_flag, _check_generator = _checks.flag, _checks.generator


def dropout_mask(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """A 0/1 mask shaped like ``x``: each entry is 1 (keep) with probability ``p_keep = 1 − p``.

    ``m_i ~ Bernoulli(1 − p)``, the lecture's ``mask = np.random.rand(n) < keep_prob``. Shape,
    dtype and device are those of ``x``. Drawn with ``bernoulli_``, exactly as
    ``F.dropout`` draws its mask on the CPU, so the same seed gives the same mask there.
    ``generator``: an optional ``torch.Generator``, for a reproducible mask; the mask is drawn on
    the generator's device and moved to ``x``'s (a generator on ``x``'s device saves the copy).
    """
    _check_input(x)
    p = check_probability(p)
    if _check_generator(generator) is None:
        return torch.empty_like(x).bernoulli_(1.0 - p)
    mask = torch.empty(x.shape, dtype=x.dtype, device=generator.device).bernoulli_(1.0 - p, generator=generator)
    return mask.to(x.device)


def vanilla_dropout(x: Tensor, p: float = 0.5, training: bool = True,
                    generator: torch.Generator | None = None) -> Tensor:
    """Vanilla dropout (scale at test time). ``x``: any shape; returns the same shape.

    training: ``d = m ⊙ x`` with ``m ~ Bernoulli(p_keep)``;   test: ``d = p_keep · x``  (p_keep = 1 − p).
    """
    _check_input(x)
    p = check_probability(p)
    _check_flag(training, "training")
    if not training:
        return x * (1.0 - p)
    if p == 0.0:
        return x
    return x * dropout_mask(x, p, generator)


def inverted_dropout(x: Tensor, p: float = 0.5, training: bool = True,
                     generator: torch.Generator | None = None) -> Tensor:
    """Inverted dropout (scale at training time), what ``F.dropout(x, p, training)`` computes.

    training: ``d = m ⊙ x / p_keep`` with ``m ~ Bernoulli(p_keep)``;   test: ``d = x``  (p_keep = 1 − p).
    Gradient: ``∂d/∂x = m / p_keep``: only kept units pass a gradient back.
    """
    _check_input(x)
    p = check_probability(p)
    _check_flag(training, "training")
    if not training or p == 0.0:
        return x
    return x * (dropout_mask(x, p, generator) / (1.0 - p))


class _Dropout(nn.Module):
    """Shared parts of the two dropout layers: the validated ``p`` and a readable print."""

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = check_probability(p)
        self.generator = _check_generator(generator)
        self.mask: Tensor | None = None  # the last mask drawn in training mode (for inspection)

    @property
    def p_keep(self) -> float:
        """The keep probability of the lecture and of Srivastava et al.: ``1 − p``."""
        return 1.0 - self.p

    def extra_repr(self) -> str:
        return f"p={self.p:g} (keep {self.p_keep:g})"


class VanillaDropout(_Dropout):
    """Dropout that drops in training and scales by ``p_keep`` at test time.

    ``p``: drop probability (``p_keep = 1 − p``). Input and output of any shape ``(N, *)``.
    training (``.train()``): ``d = m ⊙ x``;  evaluation (``.eval()``): ``d = p_keep · x``.
    """

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x)
        if not self.training:
            return x * self.p_keep
        self.mask = dropout_mask(x, self.p, self.generator)
        return x * self.mask


class InvertedDropout(_Dropout):
    """Dropout that scales by ``1 / p_keep`` in training and is the identity at test time (= ``nn.Dropout``).

    ``p``: drop probability (``p_keep = 1 − p``). Input and output of any shape ``(N, *)``.
    training (``.train()``): ``d = m ⊙ x / p_keep``;  evaluation (``.eval()``): ``d = x``.
    """

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x)
        if not self.training:
            return x
        self.mask = dropout_mask(x, self.p, self.generator)
        return x * (self.mask / self.p_keep)


class InvertedDropout2d(InvertedDropout):
    """Channel ("spatial") dropout: ``nn.Dropout2d``, with a generator for its masks.

    ``x``: ``(N, C, H, W)``. One coin per example and channel, ``m_nc ~ Bernoulli(p_keep)``, zeroes or
    keeps the whole ``H × W`` map: training ``d = m ⊙ x / p_keep`` with ``m`` of shape ``(N, C, 1, 1)``
    broadcast over height and width; evaluation ``d = x``. Same seed, same output as ``F.dropout2d``.
    """

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x)
        if x.ndim != 4:
            raise ValueError(f"InvertedDropout2d needs feature maps of shape (N, C, H, W), got shape {tuple(x.shape)}")
        if not self.training:
            return x
        self.mask = dropout_mask(x[:, :, :1, :1], self.p, self.generator)  # (N, C, 1, 1)
        return x * (self.mask / self.p_keep)


class DropConnectLinear(nn.Linear):
    """A linear layer that drops *weights* (connections) instead of units (Wan et al., 2013).

    ``x``: ``(N, in_features)`` → ``(N, out_features)``. ``p`` is the probability of dropping a
    weight (``p_keep = 1 − p``).

    training: ``y = x (M ⊙ W / p_keep)ᵀ + b``,  ``M_ij ~ Bernoulli(p_keep)`` of the shape of ``W``
    (``out_features × in_features``), one mask per forward pass (i.e. per mini-batch);
    evaluation: ``y = x Wᵀ + b``, the plain linear layer.

    Dividing by ``p_keep`` in training (the inverted form) makes ``E_M[y] = x Wᵀ + b``, so the plain
    layer is the test-time rule. (Wan et al. drop the bias too, draw a mask per example and use a
    Gaussian moment-matching rule at test time; this is the simpler common variant.)
    """

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True,
                 device=None, dtype=None, generator: torch.Generator | None = None) -> None:
        in_features = integer(in_features, "in_features", low=1)  # validate before allocating the weights
        out_features = integer(out_features, "out_features", low=1)
        p = check_probability(p)
        _check_flag(bias, "bias")
        if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating-point torch.dtype or None, got {describe(dtype)}")
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.p = p
        self.generator = _check_generator(generator)
        self.mask: Tensor | None = None

    @property
    def p_keep(self) -> float:
        return 1.0 - self.p

    def forward(self, x: Tensor) -> Tensor:
        _check_input(x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have in_features = {self.in_features} entries in its last dimension, "
                             f"got shape {tuple(x.shape)}")
        if not self.training or self.p == 0.0:
            return F.linear(x, self.weight, self.bias)
        self.mask = dropout_mask(self.weight.detach(), self.p, self.generator)
        return F.linear(x, self.weight * (self.mask / self.p_keep), self.bias)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, p={self.p:g} (keep {self.p_keep:g})"


# --------------------------------------------------------------------------- test time
_DROPOUT_TYPES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout,
                  _Dropout, DropConnectLinear)


def _check_module(module, name: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{name} must be an nn.Module, got {describe(module)}")
    return module


def is_dropout_layer(module: nn.Module) -> bool:
    """True for layers that behave randomly in training mode: ``nn.Dropout*`` and the layers above."""
    _check_module(module, "module")
    return isinstance(module, _DROPOUT_TYPES)


def enable_dropout(model: nn.Module) -> int:
    """Put ``model`` in eval mode except its dropout layers, which stay random; returns how many.

    The other layers (batch norm, ...) keep their test-time behaviour.
    """
    _check_module(model, "model")
    model.eval()
    count = 0
    for module in model.modules():
        if is_dropout_layer(module):
            module.train()
            count += 1
    return count


def use_generator(model: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """Make every dropout layer of ``model`` draw its masks from ``generator``, so a run is reproducible on its own.

    ``nn.Dropout`` becomes the equivalent :class:`InvertedDropout` and ``nn.Dropout2d`` the equivalent
    :class:`InvertedDropout2d` (same ``p``, same train/eval mode); the layers of this module that already
    take a generator get this one. Changes ``model`` in place and returns it.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    generator = _check_generator(generator)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in (nn.Dropout, nn.Dropout2d):
                swap = (InvertedDropout if type(child) is nn.Dropout else InvertedDropout2d)(child.p, generator=generator)
                setattr(parent, name, swap.train(child.training))
            elif isinstance(child, (_Dropout, DropConnectLinear)):
                child.generator = generator
    return model


@torch.no_grad()
def mc_predict(model: nn.Module, x: Tensor, n_samples: int = 100, *, probs: bool = True,
               device: torch.device | str | None = None) -> Tensor:
    """Monte-Carlo dropout: average the model's output over ``n_samples`` random masks.

    ``x``: ``(N, *)`` → ``(N, classes)``. With ``probs=True`` the softmax outputs are averaged,

        p̂(y | x) = (1/K) Σ_k softmax(f(x; mask_k)),   K = ``n_samples``,

    an estimate of the ensemble average E_mask[softmax(f(x; mask))] over all 2ⁿ masks that
    weight scaling (``model.eval()``) approximates in one pass. ``probs=False`` averages the raw
    outputs instead. Dropout stays active, every other layer is in eval mode; the model's
    train/eval modes are restored afterwards.

    Where it computes follows the library's rule (:func:`~course_lib.device.resolve_device`): an
    explicit ``device=`` wins, otherwise the device of ``x``; the model and ``x`` are moved there
    (the model stays there afterwards) and the result lives there.
    """
    _check_module(model, "model")
    tensor(x, "x")
    n_samples = integer(n_samples, "n_samples", low=1)
    _check_flag(probs, "probs")
    dev = resolve_device(model, x, device)
    model.to(dev)
    x = x.to(dev)
    modes = {m: m.training for m in model.modules()}
    try:
        if enable_dropout(model) == 0:
            raise ValueError("the model has no dropout layer: every pass would give the same output, so a "
                             "Monte-Carlo average is just model(x)")
        total = None
        for _ in range(n_samples):
            out = model(x)
            out = out.softmax(dim=-1) if probs else out
            total = out if total is None else total + out
        return total / n_samples
    finally:
        for m, mode in modes.items():
            m.training = mode
