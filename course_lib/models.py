"""Small model builders: multilayer perceptrons and convolutional nets.

Both return plain ``nn.Sequential`` stacks, so ``print(model)`` shows every layer and any
layer can be replaced or frozen by index. Options that later lectures vary are arguments:

* ``activation``: ``relu``, ``leaky_relu``, ``prelu``, ``elu``, ``gelu``, ``tanh``,
  ``sigmoid``, ``identity`` (or any ``nn.Module`` class / factory),
* ``dropout``: drop probability after each hidden activation (0 = none),
* ``norm``: ``batch``, ``layer`` or ``None``: normalization before each activation,
* ``init``: an initialization applied to every ``nn.Linear`` / ``nn.Conv*`` weight, biases then
  set to zero, by :func:`course_lib.init.initialize`: a scheme name (``"kaiming_normal"``,
  ``"xavier_normal"``, ... drawn from ``generator``) or a function of the weight (for example
  ``torch.nn.init.xavier_normal_``),
* ``generator``: a ``torch.Generator`` that PyTorch's default initialization draws from,
  so a model is reproducible without touching the global random state.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from ._checks import describe, flag, integer, one_of, positive_sizes, probability
from ._checks import generator as _check_generator
from .init import SCHEMES, WEIGHTED, check_scheme, initialize

__all__ = ["ACTIVATIONS", "make_activation", "mlp", "cnn", "count_parameters", "reset_parameters"]

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def _check_activation(activation) -> None:
    """A name in :data:`ACTIVATIONS` or something callable (checked without calling it)."""
    if isinstance(activation, str):
        one_of(activation, "activation", tuple(ACTIVATIONS))
    elif isinstance(activation, nn.Module):
        raise TypeError(f"activation must be a name or a module factory, got the module {activation}; "
                        f"pass the class (e.g. nn.{type(activation).__name__}) so every layer gets its own")
    elif not callable(activation):
        raise TypeError(f"activation must be a name ({', '.join(ACTIVATIONS)}) or a module factory, "
                        f"got {describe(activation)}")


def make_activation(activation: str | Callable[[], nn.Module]) -> nn.Module:
    """A fresh activation module from a name in :data:`ACTIVATIONS` or a module factory (e.g. ``nn.SiLU``)."""
    _check_activation(activation)
    if isinstance(activation, str):
        return ACTIVATIONS[activation.strip().lower()]()
    module = activation()
    if not isinstance(module, nn.Module):
        raise TypeError(f"activation factory must return an nn.Module, got {describe(module)}")
    return module


def _norm(norm: str | None, features: int, dim: int) -> nn.Module | None:
    if norm is None:
        return None
    key = _check_norm(norm)
    if key == "batch":
        return nn.BatchNorm1d(features) if dim == 1 else nn.BatchNorm2d(features)
    return nn.LayerNorm(features) if dim == 1 else nn.GroupNorm(1, features)


def _check_norm(norm: str | None) -> str | None:
    if norm is None:
        return None
    try:
        return one_of(norm, "norm", ("batch", "layer"))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} (or None for no normalization)") from None


def _check_init(init) -> None:
    if init is None or callable(init):
        return
    if isinstance(init, str):
        check_scheme(init)  # an unknown name gets initialize's message (with its hint)
        return
    raise TypeError(f"init must be a scheme name ({', '.join(SCHEMES)}), a function applied to each weight "
                    f"(e.g. nn.init.xavier_normal_) or None, got {describe(init)}")


def _check_model(model, name: str = "model") -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be an nn.Module, got {describe(model)}")


@torch.no_grad()
def reset_parameters(model: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Redraw every linear and convolutional layer with PyTorch's default initialization, in module order.

    For a layer with ``fan_in`` inputs per output (``in_features``, or ``in_channels × kernel size``)::

        W ~ kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in),    b ~ U(−1/√fan_in, 1/√fan_in)

    drawn from ``generator`` (the global generator when ``None``), exactly as the layers'
    own ``reset_parameters`` do, so ``torch.manual_seed(s)`` before building a model and
    ``reset_parameters(model, torch.Generator().manual_seed(s))`` after give the same weights.
    Other layers (normalization, PReLU) are left as they are.
    """
    _check_model(model)
    generator = _check_generator(generator, cpu=True)
    for module in model.modules():
        if isinstance(module, WEIGHTED):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return model


def _finish(build: Callable[[], list[nn.Module]], init, generator: torch.Generator | None) -> nn.Sequential:
    """Build the layers; with a generator, draw their parameters from it, leaving the global RNG as it was."""
    if generator is None:
        model = nn.Sequential(*build())
    else:
        with torch.random.fork_rng(devices=[]):  # the layers' own default draws are discarded ...
            model = nn.Sequential(*build())
        reset_parameters(model, generator)      # ... and redrawn from the generator
    if init is None:
        return model
    # a scheme name draws from the generator (after the default draws); a function is called as f(weight)
    return initialize(model, init, generator=generator if isinstance(init, str) else None)


