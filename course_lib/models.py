"""Small model builders: multilayer perceptrons and convolutional nets.

Both return plain ``nn.Sequential`` stacks, so ``print(model)`` shows every layer and any
layer can be replaced or frozen by index. Options that later lectures vary are arguments:

* ``activation``: ``relu``, ``leaky_relu``, ``prelu``, ``elu``, ``gelu``, ``tanh``,
  ``sigmoid``, ``identity`` (or any ``nn.Module`` class / factory),
* ``dropout``: drop probability after each hidden activation (0 = none),
* ``norm``: ``batch``, ``layer`` or ``None``: normalization before each activation,
* ``init``: a function applied to every ``nn.Linear`` / ``nn.Conv*`` weight
  (for example ``torch.nn.init.xavier_normal_``); biases are then set to zero.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "make_activation", "mlp", "cnn", "count_parameters", "init_weights"]

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


def make_activation(activation: str | Callable[[], nn.Module]) -> nn.Module:
    """A fresh activation module from a name in :data:`ACTIVATIONS` or a module factory."""
    if isinstance(activation, str):
        key = activation.strip().lower()
        if key not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        return ACTIVATIONS[key]()
    if callable(activation):
        module = activation()
        if not isinstance(module, nn.Module):
            raise TypeError(f"activation factory must return an nn.Module, got {type(module).__name__}")
        return module
    raise TypeError(f"activation must be a name or a module factory, got {type(activation).__name__}")


def _norm(norm: str | None, features: int, dim: int) -> nn.Module | None:
    if norm is None:
        return None
    key = norm.strip().lower()
    if key == "batch":
        return nn.BatchNorm1d(features) if dim == 1 else nn.BatchNorm2d(features)
    if key == "layer":
        return nn.LayerNorm(features) if dim == 1 else nn.GroupNorm(1, features)
    raise ValueError(f"unknown norm {norm!r}; choose 'batch', 'layer' or None")


def _check_dropout(p: float) -> None:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")


def init_weights(model: nn.Module, init: Callable[[torch.Tensor], object]) -> nn.Module:
    """Apply ``init`` to the weight of every linear and convolutional layer; zero their biases."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            init(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def mlp(in_features: int, hidden: Sequence[int], out_features: int, *, activation="relu",
        dropout: float = 0.0, input_dropout: float = 0.0, norm: str | None = None,
        init: Callable[[torch.Tensor], object] | None = None, bias: bool = True) -> nn.Sequential:
    """A fully connected network: Flatten → [Linear → (Norm) → act → (Dropout)] × len(hidden) → Linear.

    ``MLP(x) = W_L σ(… σ(W_1 x + b_1) …) + b_L``; inputs of any shape ``(N, ...)`` are flattened
    first, so ``in_features`` is the product of the input's non-batch dimensions.
    """
    if in_features < 1 or out_features < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"layer sizes must be positive: in={in_features}, hidden={list(hidden)}, out={out_features}")
    _check_dropout(dropout)
    _check_dropout(input_dropout)
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
    model = nn.Sequential(*layers)
    return init_weights(model, init) if init is not None else model


def cnn(in_channels: int, num_classes: int, *, channels: Sequence[int] = (16, 32), kernel_size: int = 3,
        hidden: int = 64, dim: int = 2, activation="relu", dropout: float = 0.0, norm: str | None = None,
        init: Callable[[torch.Tensor], object] | None = None) -> nn.Sequential:
    """A small convolutional net: [Conv → (Norm) → act → MaxPool(2)] per entry of ``channels``,
    then global average pooling → Linear(hidden) → act → (Dropout) → Linear(num_classes).

    ``dim=2`` for images ``(N, C, H, W)``, ``dim=1`` for sequences ``(N, C, L)`` such as
    MNIST-1D (give it ``x.unsqueeze(1)`` or use ``in_channels=1`` with an ``nn.Unflatten``).
    Global pooling makes the head independent of the input size.
    """
    if dim not in (1, 2):
        raise ValueError(f"dim must be 1 (sequences) or 2 (images), got {dim}")
    if in_channels < 1 or num_classes < 1 or not channels or any(c < 1 for c in channels):
        raise ValueError(f"channel counts must be positive: in={in_channels}, channels={list(channels)}, "
                         f"classes={num_classes}")
    _check_dropout(dropout)
    conv = nn.Conv1d if dim == 1 else nn.Conv2d
    pool = nn.MaxPool1d if dim == 1 else nn.MaxPool2d
    gap = nn.AdaptiveAvgPool1d(1) if dim == 1 else nn.AdaptiveAvgPool2d(1)
    layers: list[nn.Module] = []
    width = in_channels
    for c in channels:
        norm_layer = _norm(norm, c, dim=dim)
        layers.append(conv(width, c, kernel_size, padding=kernel_size // 2, bias=norm_layer is None))
        if norm_layer is not None:
            layers.append(norm_layer)
        layers += [make_activation(activation), pool(2)]
        width = c
    layers += [gap, nn.Flatten(), nn.Linear(width, hidden), make_activation(activation)]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, num_classes))
    model = nn.Sequential(*layers)
    return init_weights(model, init) if init is not None else model


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
