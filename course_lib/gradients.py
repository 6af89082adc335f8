"""Gradient flow: per-layer statistics of activations and gradients, and gradient clipping.

**Looking inside a network.** For each chosen layer ``l`` (by default the activation layers, PyTorch's
and ``course_lib.activations``'; pass ``layer_types`` to add Linear/Conv layers) :func:`layer_stats`
records, on one batch, the statistics of its output ``h_l`` and, after a backward pass, of the gradient
``∂L/∂h_l`` flowing into it:

* mean and standard deviation of ``h_l`` and a histogram of its values;
* the **saturated fraction** of a tanh (``|h| > 0.99``) or sigmoid (``h < 0.01`` or ``h > 0.99``):
  there the local derivative ``1 − tanh²`` or ``σ(1 − σ)`` is nearly 0 and the gradient dies;
* the **dead units** of a ReLU: units that output 0 for every example of the batch (they pass no
  gradient back, so their incoming weights stop learning);
* mean, standard deviation and norm of ``∂L/∂h_l``, and for layers with a weight the norm of
  ``∂L/∂W_l``: the gradient that reaches the layer's parameters.

Through a layer ``h_l = φ(W_l h_{l−1})`` the backward pass multiplies the gradient by ``W_lᵀ`` and
by ``φ'``; over many layers the product shrinks (**vanishing gradients**) or grows
(**exploding gradients**) geometrically when the per-layer factor is below or above 1.

**Gradient clipping** limits the step an exploding gradient can cause. With all gradients of the
parameters viewed as one vector ``g``:

    clip by norm  (``clip_grad_norm_``):  g ← g · min(1, max_norm / (‖g‖ + 1e-6))   (direction kept)
    clip by value (``clip_grad_value_``): g_i ← min(max(g_i, −clip_value), clip_value)  (per entry)

Both are drop-ins for ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``: same arguments
and defaults, gradients changed in place, ``clip_grad_norm_`` returns the total norm before clipping
(a tensor) and ``clip_grad_value_`` returns ``None``. They go between ``loss.backward()`` and
``optimizer.step()``.
"""

from __future__ import annotations

import math
import numbers
import types
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import torch
from torch import Tensor, nn

from ._checks import describe, flag, integer, real
from .activations import ELU, RECTIFIERS, SATURATING, LeakyReLU, PReLU, ReLU, Sigmoid, Tanh

__all__ = ["DEFAULT_LAYER_TYPES", "LayerStats", "layer_stats", "format_stats", "clip_grad_norm_", "clip_grad_value_"]

#: The activation layers watched by default: PyTorch's and ``course_lib.activations``' own.
DEFAULT_LAYER_TYPES: tuple[type[nn.Module], ...] = (nn.Tanh, nn.Sigmoid, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU,
                                                    nn.SELU, nn.PReLU, nn.ReLU6, Tanh, Sigmoid, ReLU, LeakyReLU, ELU,
                                                    PReLU)
_SATURATING = SATURATING   # the tuples shared with course_lib.activations
_RELUS = RECTIFIERS
_TANHS = (nn.Tanh, Tanh)


@dataclass
class LayerStats:
    """The statistics of one layer's output ``h`` (shape ``(N, *)``, N examples) on one batch.

    ``units``: entries of ``h`` per example. ``hist``/``edges``: ``bins`` counts and ``bins + 1`` edges
    (CPU tensors). ``saturated``: fraction of saturated outputs (tanh, sigmoid; else ``None``).
    ``dead``: units zero on every example (ReLU; else ``None``). The ``grad_*`` fields describe
    ``∂L/∂h`` and ``weight_grad_norm`` the Frobenius norm of ``∂L/∂W`` (``None`` without a backward
    pass, or for a layer without weight).
    """

    index: int
    name: str
    kind: str
    units: int
    mean: float
    std: float
    hist: Tensor
    edges: Tensor
    saturated: float | None = None
    dead: int | None = None
    grad_mean: float | None = None
    grad_std: float | None = None
    grad_norm: float | None = None
    weight_grad_norm: float | None = None


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    return model


def _check_layer_types(layer_types) -> tuple[type, ...]:
    if isinstance(layer_types, type):
        layer_types = (layer_types,)
    if not isinstance(layer_types, (tuple, list)) or not layer_types or not all(
            isinstance(t, type) and issubclass(t, nn.Module) for t in layer_types):
        raise TypeError(f"layer_types must be a non-empty tuple of nn.Module classes such as (nn.Tanh, nn.Linear), "
                        f"got {describe(layer_types)}")
    return tuple(layer_types)


