"""Normalization layers: batch norm from the lecture's algorithm, and layer, instance and group norm.

**Batch normalization** (Ioffe & Szegedy, 2015). For one feature (one channel) and a mini-batch
``B = {x_1, ..., x_m}`` of its values:

    μ_B  = (1/m) Σ_i x_i                       mini-batch mean
    σ²_B = (1/m) Σ_i (x_i − μ_B)²              mini-batch variance (biased: divide by m)
    x̂_i  = (x_i − μ_B) / √(σ²_B + ε)           normalize (ε inside the square root)
    y_i  = γ x̂_i + β                           scale and shift (learned γ, β; one pair per feature)

For a fully connected layer's output ``(N, C)`` the m values of a feature are the N examples; for
``(N, C, L)`` and for feature maps ``(N, C, H, W)`` they are every example *and* position
(``m = N·L`` or ``N·H·W``): one μ, σ², γ, β per channel, shared over the positions.

**Test time.** In training, each step also updates running averages (PyTorch's convention for
``momentum``: the weight of the *new* value, default 0.1),

    running_mean ← (1 − momentum) · running_mean + momentum · μ_B
    running_var  ← (1 − momentum) · running_var  + momentum · m/(m − 1) · σ²_B   (unbiased variance)

and ``model.eval()`` normalizes with them instead of the batch's statistics, so a prediction does
not depend on the other examples in its batch. ``momentum=None`` uses the cumulative average
(the factor is 1/k on the k-th step). With ``track_running_stats=False`` there are no running
averages and the batch statistics are used in eval mode too.

**The other normalizations** compute the same x̂ = (x − μ)/√(σ² + ε) over other axes of
``(N, C, H, W)`` (Wu & He, 2018), none of them over the batch:

=================  =================================  ================================
layer              μ, σ² over                          γ, β
=================  =================================  ================================
BatchNorm2d        N, H, W      (per channel)          per channel
LayerNorm          C, H, W      (per example)          per element of normalized_shape
InstanceNorm2d     H, W         (per example, channel)  per channel (affine=False default)
GroupNorm          C/G, H, W    (per example, group)    per channel
=================  =================================  ================================

Every class here is a drop-in for its ``torch.nn`` namesake (same constructor arguments and
defaults, same parameter and buffer names, so a ``state_dict`` loads both ways). The forward
passes are written with tensor operations. Batch norm in training mode runs the lecture's explicit
backward pass (:func:`batch_norm_backward`, used by ``_BatchNormTraining``: it costs about half of
what autograd's step-by-step differentiation of the forward does); the other layers and eval mode
leave the backward to autograd.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from ._checks import describe, flag, integer, real, tensor

__all__ = ["batch_norm_forward", "batch_norm_backward", "batch_norm", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
           "GroupNorm", "InstanceNorm2d"]


# --------------------------------------------------------------------------- the algorithm, step by step
def _reduce_dims(x: Tensor) -> list[int]:
    """Every axis but the channel axis 1: ``[0]`` for (N, C), ``[0, 2]`` for (N, C, L), ``[0, 2, 3]`` for (N, C, H, W)."""
    return [0, *range(2, x.ndim)]


def _per_channel(v: Tensor, x: Tensor) -> Tensor:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against ``x`` of shape (N, C, *)."""
    return v.view(1, -1, *([1] * (x.ndim - 2)))


def _check_eps(eps) -> float:
    return real(eps, "eps", low=0.0, low_open=True)


def _check_channels(x: Tensor, expected: int, layer: str, what: str = "num_features") -> None:
    if x.shape[1] != expected:
        raise ValueError(f"{layer} expected {what} = {expected} channels (input dimension 1), got {x.shape[1]} "
                         f"(input shape {tuple(x.shape)}); build the layer with {what}={x.shape[1]} or check the "
                         f"layer before it")


def _check_batch_of_one(x: Tensor, layer: str = "batch norm") -> None:
    if x.shape[0] * math.prod(x.shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {list(x.shape)}: {layer} with "
            f"one value per channel has batch variance 0, so every output would be beta. Use eval mode "
            f"(model.eval(), the running averages) for single examples, a larger batch, drop_last=True in fit "
            f"(no last batch of one), or GroupNorm / LayerNorm, which do not normalize over the batch")


