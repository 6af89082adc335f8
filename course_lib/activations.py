"""Activation functions: sigmoid, tanh, ReLU, Leaky ReLU, PReLU, ELU and Maxout, with their derivatives.

A unit computes ``h = f(z)`` of its pre-activation ``z = wᵀx + b``. The functions of the lecture,
element-wise, and the derivatives ``f'(z)`` that backpropagation multiplies the incoming gradient by:

===============  ===========================================  ================================================
name             f(z)                                         f'(z)
===============  ===========================================  ================================================
sigmoid          σ(z) = 1 / (1 + e^{−z})          ∈ (0, 1)    σ(z) (1 − σ(z))             ≤ 1/4 (at z = 0)
tanh             tanh(z) = 2 σ(2z) − 1            ∈ (−1, 1)   1 − tanh²(z)                ≤ 1   (at z = 0)
ReLU             max(0, z)                                    1 if z > 0, else 0
Leaky ReLU       max(a z, z), a = negative_slope (0.01)       1 if z > 0, else a
PReLU            max(a z, z), a learned (one per channel)     1 if z > 0, else a;   ∂f/∂a = min(0, z)
ELU              z if z > 0, else α (e^{z} − 1)               1 if z > 0, else α e^{z} = f(z) + α
Maxout           h_i = max_j (w_ijᵀ x + b_ij), j = 1..k       the gradient goes to the winning piece only
===============  ===========================================  ================================================

At the kink ``z = 0`` every derivative here takes its value from the left (``z ≤ 0``), as PyTorch's
autograd does: ReLU'(0) = 0, LeakyReLU'(0) = a, ELU'(0) = α.

The functions and layers are drop-ins for PyTorch's: ``sigmoid(input)`` and ``tanh(input)`` as
``torch.sigmoid`` / ``torch.tanh``; ``relu(input, inplace)``, ``leaky_relu(input, negative_slope, inplace)``,
``prelu(input, weight)`` and ``elu(input, alpha, inplace)`` as in ``torch.nn.functional``; the layers
``Sigmoid``, ``Tanh``, ``ReLU``, ``LeakyReLU``, ``PReLU`` (parameter ``weight``) and ``ELU`` take the
arguments of their ``torch.nn`` namesakes, so a ``state_dict`` loads both ways. Maxout (Goodfellow et al.,
2013) has no PyTorch counterpart. :func:`active_fraction` and :func:`dead_fraction` count how often the
units of a network are active, to find dead ReLUs.

Like PyTorch's, every function propagates NaN (a NaN pre-activation gives a NaN output, never a value
that looks like a saturated or dead unit). Where the drop-ins deliberately differ from PyTorch:

* the inputs must be floating-point tensors (``torch.relu`` also accepts integer tensors);
* ``elu`` and ``ELU`` refuse ``alpha < 0`` (``F.elu`` accepts it; the curve is then no longer ELU's);
* ``PReLU``'s printed form shows ``num_parameters`` only, as ``nn.PReLU``'s does (``init`` is an attribute).

:data:`RECTIFIERS` and :data:`SATURATING` are the layer classes, PyTorch's and this module's, that
can have dead units or saturate; :mod:`course_lib.gradients` uses the same tuples.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import describe, flag, generator as _check_generator, integer, real, tensor

__all__ = ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout",
           "sigmoid_derivative", "tanh_derivative", "relu_derivative", "leaky_relu_derivative",
           "prelu_derivative", "elu_derivative",
           "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "Maxout",
           "RECTIFIERS", "SATURATING", "active_fraction", "dead_fraction"]


# --------------------------------------------------------------------------- argument checks
def _input(x) -> Tensor:
    return tensor(x, "input", floating=True)


def _slope(value, name: str = "negative_slope") -> float:
    return real(value, name)


def _alpha(value) -> float:
    try:
        return real(value, "alpha", low=0.0)
    except ValueError as exc:
        raise ValueError(f"{exc} (ELU's alpha is the value -alpha its outputs saturate to for z -> -inf; "
                         f"alpha = 0 is ReLU)") from None


def _inplace(value) -> bool:
    return flag(value, "inplace")


def _finish(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    """Return ``out``, or write it into ``input`` (``inplace=True``, as torch's ``inplace`` does) and return that."""
    return input.copy_(out) if inplace else out


# --------------------------------------------------------------------------- the functions
def _keep_nan(input: Tensor, out: Tensor) -> Tensor:
    """``out`` with NaN wherever ``input`` is NaN (the masked branches below would otherwise hide it)."""
    return torch.where(torch.isnan(input), input, out)


def sigmoid(input: Tensor) -> Tensor:
    """The logistic sigmoid ``σ(z) = 1 / (1 + e^{−z})``, element-wise, like ``torch.sigmoid``. Any shape.

    Written so that no ``e^{...}`` overflows: for ``z ≥ 0`` as ``1 / (1 + e^{−z})``, for ``z < 0`` as the
    equal ``e^{z} / (1 + e^{z})``. Output in (0, 1), so never zero-centred. NaN stays NaN.
    """
    _input(input)
    zero = torch.zeros_like(input)
    positive = 1 / (1 + torch.exp(-torch.where(input >= 0, input, zero)))   # used where z >= 0
    e = torch.exp(torch.where(input < 0, input, zero))                      # used where z < 0
    negative = e / (1 + e)
    return _keep_nan(input, torch.where(input >= 0, positive, negative))


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent, ``tanh(z) = (e^{z} − e^{−z}) / (e^{z} + e^{−z}) = 2 σ(2z) − 1``, like ``torch.tanh``.

    A sigmoid stretched to (−1, 1) and centred on 0 (LeCun et al. 1991). Any shape. Computed as
    ``tanh(z) = −expm1(−2z) / (2 + expm1(−2z))`` for ``z ≥ 0`` (and the mirror image for ``z < 0``), which
    keeps full relative precision near 0, where ``2σ(2z) − 1`` would cancel (in float32 it gives 0 for
    ``z = 1e−9``); ``expm1(u) = e^{u} − 1`` computed without that cancellation. NaN stays NaN.
    """
    _input(input)
    zero = torch.zeros_like(input)
    m_pos = torch.expm1(-2 * torch.where(input >= 0, input, zero))          # used where z >= 0
    m_neg = torch.expm1(2 * torch.where(input < 0, input, zero))            # used where z < 0
    out = torch.where(input >= 0, -m_pos / (2 + m_pos), m_neg / (2 + m_neg))
    return _keep_nan(input, out)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """The rectified linear unit ``max(0, z)``, element-wise, like ``F.relu``. Any shape; NaN stays NaN.

    ``inplace=True`` overwrites ``input`` with the result (and returns it), as PyTorch's does.
    """
    _input(input)
    inplace = _inplace(inplace)
    # z <= 0 is False for NaN, so NaN takes the identity branch and propagates; ReLU'(0) = 0 as in autograd
    return _finish(input, torch.where(input <= 0, torch.zeros_like(input), input), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Leaky ReLU (Maas et al. 2013) ``z if z > 0 else a·z`` with ``a = negative_slope``, like ``F.leaky_relu``.

    For ``0 ≤ a ≤ 1`` this is the lecture's ``max(a z, z)`` (the deck draws ``a = 0.1``, PyTorch's default is
    0.01). Any shape.
    """
    _input(input)
    negative_slope = _slope(negative_slope)
    inplace = _inplace(inplace)
    return _finish(input, torch.where(input > 0, input, negative_slope * input), inplace)


def _prelu_weight(input: Tensor, weight) -> Tensor:
    """``weight`` shaped to broadcast over ``input``: one slope for everything, or one per channel (dim 1)."""
    weight = tensor(weight, "weight", floating=True, ndim=(0, 1))
    if weight.numel() == 1:
        return weight.reshape(())
    if input.ndim < 2 or input.shape[1] != weight.numel():
        raise ValueError(f"prelu weight has {weight.numel()} slopes, one per channel, but the input of shape "
                         f"{tuple(input.shape)} has " + ("no channel dimension" if input.ndim < 2 else
                                                         f"{input.shape[1]} channels (dimension 1)")
                         + "; use num_parameters=1 or the number of channels")
    return weight.reshape(1, -1, *([1] * (input.ndim - 2)))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU (He et al. 2015) ``z if z > 0 else a·z`` with the slope ``a = weight`` learned, like ``F.prelu``.

    ``input``: ``(N, C, *)`` (or any shape when ``weight`` has one entry); ``weight``: ``(1,)`` (one
    slope shared by all units) or ``(C,)`` (one slope per channel, dimension 1 of ``input``).
    Gradients: ``∂f/∂z = 1 if z > 0 else a``; ``∂f/∂a = 0 if z > 0 else z``, summed over the units sharing ``a``.
    """
    _input(input)
    a = _prelu_weight(input, weight)
    return torch.where(input > 0, input, a * input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """The exponential linear unit (Clevert et al. 2015) ``z if z > 0 else α (e^{z} − 1)``, like ``F.elu``.

    Smooth at 0 for ``α = 1``; saturates to ``−α`` for large negative ``z``, which pulls the mean output
    towards 0. ``alpha ≥ 0``. Any shape.
    """
    _input(input)
    alpha = _alpha(alpha)
    inplace = _inplace(inplace)
    z_neg = torch.where(input > 0, torch.zeros_like(input), input)  # min(z, 0): e^{z} is only needed for z <= 0
    negative = alpha * (torch.exp(z_neg) - 1)
    return _finish(input, torch.where(input > 0, input, negative), inplace)


def maxout(input: Tensor, pieces: int, dim: int = 1) -> Tensor:
    """Max over groups of ``pieces`` consecutive features: the pooling step of a Maxout layer.

    ``input``: ``(N, C·k, *)`` with ``k = pieces``; returns ``(N, C, *)`` with
    ``out[:, i] = max_j input[:, i·k + j]``, ``j = 0..k−1`` (along ``dim``, by default the feature dimension).
    """
    _input(input)
    pieces = _pieces(pieces)
    dim = integer(dim, "dim")
    if not -input.ndim <= dim < input.ndim:
        raise ValueError(f"dim must be in [{-input.ndim}, {input.ndim - 1}] for an input of shape "
                         f"{tuple(input.shape)}, got {dim}")
    dim = dim % input.ndim
    size = input.shape[dim]
    if size % pieces:
        raise ValueError(f"maxout needs a multiple of pieces = {pieces} features along dim {dim}, got {size} "
                         f"(input of shape {tuple(input.shape)})")
    shape = (*input.shape[:dim], size // pieces, pieces, *input.shape[dim + 1:])
    return input.reshape(shape).max(dim=dim + 1).values


# --------------------------------------------------------------------------- the derivatives
def sigmoid_derivative(input: Tensor) -> Tensor:
    """``σ'(z) = σ(z) (1 − σ(z))``, element-wise; at most 1/4 (at ``z = 0``), and ≈ e^{−|z|} for large ``|z|``."""
    s = sigmoid(input)
    return s * (1 - s)


def tanh_derivative(input: Tensor) -> Tensor:
    """``tanh'(z) = 1 − tanh²(z) = 4 σ'(2z)``, element-wise; at most 1 (at ``z = 0``)."""
    t = tanh(input)
    return 1 - t * t


def relu_derivative(input: Tensor) -> Tensor:
    """``ReLU'(z) = 1 if z > 0 else 0`` (0 at the kink ``z = 0``, as autograd), element-wise."""
    _input(input)
    return (input > 0).to(input.dtype)


def leaky_relu_derivative(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``1 if z > 0 else a`` (``a`` at ``z = 0``), element-wise."""
    _input(input)
    negative_slope = _slope(negative_slope)
    return torch.where(input > 0, torch.ones_like(input), torch.full_like(input, negative_slope))


def prelu_derivative(input: Tensor, weight: Tensor) -> Tensor:
    """``∂f/∂z = 1 if z > 0 else a`` for PReLU, element-wise, with ``weight`` shaped as in :func:`prelu`."""
    _input(input)
    a = _prelu_weight(input, weight)
    return torch.where(input > 0, torch.ones_like(input), a.to(input.dtype).expand_as(input))


def elu_derivative(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``ELU'(z) = 1 if z > 0 else α e^{z}`` (``α`` at ``z = 0``), element-wise; continuous at 0 only for ``α = 1``."""
    _input(input)
    alpha = _alpha(alpha)
    return torch.where(input > 0, torch.ones_like(input), alpha * torch.exp(input.clamp(max=0)))


# --------------------------------------------------------------------------- the layers
class Sigmoid(nn.Module):
    """``σ(z) = 1 / (1 + e^{−z})`` element-wise (``nn.Sigmoid``). Input and output: any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return sigmoid(input)


class Tanh(nn.Module):
    """``tanh(z)`` element-wise (``nn.Tanh``). Input and output: any shape."""

    def forward(self, input: Tensor) -> Tensor:
        return tanh(input)


class ReLU(nn.Module):
    """``max(0, z)`` element-wise (``nn.ReLU(inplace=False)``). Input and output: any shape."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _inplace(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(nn.Module):
    """``z if z > 0 else negative_slope·z`` element-wise (``nn.LeakyReLU(negative_slope=0.01, inplace=False)``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = _slope(negative_slope)
        self.inplace = _inplace(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(nn.Module):
    """``z if z > 0 else a·z`` with learned slopes ``a`` (``nn.PReLU(num_parameters=1, init=0.25)``).

    ``weight``: a parameter of shape ``(num_parameters,)``, every entry ``init`` at the start; with
    ``num_parameters = C`` each channel (dimension 1 of an ``(N, C, *)`` input) learns its own slope.
    Do not put weight decay on it: it would push the slopes to 0, i.e. towards ReLU (He et al. 2015).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        num_parameters = integer(num_parameters, "num_parameters", low=1)
        init = real(init, "init")
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = nn.Parameter(torch.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(nn.Module):
    """``z if z > 0 else α(e^{z} − 1)`` element-wise (``nn.ELU(alpha=1.0, inplace=False)``)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = _alpha(alpha)
        self.inplace = _inplace(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


def _pieces(value) -> int:
    try:
        return integer(value, "pieces", low=2)
    except ValueError as exc:
        raise ValueError(f"{exc} (a maxout unit takes the max of k >= 2 linear pieces; k = 1 is a plain "
                         f"linear layer)") from None


class Maxout(nn.Module):
    """A Maxout layer (Goodfellow et al. 2013): each output unit is the max of ``k = pieces`` affine pieces.

    ``x``: ``(N, in_features)`` (or ``(*, in_features)``) → ``(*, out_features)``::

        h_i(x) = max_{j = 1..k} (w_ijᵀ x + b_ij),      i = 1..out_features

    the lecture's ``max(w_1ᵀx + b_1, w_2ᵀx + b_2)`` for ``k = 2``. A convex, piecewise-linear function of
    ``x`` that is learned; ReLU is the special case ``k = 2`` with one piece fixed at 0. Costs ``k``
    times the parameters of a linear layer. The pieces are stored like one ``nn.Linear(in_features,
    out_features·k)``: ``weight`` ``(out_features·k, in_features)``, row ``i·k + j`` is ``w_ij``;
    ``bias`` ``(out_features·k,)``. Initialized like ``nn.Linear`` (``U(−1/√in, 1/√in)``), drawn from
    ``generator`` when one is given (a CPU generator gives the same weights on every device).
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True,
                 device=None, dtype=None, generator: torch.Generator | None = None) -> None:
        in_features = integer(in_features, "in_features", low=1)
        out_features = integer(out_features, "out_features", low=1)
        pieces = _pieces(pieces)
        bias = flag(bias, "bias")
        super().__init__()
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.weight = nn.Parameter(torch.empty(out_features * pieces, in_features, device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(out_features * pieces, device=device, dtype=dtype)) if bias else None
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw ``weight`` and ``bias`` from ``U(−1/√in_features, 1/√in_features)``, as ``nn.Linear`` does."""
        generator = _check_generator(generator)
        bound = 1 / math.sqrt(self.in_features)
        for p in (self.weight, self.bias):
            if p is None:
                continue
            if generator is None or generator.device == p.device:
                nn.init.uniform_(p, -bound, bound, generator=generator)
            else:  # drawn where the generator lives, then moved to the parameter's device
                draw = torch.empty(p.shape, dtype=p.dtype, device=generator.device)
                p.copy_(nn.init.uniform_(draw, -bound, bound, generator=generator))

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "x", floating=True)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have in_features = {self.in_features} entries in its last dimension, "
                             f"got shape {tuple(x.shape)}")
        z = F.linear(x, self.weight, self.bias)        # (*, out·k): every piece of every unit
        return maxout(z, self.pieces, dim=-1)          # (*, out): the max over each unit's k pieces

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}, "
                f"bias={self.bias is not None}")


# --------------------------------------------------------------------------- dead units
#: Layers whose units can die (output 0 with zero gradient for every example): PyTorch's and ours.
RECTIFIERS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, ReLU)
#: Layers whose units saturate at both ends (the local derivative tends to 0): PyTorch's and ours.
SATURATING: tuple[type[nn.Module], ...] = (nn.Tanh, nn.Sigmoid, Tanh, Sigmoid)
_RECTIFIERS = RECTIFIERS  # the name used before


@torch.no_grad()
def active_fraction(model: nn.Module, x: Tensor, layer_types: tuple[type, ...] = RECTIFIERS,
                    batch_size: int = 1024, per_channel: bool = False) -> dict[str, Tensor]:
    """For every layer of ``model`` of one of ``layer_types``: per unit, the fraction of examples it is active on.

    A unit is *active* on an example when the layer's output there is ``> 0``. ``x``: ``(N, *)``, run
    through ``model`` in eval mode in batches of ``batch_size`` (the mode is restored afterwards);
    returns ``{layer name: tensor of shape (units,)}`` on the CPU, where a layer's units are its output
    features (flattened after the batch dimension). A ReLU unit with fraction 0 is **dead** on ``x``:
    it outputs 0 and passes no gradient for every example.

    On a convolutional feature map ``(N, C, H, W)`` the default counts every position ``(c, i, j)`` as a
    unit of its own. ``per_channel=True`` counts channels instead (the usual meaning of a dead filter): a
    channel is active on an example when it is ``> 0`` at some position, and the result has shape ``(C,)``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    tensor(x, "x")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch of examples (N, *), got shape {tuple(x.shape)}")
    if not isinstance(layer_types, tuple) or not layer_types or \
            not all(isinstance(t, type) and issubclass(t, nn.Module) for t in layer_types):
        raise TypeError(f"layer_types must be a non-empty tuple of nn.Module classes, got {describe(layer_types)}")
    batch_size = integer(batch_size, "batch_size", low=1)
    per_channel = flag(per_channel, "per_channel")
    layers = {name: m for name, m in model.named_modules() if isinstance(m, layer_types)}
    if not layers:
        raise ValueError(f"model has no layer of type {', '.join(t.__name__ for t in layer_types)}")
    counts: dict[str, Tensor] = {}
    current: dict[str, Tensor] = {}

    def hook(name):
        def record(module, inputs, output):
            if per_channel:
                if output.ndim < 2:
                    raise ValueError(f"per_channel=True needs outputs with a channel dimension (N, C, *), layer "
                                     f"{name!r} gave shape {tuple(output.shape)}")
                active = (output.reshape(len(output), output.shape[1], -1) > 0).any(dim=2)
            else:
                active = output.reshape(len(output), -1) > 0
            current[name] = active.sum(0).cpu()
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in layers.items()]
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), batch_size):
            model(x[start:start + batch_size])
            for name, c in current.items():
                counts[name] = counts[name] + c if name in counts else c
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return {name: counts[name].double() / len(x) for name in layers}


def dead_fraction(model: nn.Module, x: Tensor, layer_types: tuple[type, ...] = RECTIFIERS,
                  batch_size: int = 1024, per_channel: bool = False) -> dict[str, float]:
    """The fraction of units of each rectifier layer that are never active on ``x`` (see :func:`active_fraction`).

    ``per_channel=True``: the fraction of channels of a feature map that are zero everywhere on every example.
    """
    return {name: float((frac == 0).double().mean()) for name, frac in
            active_fraction(model, x, layer_types, batch_size, per_channel).items()}