def layer_stats(model: nn.Module, x: Tensor, target: Tensor | None = None, *,
                loss_fn: Callable[..., Tensor] | None = None, grad_output: Tensor | None = None,
                layer_types: Sequence[type[nn.Module]] = DEFAULT_LAYER_TYPES, bins: int = 50,
                hist_range: tuple[float, float] | None = None, saturation: float = 0.99) -> list[LayerStats]:
    """Run ``model`` on the batch ``x`` (``(N, *)``) and return one :class:`LayerStats` per chosen layer, in order.

    The backward pass (for the ``grad_*`` fields) uses, in this order of preference:
    ``target`` → ``loss = (loss_fn or cross_entropy)(model(x), target)``; ``loss_fn`` alone →
    ``loss = loss_fn(model(x))``; ``grad_output`` → ``∂L/∂output = grad_output`` (for example a fixed
    unit-Gaussian tensor, to watch one gradient travel down); none of them → forward pass only.
    Gradients are taken with ``torch.autograd.grad``: the parameters' ``.grad`` are left untouched.

    ``layer_types``: the module classes to watch (hooks on each instance). ``bins``/``hist_range``: the
    histograms (default range: each layer's min to max). ``saturation``: the threshold of
    saturation, ``|tanh| > saturation`` and ``sigmoid < 1 − saturation`` or ``> saturation``.
    The model's train/eval mode is left as it is. Each watched layer hands the rest of the network a copy
    of its output, so an in-place layer after it (``nn.ReLU(inplace=True)``) cannot overwrite what is recorded.
    """
    _check_model(model)
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor (a batch of inputs), got {describe(x)}")
    layer_types = _check_layer_types(layer_types)
    bins = integer(bins, "bins", low=1)
    saturation = real(saturation, "saturation", low=0.5, high=1.0, high_open=True)
    if hist_range is not None:
        if not isinstance(hist_range, (tuple, list)) or len(hist_range) != 2:
            raise TypeError(f"hist_range must be a pair (low, high) or None, got {describe(hist_range)}")
        lo, hi = real(hist_range[0], "hist_range[0]"), real(hist_range[1], "hist_range[1]")
        if not lo < hi:
            raise ValueError(f"hist_range must have low < high, got {tuple(hist_range)}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function of (output, target) or of (output), got {describe(loss_fn)}")
    if grad_output is not None and not isinstance(grad_output, Tensor):
        raise TypeError(f"grad_output must be a torch.Tensor shaped like the model's output, got "
                        f"{describe(grad_output)}")
    backward = target is not None or loss_fn is not None or grad_output is not None

    watched = [(name, m) for name, m in model.named_modules() if isinstance(m, layer_types)]
    if not watched:
        kinds = ", ".join(t.__name__ for t in layer_types)
        raise ValueError(f"model has no layer of the types watched ({kinds}); pass layer_types=")
    outputs: dict[int, Tensor] = {}

    def make_hook(i: int):
        def hook(module, inputs, output):
            if isinstance(output, Tensor) and i not in outputs:  # the first call, if a module is used twice
                outputs[i] = output
                # The rest of the network gets a copy: an in-place layer after this one (nn.ReLU(inplace=True))
                # then changes the copy, and the tensor recorded here keeps this layer's own values and gradient.
                return output.clone()
            return None
        return hook

    handles = [m.register_forward_hook(make_hook(i)) for i, (_, m) in enumerate(watched)]
    try:
        with torch.enable_grad() if backward else torch.no_grad():
            out = model(x)
            grads: dict[int, Tensor] = {}
            weight_grads: dict[int, Tensor] = {}
            if backward:
                if target is not None:
                    loss = (loss_fn or nn.functional.cross_entropy)(out, target)
                elif loss_fn is not None:
                    loss = loss_fn(out)
                else:
                    if grad_output.shape != out.shape:
                        raise ValueError(f"grad_output must have the shape of the model's output "
                                         f"{tuple(out.shape)}, got {tuple(grad_output.shape)}")
                    loss = (out * grad_output.to(out)).sum()
                acts = [(i, h) for i, h in outputs.items() if h.requires_grad]
                weights = [(i, m.weight) for i, (_, m) in enumerate(watched)
                           if isinstance(getattr(m, "weight", None), Tensor) and m.weight.requires_grad]
                tensors = [h for _, h in acts] + [w for _, w in weights]
                if tensors:
                    got = torch.autograd.grad(loss, tensors, allow_unused=True)
                    grads = {i: g for (i, _), g in zip(acts, got[:len(acts)]) if g is not None}
                    weight_grads = {i: g for (i, _), g in zip(weights, got[len(acts):]) if g is not None}
    finally:
        for h in handles:
            h.remove()

    records = []
    for i, (name, module) in enumerate(watched):
        if i not in outputs:
            continue  # not used in this forward pass
        h = outputs[i].detach()
        flat = h.float().reshape(h.shape[0], -1) if h.dim() > 1 else h.float().reshape(-1, 1)
        lo, hi = (hist_range if hist_range is not None else (flat.min().item(), flat.max().item()))
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = torch.linspace(lo, hi, bins + 1)
        hist = torch.histc(flat.cpu(), bins=bins, min=lo, max=hi)
        saturated = dead = None
        if isinstance(module, _TANHS):
            saturated = (flat.abs() > saturation).float().mean().item()
        elif isinstance(module, _SATURATING):  # the sigmoids
            saturated = ((flat > saturation) | (flat < 1 - saturation)).float().mean().item()
        if isinstance(module, _RELUS):
            dead = int((flat <= 0).all(dim=0).sum().item())
        rec = LayerStats(index=i, name=name or type(module).__name__, kind=type(module).__name__,
                         units=flat.shape[1], mean=flat.mean().item(), std=flat.std(correction=0).item(),
                         hist=hist, edges=edges, saturated=saturated, dead=dead)
        if i in grads:
            g = grads[i].detach().float()
            rec.grad_mean, rec.grad_std = g.mean().item(), g.std(correction=0).item()
            rec.grad_norm = g.norm().item()
        if i in weight_grads:
            rec.weight_grad_norm = weight_grads[i].detach().float().norm().item()
        records.append(rec)
    return records