def batch_norm_forward(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> tuple[Tensor, tuple]:
    """The lecture's training-time forward pass, cs231n-style; returns ``(out, cache)`` for :func:`batch_norm_backward`.

    ``x``: (N, C) or (N, C, *) → ``out`` of the same shape; ``gamma``, ``beta``: (C,). Per channel c,
    over the m = N·(positions) values of that channel:

        μ = mean(x),  σ² = mean((x − μ)²),  x̂ = (x − μ)/√(σ² + ε),  out = γ x̂ + β.

    ``cache = (x_hat, gamma, inv_std, dims)`` with ``inv_std = 1/√(σ² + ε)`` of shape (1, C, 1, ...).
    """
    tensor(x, "x", floating=True)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C) or (N, C, *), got shape {tuple(x.shape)}")
    for name, v in (("gamma", gamma), ("beta", beta)):
        tensor(v, name, floating=True, ndim=1)
        if v.shape[0] != x.shape[1]:
            raise ValueError(f"{name} must have one entry per channel: expected {x.shape[1]}, got {v.shape[0]}")
    eps = _check_eps(eps)
    dims = _reduce_dims(x)
    mu = x.mean(dim=dims, keepdim=True)                        # μ_B
    var = ((x - mu) ** 2).mean(dim=dims, keepdim=True)         # σ²_B, divided by m
    inv_std = 1.0 / torch.sqrt(var + eps)                      # 1/√(σ²_B + ε)
    x_hat = (x - mu) * inv_std                                 # normalize
    out = _per_channel(gamma, x) * x_hat + _per_channel(beta, x)  # scale and shift
    return out, (x_hat, gamma, inv_std, dims)


def batch_norm_backward(dout: Tensor, cache: tuple) -> tuple[Tensor, Tensor, Tensor]:
    """The lecture's backward pass through batch norm: ``(dx, dgamma, dbeta)`` from ``dout = ∂L/∂out``.

    ``dout``: shaped like ``x``; ``cache`` from :func:`batch_norm_forward`. With m values per channel
    and sums Σ over them (the axes ``dims``):

        dβ = Σ dout                          (C,)
        dγ = Σ dout ⊙ x̂                      (C,)
        dx̂ = dout ⊙ γ
        dx = (1/√(σ² + ε)) / m · (m·dx̂ − Σ dx̂ − x̂ ⊙ Σ (dx̂ ⊙ x̂))      shaped like x

    The two sums in dx are the paths through μ and σ²: every x_i moves the batch's mean and
    variance, and so every other output of its channel.
    """
    x_hat, gamma, inv_std, dims = cache
    m = x_hat.numel() // x_hat.shape[1]
    dbeta = dout.sum(dim=dims)
    dgamma = (dout * x_hat).sum(dim=dims)
    dx_hat = dout * _per_channel(gamma, x_hat)
    dx = inv_std / m * (m * dx_hat - dx_hat.sum(dim=dims, keepdim=True)
                        - x_hat * (dx_hat * x_hat).sum(dim=dims, keepdim=True))
    return dx, dgamma, dbeta