def mlp(in_features: int, hidden: Sequence[int], out_features: int, *, activation="relu",
        dropout: float = 0.0, input_dropout: float = 0.0, norm: str | None = None,
        init: str | Callable[[torch.Tensor], object] | None = None, bias: bool = True,
        generator: torch.Generator | None = None) -> nn.Sequential:
    """A fully connected network (multilayer perceptron):

    Flatten → (Dropout) → [Linear → (Norm) → act → (Dropout)] × len(hidden) → Linear, computing
    ``MLP(x) = W_L σ(… σ(W_1 x + b_1) …) + b_L``; inputs of any shape ``(N, ...)`` are flattened
    first, so ``in_features`` is the product of the input's non-batch dimensions. ``hidden`` lists
    the hidden widths (``[128, 64]``; ``[]`` for a linear model). ``bias=False`` drops the hidden
    layers' biases (a layer followed by a norm never has one: the norm's β absorbs it).
    ``generator``: draw the default initialization from it (see :func:`reset_parameters`); ``init``
    (a scheme name of :func:`course_lib.init.initialize`, drawn from ``generator`` too, or a function
    of the weight) is applied after, and zeroes the biases.
    """
    in_features = integer(in_features, "in_features", low=1)
    hidden = positive_sizes(hidden, "hidden")
    out_features = integer(out_features, "out_features", low=1)
    _check_activation(activation)
    dropout = probability(dropout, "dropout", meaning="the probability of zeroing a hidden unit")
    input_dropout = probability(input_dropout, "input_dropout", meaning="the probability of zeroing an input")
    _check_norm(norm)
    _check_init(init)
    bias = flag(bias, "bias")
    generator = _check_generator(generator, cpu=True)

    def build() -> list[nn.Module]:
        layers: list[nn.Module] = [nn.Flatten()]
        if input_dropout > 0:
            layers.append(nn.Dropout(input_dropout))
        width = in_features
        for h in hidden:
            norm_layer = _norm(norm, h, dim=1)
            layers.append(nn.Linear(width, h, bias=bias and norm_layer is None))
            if norm_layer is not None:
                layers.append(norm_layer)
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        return layers

    return _finish(build, init, generator)


def cnn(in_channels: int, num_classes: int, *, channels: Sequence[int] = (16, 32), kernel_size: int = 3,
        hidden: int = 64, dim: int = 2, activation="relu", dropout: float = 0.0, norm: str | None = None,
        init: str | Callable[[torch.Tensor], object] | None = None,
        generator: torch.Generator | None = None) -> nn.Sequential:
    """A small convolutional net: [Conv → (Norm) → act → MaxPool(2)] per entry of ``channels``,
    then global average pooling → Linear(hidden) → act → (Dropout) → Linear(num_classes).

    ``dim=2`` for images ``(N, C, H, W)``, ``dim=1`` for sequences ``(N, C, L)`` such as
    MNIST-1D (give it ``x.unsqueeze(1)`` or use ``in_channels=1`` with an ``nn.Unflatten``).
    Global pooling makes the head independent of the input size. ``hidden`` is the width of
    the one hidden layer of the head (an int). ``generator``: draw the default initialization
    from it (see :func:`reset_parameters`); ``init`` (a scheme name or a function of the weight, as in
    :func:`mlp`) is applied after.
    """
    in_channels = integer(in_channels, "in_channels", low=1)
    num_classes = integer(num_classes, "num_classes", low=1)
    channels = positive_sizes(channels, "channels")
    if not channels:
        raise ValueError("channels must hold at least one size (one convolution per entry), got []")
    kernel_size = integer(kernel_size, "kernel_size", low=1)
    hidden = integer(hidden, "hidden (the width of the head's hidden layer)", low=1)
    if integer(dim, "dim") not in (1, 2):
        raise ValueError(f"dim must be 1 (sequences) or 2 (images), got {dim}")
    _check_activation(activation)
    dropout = probability(dropout, "dropout", meaning="the probability of zeroing a hidden unit")
    _check_norm(norm)
    _check_init(init)
    generator = _check_generator(generator, cpu=True)
    conv = nn.Conv1d if dim == 1 else nn.Conv2d
    pool = nn.MaxPool1d if dim == 1 else nn.MaxPool2d

    def build() -> list[nn.Module]:
        layers: list[nn.Module] = []
        width = in_channels
        for c in channels:
            norm_layer = _norm(norm, c, dim=dim)
            layers.append(conv(width, c, kernel_size, padding=kernel_size // 2, bias=norm_layer is None))
            if norm_layer is not None:
                layers.append(norm_layer)
            layers += [make_activation(activation), pool(2)]
            width = c
        gap = nn.AdaptiveAvgPool1d(1) if dim == 1 else nn.AdaptiveAvgPool2d(1)
        layers += [gap, nn.Flatten(), nn.Linear(width, hidden), make_activation(activation)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, num_classes))
        return layers

    return _finish(build, init, generator)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters in ``model``: Σ over its parameter tensors of their numel."""
    _check_model(model)
    trainable_only = flag(trainable_only, "trainable_only")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
