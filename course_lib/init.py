"""Weight initialization: constant, small random, Xavier/Glorot, He/Kaiming, LeCun, orthogonal, LSUV.

**Fans.** A weight of a layer has ``fan_in`` inputs per output unit and feeds ``fan_out`` outputs
per input unit. For ``nn.Linear(in, out)`` the weight has shape ``(out, in)``; for
``nn.Conv2d(c_in, c_out, (k_h, k_w))`` it has shape ``(c_out, c_in, k_h, k_w)``, and each output
value sums over ``c_in · k_h · k_w`` inputs:

    fan_in  = in_channels  · kernel area   (= in_features  for a Linear layer)
    fan_out = out_channels · kernel area   (= out_features for a Linear layer)
    fan_avg = (fan_in + fan_out) / 2

**Why the scale matters.** For ``Y = Σ_i W_i X_i`` over ``n`` independent inputs with
``E[W] = E[X] = 0``,

    Var(Y) = n · Var(W) · Var(X),

so ``Var(W) = 1/n`` keeps the variance of the signal from layer to layer (a linear or tanh unit
near 0). ReLU zeroes half of its inputs, which halves the second moment: ``Var(W) = 2/n``.

=============  ================================  =========================================
scheme         distribution                      variance of W (the lecture's table)
=============  ================================  =========================================
small random   N(0, 0.01²)  (``0.01·randn``)      1e-4, whatever the fans
Xavier/Glorot  N(0, σ²) or U(−r, r)              σ² = gain² / fan_avg,  r = gain·√(3/fan_avg)
               (Glorot & Bengio 2010)            = gain·√(6/(fan_in + fan_out))
He/Kaiming     N(0, σ²) or U(−r, r)              σ² = gain² / fan   (relu: gain² = 2 → 2/fan_in)
LeCun          N(0, σ²)                          σ² = 1 / fan_in  (SELU)
orthogonal     gain · Q, Q (semi-)orthogonal     rows of norm gain (Saxe et al. 2013)
=============  ================================  =========================================

A uniform U(−r, r) has variance r²/3, hence the √3 between the two forms.

**Gain conventions.** PyTorch's :func:`calculate_gain` (reused here) gives the factor that
multiplies the standard deviation: 1 for linear/sigmoid/conv, 5/3 for tanh, √2 for ReLU,
√(2/(1 + a²)) for a leaky ReLU with negative slope ``a``, 3/4 for SELU. So the lecture's He
initialization (variance 2/fan_in) is ``kaiming_normal_(w, nonlinearity="relu")``, and the
lecture's Glorot (variance 1/fan_avg) is ``xavier_normal_(w)`` with the default gain 1. Mind the
defaults of the Kaiming functions, copied from PyTorch: ``nonlinearity="leaky_relu"`` with
``a=0`` is the same gain √2 as ``"relu"``.

Every function here is a drop-in for its namesake in ``torch.nn.init`` (same name, arguments and
defaults): it fills the tensor **in place** under ``torch.no_grad()`` and returns it, and with the same
generator it draws exactly the same numbers as PyTorch's. ``lecun_normal_`` and ``small_normal_``
have no PyTorch namesake. A generator on another device than the tensor is accepted: the draws are
made on the generator's device and copied.

:func:`initialize` applies one scheme to every ``nn.Linear`` / ``nn.Conv*`` weight of a model and zeroes
the biases (the one implementation; ``course_lib.models.mlp(init=...)`` and ``cnn(init=...)`` call it).
:func:`lsuv_` is data-dependent (Mishkin & Matas 2015, "All you need is a good init"): orthogonal
weights, then each layer in turn rescaled until its output has unit variance on a batch.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import torch
from torch import Tensor, nn

from ._checks import describe, generator as _check_generator, integer, one_of, real

__all__ = ["NONLINEARITIES", "MODES", "SCHEMES", "WEIGHTED", "calculate_gain", "fan_in_and_fan_out", "constant_",
           "zeros_", "small_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "lecun_normal_", "orthogonal_", "check_scheme", "initialize", "lsuv_"]

NONLINEARITIES = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
MODES = ("fan_in", "fan_out")


def _check_tensor(tensor) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor must be a torch.Tensor (for example a layer's weight), got {describe(tensor)}")
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor for the standard deviation recommended for ``nonlinearity`` (= ``nn.init.calculate_gain``).

    linear, conv*, sigmoid: 1;  tanh: 5/3;  relu: √2;  leaky_relu: √(2 / (1 + slope²)) with
    ``param`` the negative slope (default 0.01);  selu: 3/4. Returns a ``float``.
    """
    key = one_of(nonlinearity, "nonlinearity", NONLINEARITIES)
    if key == "leaky_relu":
        slope = 0.01 if param is None else real(param, "param (the negative slope of leaky_relu)")
        return math.sqrt(2.0 / (1 + slope ** 2))
    return float(nn.init.calculate_gain(key))


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``.

    fan_in = in · ∏kernel,  fan_out = out · ∏kernel (a Linear weight ``(out, in)`` has no kernel).
    A tensor with fewer than 2 dimensions (a bias) has no fans: ``ValueError``.
    """
    _check_tensor(tensor)
    if tensor.dim() < 2:
        raise ValueError(f"fan_in and fan_out need a weight with at least 2 dimensions (out, in, *kernel), got shape "
                         f"{tuple(tensor.shape)}; a bias has no fans: initialize it with zeros_ or constant_")
    receptive_field = math.prod(tensor.shape[2:])  # kernel area (1 for a Linear weight)
    return tensor.size(1) * receptive_field, tensor.size(0) * receptive_field


def _fan(tensor: Tensor, mode: str) -> int:
    mode = one_of(mode, "mode", MODES)
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _empty(tensor: Tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


@torch.no_grad()
def _draw(tensor: Tensor, fill: Callable[[Tensor, torch.Generator | None], Tensor],
          generator: torch.Generator | None) -> Tensor:
    """``fill(t, generator)`` draws in place into ``t``; on the generator's device when it differs from the tensor's."""
    generator = _check_generator(generator)
    if generator is None or generator.device == tensor.device:
        fill(tensor, generator)
    else:
        tensor.copy_(fill(torch.empty(tensor.shape, dtype=tensor.dtype, device=generator.device), generator))
    return tensor


@torch.no_grad()
def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val`` in place; returns it. Any shape.

    Every unit of a layer filled this way computes the same function and receives the same
    gradient, so the units stay identical however long you train: never do it for weights.
    """
    _check_tensor(tensor)
    return tensor.fill_(real(val, "val"))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros in place (the usual bias initialization); returns it."""
    return constant_(tensor, 0.0)


def small_normal_(tensor: Tensor, std: float = 0.01, generator: torch.Generator | None = None) -> Tensor:
    """The lecture's "small random numbers", ``W = 0.01 · randn``: ``W_ij ~ N(0, std²)`` in place; returns it.

    The scale ignores the fans, which is its problem: each tanh layer of width n multiplies the
    standard deviation of the signal by about ``std · √n`` (0.22 for n = 500 and std = 0.01).
    """
    _check_tensor(tensor)
    std = real(std, "std", low=0.0)
    return _draw(tensor, lambda t, g: t.normal_(0.0, std, generator=g), generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """Xavier/Glorot uniform: ``W ~ U(−r, r)`` with ``r = gain · √(6 / (fan_in + fan_out)) = gain · √(3 / fan_avg)``.

    ``tensor``: a weight ``(out, in, *kernel)``, filled in place and returned. Variance
    ``r²/3 = gain² / fan_avg``. Same draws as ``nn.init.xavier_uniform_`` with the same generator.
    """
    _check_tensor(tensor)
    gain = real(gain, "gain", low=0.0)
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if _empty(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))  # = gain·√(1/fan_avg), computed as PyTorch does
    r = math.sqrt(3.0) * std                            # = gain·√(6/(fan_in + fan_out)), U(−r, r) has variance r²/3
    return _draw(tensor, lambda t, g: t.uniform_(-r, r, generator=g), generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """Xavier/Glorot normal: ``W ~ N(0, σ²)`` with ``σ = gain · √(1 / fan_avg) = gain · √(2 / (fan_in + fan_out))``.

    ``tensor``: a weight ``(out, in, *kernel)``, filled in place and returned.
    """
    _check_tensor(tensor)
    gain = real(gain, "gain", low=0.0)
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if _empty(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))  # = gain·√(1/fan_avg)
    return _draw(tensor, lambda t, g: t.normal_(0.0, std, generator=g), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    a = real(a, "a (the negative slope of the rectifier)")
    fan = _fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: torch.Generator | None = None) -> Tensor:
    """He/Kaiming uniform: ``W ~ U(−r, r)`` with ``r = √3 · gain / √fan``, ``fan`` = fan_in or fan_out (``mode``).

    ``gain = calculate_gain(nonlinearity, a)``; for ReLU (or the default leaky_relu with a = 0) the
    variance is ``r²/3 = 2 / fan``. ``tensor``: a weight ``(out, in, *kernel)``, filled in place and returned.
    """
    _check_tensor(tensor)
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if _empty(tensor):
        return tensor
    r = math.sqrt(3.0) * std
    return _draw(tensor, lambda t, g: t.uniform_(-r, r, generator=g), generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: torch.Generator | None = None) -> Tensor:
    """He/Kaiming normal: ``W ~ N(0, σ²)`` with ``σ = gain / √fan``; the lecture's He is ``σ² = 2 / fan_in`` (ReLU).

    ``mode="fan_in"`` keeps the variance of the activations in the forward pass, ``"fan_out"`` that of
    the gradients in the backward pass. ``tensor``: a weight ``(out, in, *kernel)``, filled in place and returned.
    """
    _check_tensor(tensor)
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if _empty(tensor):
        return tensor
    return _draw(tensor, lambda t, g: t.normal_(0.0, std, generator=g), generator)


def lecun_normal_(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """LeCun normal: ``W ~ N(0, 1 / fan_in)`` (the lecture's pairing with SELU); in place, returns ``tensor``.

    The same as ``kaiming_normal_(tensor, nonlinearity="linear")``, and as ``xavier_normal_`` when fan_in = fan_out.
    """
    _check_tensor(tensor)
    fan_in, _ = fan_in_and_fan_out(tensor)
    if _empty(tensor):
        return tensor
    std = 1.0 / math.sqrt(fan_in)
    return _draw(tensor, lambda t, g: t.normal_(0.0, std, generator=g), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """Orthogonal initialization (Saxe et al. 2013): ``W = gain · Q`` with ``Q`` a uniformly random (semi-)orthogonal matrix.

    ``tensor``: a weight ``(out, in, *kernel)``, viewed as ``out × (in·∏kernel)``, filled in place and
    returned. ``Q`` comes from the QR decomposition of a Gaussian matrix, its columns' signs fixed by
    the diagonal of R (which makes Q uniform). Square: ``QᵀQ = I``, all singular values 1, so a
    product of such layers neither shrinks nor stretches any direction; the rows have norm ``gain``
    (each unit's ``Var(Y) = gain²·Var(X)`` for white inputs, the same as Xavier/LeCun when
    fan_in = fan_out). Same draws as ``nn.init.orthogonal_`` with the same generator.
    """
    _check_tensor(tensor)
    gain = real(gain, "gain", low=0.0)
    if tensor.dim() < 2:
        raise ValueError(f"orthogonal_ needs a weight with at least 2 dimensions (out, in, *kernel), got shape "
                         f"{tuple(tensor.shape)}; a bias has no fans: initialize it with zeros_ or constant_")
    if _empty(tensor):
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows

    def fill(t: Tensor, g: torch.Generator | None) -> Tensor:
        flat = t.new_empty((rows, cols)).normal_(0.0, 1.0, generator=g)
        if rows < cols:
            flat.t_()
        q, r = torch.linalg.qr(flat)
        q *= torch.diag(r, 0).sign()          # uniform over the orthogonal group
        if rows < cols:
            q.t_()
        return t.view_as(q).copy_(q).mul_(gain)

    return _draw(tensor, fill, generator)


# --------------------------------------------------------------------------- whole models
SCHEMES = ("constant", "small_normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "lecun_normal", "orthogonal")
WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)  # the layers initialize and lsuv_ act on
# names other libraries and papers use, and the scheme that means it here
_ALIASES = {"he": "kaiming_normal", "he_normal": "kaiming_normal", "kaiming": "kaiming_normal",
            "he_uniform": "kaiming_uniform", "glorot": "xavier_normal", "glorot_normal": "xavier_normal",
            "xavier": "xavier_normal", "glorot_uniform": "xavier_uniform", "lecun": "lecun_normal",
            "zeros": "constant", "zero": "constant", "normal": "small_normal", "ortho": "orthogonal"}


def check_scheme(scheme) -> str:
    """``scheme`` lower-cased if it is one of :data:`SCHEMES`; otherwise ``ValueError`` (``TypeError`` for a non-string)
    naming the accepted ones, with the scheme meant when it is another library's name (``"he"``, ``"glorot"``, ...)."""
    try:
        return one_of(scheme, "scheme", SCHEMES)
    except ValueError as exc:
        alias = _ALIASES.get(scheme.strip().lower())
        if alias is None:
            raise
        raise ValueError(f"{exc}: did you mean {alias!r}?") from None


@torch.no_grad()
def initialize(model: nn.Module, scheme: str | Callable[..., Tensor], *, generator: torch.Generator | None = None,
               nonlinearity: str | None = None, std: float | None = None, val: float | None = None) -> nn.Module:
    """Initialize the weight of every ``nn.Linear`` and ``nn.Conv1d/2d/3d`` of ``model`` with ``scheme``; zero the biases.

    ``scheme``: one of :data:`SCHEMES` (other libraries' names such as ``"he"`` or ``"glorot"`` are
    refused with the name to use), or a function of the weight that fills it in place: called as
    ``f(weight, generator=generator)`` when a generator is given, ``f(weight)`` otherwise (so
    ``nn.init.xavier_normal_`` and ``lambda w: ...`` both work). ``nonlinearity``: the activation that
    follows the layers. It sets the gain of the Xavier and orthogonal schemes (default: none, gain 1 =
    the lecture's variance 1/fan_avg) and the nonlinearity of the Kaiming ones (default ``"relu"``: the
    lecture's He, variance 2/fan_in). ``std``: of ``"small_normal"`` (0.01 = the lecture's
    ``0.01·randn``); ``val``: of ``"constant"``. A function scheme takes none of the three (its own
    arguments set them): passing one raises ``ValueError``. Layers are visited in ``model.modules()``
    order, all drawing from ``generator``. Changes ``model`` in place and returns it.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    generator = _check_generator(generator)
    given = {k: v for k, v in (("nonlinearity", nonlinearity), ("std", std), ("val", val)) if v is not None}
    if callable(scheme):
        if given:
            raise ValueError(f"{', '.join(f'{k}={v!r}' for k, v in given.items())}: only a scheme given by name takes "
                             f"nonlinearity, std or val; a function scheme sets its own arguments, so wrap it: "
                             f"lambda w, generator=None: nn.init.kaiming_normal_(w, nonlinearity='tanh', "
                             f"generator=generator)")
        init = (lambda w: scheme(w)) if generator is None else (lambda w: scheme(w, generator=generator))  # noqa: E731
    else:
        scheme = check_scheme(scheme)
        if nonlinearity is not None:
            nonlinearity = one_of(nonlinearity, "nonlinearity", NONLINEARITIES)
        takes = {"nonlinearity": ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"),
                 "std": ("small_normal",), "val": ("constant",)}
        for key in given:
            if scheme not in takes[key]:
                raise ValueError(f"{key} only applies to the {', '.join(repr(t) for t in takes[key])} scheme"
                                 f"{'s' if len(takes[key]) > 1 else ''}, not to {scheme!r}")
        std = real(0.01 if std is None else std, "std", low=0.0)
        val = real(0.0 if val is None else val, "val")
        gain = 1.0 if nonlinearity is None else calculate_gain(nonlinearity)
        act = "relu" if nonlinearity is None else nonlinearity
        init = {
            "constant": lambda w: constant_(w, val),
            "small_normal": lambda w: small_normal_(w, std, generator),
            "xavier_uniform": lambda w: xavier_uniform_(w, gain, generator),
            "xavier_normal": lambda w: xavier_normal_(w, gain, generator),
            "kaiming_uniform": lambda w: kaiming_uniform_(w, 0, "fan_in", act, generator),
            "kaiming_normal": lambda w: kaiming_normal_(w, 0, "fan_in", act, generator),
            "lecun_normal": lambda w: lecun_normal_(w, generator),
            "orthogonal": lambda w: orthogonal_(w, gain, generator),
        }[scheme]
    for module in model.modules():
        if isinstance(module, WEIGHTED):
            init(module.weight)
            if module.bias is not None:
                module.bias.zero_()
    return model


@torch.no_grad()
def lsuv_(model: nn.Module, x: Tensor, *, tol: float = 0.01, max_iter: int = 10,
          generator: torch.Generator | None = None) -> nn.Module:
    """Layer-sequential unit-variance initialization (LSUV; Mishkin & Matas 2015) on the batch ``x``.

    1. every ``nn.Linear`` / ``nn.Conv*`` weight orthogonal (:func:`orthogonal_`), biases zero;
    2. for each such layer in ``model.modules()`` order: run ``x`` through ``model``, read the
       variance ``v`` of the layer's output (over all its values), divide its weight by ``√v``;
       repeat until ``|v − 1| < tol`` (at most ``max_iter`` times).

    Afterwards the output of every weighted layer has variance 1 on ``x`` (within ``tol``): the
    defining property. With zero biases one rescaling per layer is exact, since the layer's input
    is fixed once the layers before it are done. ``x``: a batch the model accepts, on the model's
    device. Returns ``model`` (changed in place). A layer whose output is constant on ``x`` is
    refused (``ValueError``): no rescaling gives it unit variance.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor (a batch of inputs), got {describe(x)}")
    tol = real(tol, "tol", low=0.0)
    max_iter = integer(max_iter, "max_iter", low=1)
    initialize(model, "orthogonal", generator=generator)
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHTED)]
    if not layers:
        raise ValueError("model has no nn.Linear or nn.Conv1d/2d/3d layer for lsuv_ to scale")
    for name, layer in layers:
        out = {}
        hook = layer.register_forward_hook(lambda mod, inp, output: out.__setitem__("y", output.detach()))
        try:
            for _ in range(max_iter):
                model(x)
                var = out["y"].double().var().item()
                if not math.isfinite(var) or var == 0.0:
                    raise ValueError(f"lsuv_: the output of layer {name!r} has variance {var} on x; "
                                     f"it cannot be scaled to 1 (use a batch of varied inputs)")
                if abs(var - 1.0) < tol:
                    break
                layer.weight.div_(math.sqrt(var))
        finally:
            hook.remove()
    return model