class _BatchNormTraining(torch.autograd.Function):
    """Batch norm in training mode, with the lecture's backward pass instead of autograd's.

    Forward: :func:`batch_norm_forward`'s equations. Backward: :func:`batch_norm_backward`'s, whose
    two sums carry the paths through μ_B and σ²_B, written with dβ and dγ (which it computes anyway). Autograd, differentiating the forward's operations
    one by one, builds the same gradient from about twice as many full-size operations; the closed
    form is what keeps the layer within a small factor of PyTorch's fused kernel. Both are tested
    equal to autograd and to ``nn.BatchNorm``.

    First derivatives only: the backward pass uses x̂ and 1/√(σ² + ε) saved without a graph, so a
    second derivative through it (``create_graph=True``: gradient penalties, Hessian-vector
    products) would silently miss their dependence on x. ``once_differentiable`` makes that an
    error instead; use ``torch.nn.BatchNorm1d/2d`` (or eval mode) where second derivatives are needed.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, dims):
        mean = x.mean(dim=dims, keepdim=True)                       # μ_B
        centered = x - mean                                         # x − μ_B
        var = (centered * centered).mean(dim=dims, keepdim=True)    # σ²_B, divided by m
        inv_std = torch.rsqrt(var + eps)                            # 1/√(σ²_B + ε)
        x_hat = centered.mul_(inv_std)                              # x̂ (in place: centered is not needed again)
        shape = inv_std.shape
        out = x_hat if weight is None else x_hat * weight.view(shape)   # γ x̂
        out = out if bias is None else out + bias.view(shape)           # + β
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.dims = dims
        ctx.mark_non_differentiable(mean, var)
        return out, mean, var

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, _dmean, _dvar):
        # batch_norm_backward's dx with its two sums written through dβ and dγ (Σ dx̂ = γ dβ and
        # Σ dx̂ ⊙ x̂ = γ dγ, per channel):  dx = γ/√(σ² + ε) ⊙ (dout − (dβ + x̂ ⊙ dγ)/m)
        x_hat, inv_std, weight = ctx.saved_tensors
        dims = ctx.dims
        m = x_hat.numel() // x_hat.shape[1]
        dbeta = dout.sum(dim=dims, keepdim=True)                     # dβ = Σ dout
        dgamma = (dout * x_hat).sum(dim=dims, keepdim=True)          # dγ = Σ dout ⊙ x̂
        scale = inv_std if weight is None else inv_std * weight.view(inv_std.shape)
        dx = (dout - torch.addcmul(dbeta, x_hat, dgamma).div_(m)).mul_(scale) if ctx.needs_input_grad[0] else None
        return (dx, dgamma.view(-1) if ctx.needs_input_grad[1] else None,
                dbeta.view(-1) if ctx.needs_input_grad[2] else None, None, None)


def _check_functional_arguments(x, running_mean, running_var, weight, bias, training, momentum, eps) -> None:
    """batch_norm's arguments, checked as the layers check theirs (the message names the argument)."""
    tensor(x, "x", floating=True)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, C) or (N, C, *), got shape {tuple(x.shape)}")
    flag(training, "training")
    real(momentum, "momentum", low=0.0, high=1.0)
    _check_eps(eps)
    for name, v in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if v is not None:
            tensor(v, name, floating=True)
            if v.shape != (x.shape[1],):
                raise ValueError(f"{name} must have shape ({x.shape[1]},), one entry per channel of x (input "
                                 f"dimension 1), got shape {tuple(v.shape)}")
    if not training and (running_mean is None or running_var is None):
        missing = " and ".join(n for n, v in (("running_mean", running_mean), ("running_var", running_var))
                               if v is None)
        raise ValueError(f"batch_norm with training=False normalizes with running_mean and running_var, got "
                         f"{missing} = None; pass the running averages (a layer's buffers), or training=True "
                         f"to normalize with the batch's own statistics")
    if training:
        _check_batch_of_one(x)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """From-scratch ``F.batch_norm``: (N, C, *) → same shape.

    ``training=True``: normalize with the batch's μ_B, σ²_B (over every axis but 1) and, when the
    running buffers are given, update them in place:
    ``running ← (1 − momentum)·running + momentum·new`` with the unbiased variance m/(m−1)·σ²_B.
    The backward pass is the lecture's (:func:`batch_norm_backward`, in :class:`_BatchNormTraining`;
    first derivatives only). ``training=False``: normalize with ``running_mean`` and ``running_var``
    (both required; autograd does the backward). Then ``y = γ x̂ + β`` (skipped where ``weight`` /
    ``bias`` is None).
    """
    _check_functional_arguments(x, running_mean, running_var, weight, bias, training, momentum, eps)
    shape = (1, -1, *([1] * (x.ndim - 2)))                      # a (C,) vector broadcast over (N, C, *)
    if training:
        out, mean, var = _BatchNormTraining.apply(x, weight, bias, eps, _reduce_dims(x))
        if running_mean is not None and running_var is not None:
            m = x.numel() // x.shape[1]
            with torch.no_grad():                                   # running ← running + momentum·(new − running)
                running_mean.lerp_(mean.view(-1), momentum)
                running_var.lerp_(var.view(-1) * (m / (m - 1)), momentum)   # unbiased: m/(m − 1)·σ²_B
        return out
    centered, var = x - running_mean.view(shape), running_var.view(shape)
    # x̂ = (x − μ)/√(σ² + ε), then y = γ x̂ + β. Multiplying (x − μ) by γ/√(σ² + ε) in one step gives
    # the same numbers with one full-size operation less (and one less in the backward pass).
    scale = torch.rsqrt(var + eps)
    if weight is not None:
        scale = scale * weight.view(shape)
    if bias is None:
        return centered * scale
    return torch.addcmul(bias.view(shape), centered, scale)


# --------------------------------------------------------------------------- batch norm layers
def _check_dtype(dtype) -> None:
    if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch.dtype or None, got {describe(dtype)}")


def _check_momentum(momentum) -> float | None:
    if momentum is None:
        return None
    try:
        return real(momentum, "momentum", low=0.0, high=1.0)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} or None (the weight of the new batch in the running averages, 0.1 by default; "
                        f"None for a cumulative average)") from None