def format_stats(records: Sequence[LayerStats]) -> str:
    """A small table of :func:`layer_stats` records, one line per layer (``-`` where a field does not apply).

    ``layer`` is the module's name in the model (``model.named_modules()``, for a ``Sequential`` its
    index there), ``type`` its class.
    """
    def cell(v, fmt, width):
        return f"{'-':>{width}}" if v is None else format(v, f">{width}{fmt}")

    names = [r.name for r in records]
    w_name = max([len("layer")] + [len(n) for n in names])
    w_kind = max([len("type")] + [len(r.kind) for r in records])
    lines = [f"{'layer':<{w_name}} {'type':<{w_kind}} {'mean':>10} {'std':>10} {'saturated':>9} {'dead':>5} "
             f"{'grad std':>10} {'|dL/dW|':>10}"]
    for r in records:
        lines.append(f"{r.name:<{w_name}} {r.kind:<{w_kind}} {r.mean:>10.3g} {r.std:>10.3g} "
                     f"{cell(r.saturated, '.2f', 9)} {cell(r.dead, 'd', 5)} {cell(r.grad_std, '.3g', 10)} "
                     f"{cell(r.weight_grad_norm, '.3g', 10)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- clipping
def _parameters(parameters, name: str = "parameters") -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError(f"{name} must be a tensor or an iterable of tensors (e.g. model.parameters()), "
                        f"got {describe(parameters)}")
    is_generator = isinstance(parameters, types.GeneratorType)
    params = list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name} must contain tensors, got {describe(p)}")
    if is_generator and not params:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    return params


def _norm_type(norm_type) -> float:
    if isinstance(norm_type, str):
        try:
            norm_type = float(norm_type)  # 'inf', as PyTorch accepts
        except ValueError:
            raise ValueError(f"norm_type must be a positive number or 'inf', got {norm_type!r}") from None
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"norm_type must be a positive number or 'inf', got {describe(norm_type)}")
    norm_type = float(norm_type)
    if math.isnan(norm_type) or norm_type <= 0:
        raise ValueError(f"norm_type must be a positive number or 'inf', got {norm_type!r}")
    return norm_type


def _limit(value, name: str) -> float:
    """A non-negative real number or ``math.inf`` (no clipping: the call only measures)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    return real(value, name, low=0.0)


def _foreach(foreach) -> None:
    if foreach is not None:
        flag(foreach, "foreach")


@torch.no_grad()
def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their total norm is at most ``max_norm``; return the norm before.

    ‖g‖ = ‖(‖g_1‖, …, ‖g_k‖)‖ (the p-norm of all gradients as one vector, ``norm_type`` = p, ``inf`` for
    the largest |entry|);  every ``g_i ← g_i · min(1, max_norm / (‖g‖ + 1e-6))``. The direction of the
    update is kept, its length is bounded. Parameters without ``.grad`` are skipped. A non-finite ‖g‖
    raises ``RuntimeError`` when ``error_if_nonfinite``. ``max_norm=math.inf`` only measures ‖g‖. ``foreach`` is accepted for compatibility (the
    loop here is the plain one). Returns ‖g‖ as a 0-dim tensor on the first gradient's device
    (``tensor(0.)`` when no parameter has a gradient).
    """
    params = _parameters(parameters)
    max_norm = _limit(max_norm, "max_norm")
    norm_type = _norm_type(norm_type)
    flag(error_if_nonfinite, "error_if_nonfinite")
    _foreach(foreach)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    first = grads[0].device
    norms = [torch.linalg.vector_norm(g, norm_type) for g in grads]
    total = torch.linalg.vector_norm(torch.stack([n.to(first) for n in norms]), norm_type)
    if error_if_nonfinite and bool(torch.logical_or(total.isnan(), total.isinf())):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           f"norm anyway, set `error_if_nonfinite=False`")
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # never scales up
    for g in grads:
        g.mul_(coef.to(g.device))
    return total


@torch.no_grad()
def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient entry to ``[−clip_value, clip_value]`` in place; returns ``None``.

    g_i ← min(max(g_i, −clip_value), clip_value). Unlike clipping by norm this changes the direction
    of the update when only some entries are large. Parameters without ``.grad`` are skipped.
    """
    params = _parameters(parameters)
    clip_value = _limit(clip_value, "clip_value")
    _foreach(foreach)
    for p in params:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
    return None