class _NormBase(nn.Module):
    """Parameters ``weight`` (γ), ``bias`` (β) and buffers ``running_mean``, ``running_var``,
    ``num_batches_tracked``, registered exactly as ``torch.nn`` does, so state_dicts are interchangeable."""

    _version = 2  # as torch.nn's batch norm: the state_dict holds num_batches_tracked

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = integer(num_features, "num_features", low=1)
        self.eps = _check_eps(eps)
        self.momentum = _check_momentum(momentum)
        self.affine = flag(affine, "affine")
        self.track_running_stats = flag(track_running_stats, "track_running_stats")
        flag(bias, "bias")
        _check_dtype(dtype)
        factory = {"device": device, "dtype": dtype}
        if self.affine:
            self.weight = nn.Parameter(torch.empty(self.num_features, **factory))
            self.bias = nn.Parameter(torch.empty(self.num_features, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(self.num_features, **factory))
            self.register_buffer("running_var", torch.ones(self.num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0 (the layer starts as a plain standardization) and fresh running statistics."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _shapes = ""  # the accepted input ranks, in words

    def _check_input(self, x: Tensor) -> None:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "input", floating=True)
        self._check_input(x)
        _check_channels(x, self.num_features, type(self).__name__)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:                       # cumulative average: 1/k on the k-th batch
                factor = 1.0 / float(self.num_batches_tracked)
        # batch statistics in training, and in eval mode when there are no running averages
        use_batch = self.training or self.running_mean is None
        update = self.training and self.track_running_stats
        return batch_norm(x, self.running_mean if update or not use_batch else None,
                          self.running_var if update or not use_batch else None,
                          self.weight, self.bias, use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over a fully connected layer's features, ``torch.nn.BatchNorm1d``'s drop-in.

    Input (N, C) (statistics over the N examples) or (N, C, L) (over examples and positions);
    output of the same shape. Training: ``y = γ (x − μ_B)/√(σ²_B + ε) + β`` with the batch's
    statistics, and the running averages are updated; eval: the running averages replace μ_B, σ²_B.
    """

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.ndim}D input of shape {tuple(x.shape)}): BatchNorm1d "
                             f"takes (N, C) or (N, C, L); use BatchNorm2d for feature maps (N, C, H, W)")


class BatchNorm2d(_BatchNorm):
    """Batch norm per feature map, ``torch.nn.BatchNorm2d``'s drop-in.

    Input (N, C, H, W) → same shape. One μ, σ², γ, β per channel c, computed over the N·H·W
    values of that channel: every position of a feature map is normalized the same way, as a
    convolution treats every position the same way.
    """

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4:
            raise ValueError(f"expected 4D input (got {x.ndim}D input of shape {tuple(x.shape)}): BatchNorm2d "
                             f"takes feature maps (N, C, H, W); use BatchNorm1d for (N, C) or (N, C, L)")


class InstanceNorm2d(_NormBase):
    """Instance norm, ``torch.nn.InstanceNorm2d``'s drop-in: each example's each channel on its own.

    Input (N, C, H, W) or (C, H, W) → same shape. μ, σ² over the H·W values of one (example,
    channel); γ, β per channel when ``affine=True`` (default False). With
    ``track_running_stats=True`` the running averages (of the per-instance statistics, averaged
    over the batch) are used in eval mode; by default the input's own statistics are used always.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "input", floating=True)
        if x.ndim not in (3, 4):
            raise ValueError(f"expected 3D or 4D input (got {x.ndim}D input of shape {tuple(x.shape)}): "
                             f"InstanceNorm2d takes (N, C, H, W) or one example (C, H, W)")
        if x.ndim == 3:
            return self.forward(x.unsqueeze(0)).squeeze(0)
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                _check_channels(x, self.num_features, "InstanceNorm2d")
            warnings.warn(f"InstanceNorm2d was built with num_features = {self.num_features}, the input has "
                          f"{x.shape[1]} channels; without affine parameters or running averages the number is "
                          f"not used", stacklevel=2)
        use_input = self.training or not self.track_running_stats
        if use_input:
            if x.shape[2] * x.shape[3] == 1:
                raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                                 f"{list(x.shape)}: a 1x1 map has variance 0 on its own")
            var, mean = torch.var_mean(x, dim=(2, 3), correction=0, keepdim=True)   # per (example, channel)
            if self.track_running_stats and self.training:
                m, momentum = x.shape[2] * x.shape[3], (self.momentum or 0.0)
                with torch.no_grad():
                    self.running_mean.mul_(1 - momentum).add_(mean.detach().mean((0, 2, 3)), alpha=momentum)
                    self.running_var.mul_(1 - momentum).add_(var.detach().mean((0, 2, 3)),
                                                             alpha=momentum * m / (m - 1))
        else:
            mean, var = _per_channel(self.running_mean, x), _per_channel(self.running_var, x)
        x_hat = (x - mean) * torch.rsqrt(var + self.eps)
        if self.weight is not None:
            x_hat = x_hat * _per_channel(self.weight, x)
        if self.bias is not None:
            x_hat = x_hat + _per_channel(self.bias, x)
        return x_hat


# --------------------------------------------------------------------------- layer norm, group norm
class LayerNorm(nn.Module):
    """Layer norm, ``torch.nn.LayerNorm``'s drop-in: each example normalized over its last dimensions.

    ``normalized_shape``: the trailing shape (an int for the last dimension, ``[C, H, W]`` for a
    whole feature map). Input (*, *normalized_shape) → same shape. μ, σ² (biased) over those
    trailing dimensions of each example, ``y = γ ⊙ x̂ + β`` with γ, β of shape ``normalized_shape``.
    No running averages: training and eval compute the same thing, at any batch size.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        if isinstance(normalized_shape, (str, bytes, bool)) or not hasattr(normalized_shape, "__iter__"):
            raise TypeError(f"normalized_shape must be an int or a sequence of ints, got {describe(normalized_shape)}")
        self.normalized_shape = tuple(integer(s, "normalized_shape entries", low=1) for s in normalized_shape)
        if not self.normalized_shape:
            raise ValueError("normalized_shape must name at least one dimension, got ()")
        self.eps = _check_eps(eps)
        self.elementwise_affine = flag(elementwise_affine, "elementwise_affine")
        flag(bias, "bias")
        _check_dtype(dtype)
        factory = {"device": device, "dtype": dtype}
        if self.elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, **factory))
            self.bias = nn.Parameter(torch.empty(self.normalized_shape, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "input", floating=True)
        k = len(self.normalized_shape)
        if tuple(x.shape[x.ndim - k:]) != self.normalized_shape or x.ndim < k:
            raise ValueError(f"LayerNorm expected the input's last {k} dimension(s) to be {self.normalized_shape}, "
                             f"got {tuple(x.shape[max(x.ndim - k, 0):])} (input shape {tuple(x.shape)})")
        dims = tuple(range(x.ndim - k, x.ndim))
        var, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)   # per example
        y = (x - mean) * torch.rsqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(nn.Module):
    """Group norm, ``torch.nn.GroupNorm``'s drop-in: each example's channels normalized in groups.

    Input (N, C, *) with ``C = num_channels`` → same shape. The C channels are split into
    ``num_groups`` groups of C/G consecutive channels; μ, σ² over one group of one example
    (its C/G channels and all positions); γ, β per channel. ``num_groups=1`` is layer norm over
    (C, *); ``num_groups=C`` is instance norm. Independent of the batch size.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        num_groups = integer(num_groups, "num_groups", low=1)
        num_channels = integer(num_channels, "num_channels", low=1)
        if num_channels % num_groups != 0:
            divisors = [g for g in range(1, num_channels + 1) if num_channels % g == 0]
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups}): every "
                             f"group holds num_channels / num_groups channels; num_groups can be one of {divisors}")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps = _check_eps(eps)
        self.affine = flag(affine, "affine")
        flag(bias, "bias")
        _check_dtype(dtype)
        factory = {"device": device, "dtype": dtype}
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_channels, **factory))
            self.bias = nn.Parameter(torch.empty(num_channels, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "input", floating=True)
        if x.ndim < 2:
            raise ValueError(f"GroupNorm expects input of shape (N, C, *), got shape {tuple(x.shape)}")
        _check_channels(x, self.num_channels, "GroupNorm", "num_channels")
        groups = x.reshape(x.shape[0], self.num_groups, -1)                # (N, G, C/G · positions)
        var, mean = torch.var_mean(groups, dim=2, correction=0, keepdim=True)
        y = ((groups - mean) * torch.rsqrt(var + self.eps)).reshape(x.shape)
        if self.weight is not None:
            y = y * _per_channel(self.weight, x)
        if self.bias is not None:
            y = y + _per_channel(self.bias, x)
        return y

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
