"""Data augmentation, input-noise injection and label smoothing.

Three ways to tell a network what should *not* matter, so it cannot overfit to it:

* **Augmentation.** Train on random label-preserving transforms ``x̃ = T(x)`` of each
  image (mirror, crop, rotation, shear, zoom, blur, brightness / saturation / hue): more
  "views" of the same object, drawn afresh every epoch. Built from
  ``torchvision.transforms.v2``, working on image tensors ``(C, H, W)`` or ``(N, C, H, W)``
  on any device.
* **Input noise.** ``x̃ = x + σ ε`` with ``ε ~ N(0, I)``, in training only. For a linear
  model under squared error it is L2 in disguise: ``E_ε[(wᵀx̃ − y)²] = (wᵀx − y)² + σ²‖w‖²``.
* **Label smoothing.** With ``k`` classes the one-hot target becomes ``1 − ε`` for the true
  class and ``ε / (k − 1)`` for each of the others, so the softmax is never pushed to 0 / 1.

A batch tensor and torchvision: a v2 transform called on ``(N, C, H, W)`` draws **one**
set of random parameters and applies it to every image of the batch. For per-image
randomness wrap it in :class:`PerSample` (a loop: general but slow), or use the vectorized
:class:`BatchRandomAffine` / :class:`BatchRandomFlip`, which draw parameters per image and
transform the whole batch at once (:class:`BatchRandomRoll` does the same for 1-D signals). :class:`AugmentedLoader` applies a
transform to every mini-batch of a :class:`~course_lib.data.DeviceLoader`, so augmented
training runs through the ordinary :func:`~course_lib.training.fit`.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.transforms import v2

from .data import DeviceLoader, Split

__all__ = [
    "lecture_transforms", "augmentation_pipeline", "PerSample", "BatchRandomFlip", "BatchRandomAffine", "BatchRandomRoll",
    "batch_affine", "AugmentedLoader", "GaussianNoise", "smooth_labels", "label_smoothing_cross_entropy",
    "LabelSmoothingLoss", "epsilon_to_pytorch", "pytorch_to_epsilon", "calibration_bins",
    "expected_calibration_error",
]


# --------------------------------------------------------------------------- checks
def _check_images(x, what: str = "images", batched: bool = True) -> None:
    """A float tensor of shape (N, C, H, W) (or (C, H, W) when ``batched`` is False)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    shapes = "(N, C, H, W)" if batched else "(C, H, W) or (N, C, H, W)"
    if x.ndim != 4 and (batched or x.ndim != 3):
        raise ValueError(f"{what} must be image tensors of shape {shapes}, got shape {tuple(x.shape)}; "
                         f"reshape flat inputs first, e.g. x.view(-1, 1, 8, 8) for the digits")
    if not torch.is_floating_point(x):
        raise TypeError(f"{what} must be a float tensor (values in [0, 1]), got {x.dtype}; convert with "
                        f"v2.ToDtype(torch.float32, scale=True)")


def _range(value, name: str, *, low: float = 0.0, high: float = math.inf, symmetric: bool = True
           ) -> tuple[float, float]:
    """``value`` as a (lo, hi) range: a number v means (−v, v) when ``symmetric``; a pair is kept."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        if not low <= v <= high:
            raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
        return (-v, v) if symmetric else (v, v)
    if isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, numbers.Real) for v in value):
        lo, hi = float(value[0]), float(value[1])
        if lo > hi:
            raise ValueError(f"{name} range must be (low, high) with low <= high, got {tuple(value)}")
        return lo, hi
    raise TypeError(f"{name} must be a number or a (low, high) pair, got {value!r}")


def _check_probability(p: float, name: str) -> float:
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


# --------------------------------------------------------------------------- the lecture's transforms
def lecture_transforms(size: int | tuple[int, int]) -> dict[str, Callable[[Tensor], Tensor]]:
    """One torchvision v2 transform per augmentation of the lecture, strong enough to see.

    Returns ``{name: transform}`` for ``original, mirror, rotate, crop, zoom, shear, blur,
    brightness, saturation, hue``; ``size = (H, W)`` is the output size of the crop. Each
    maps an image ``(C, H, W)`` (float in [0, 1]) to one of the same shape; call one twice
    for two different random versions.
    """
    if isinstance(size, int):
        size = (size, size)
    if (not isinstance(size, Sequence) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ValueError(f"size must be a positive int or an (H, W) pair of them, got {size!r}")
    kernel = 2 * (min(size) // 40) + 1  # about 5 % of the image
    return {
        "original": v2.Identity(),
        "mirror": v2.RandomHorizontalFlip(p=1.0),
        "rotate": v2.RandomRotation(degrees=30, interpolation=v2.InterpolationMode.BILINEAR),
        "crop": v2.RandomResizedCrop(tuple(size), scale=(0.25, 0.5)),
        "zoom": v2.RandomAffine(degrees=0, scale=(1.3, 1.6), interpolation=v2.InterpolationMode.BILINEAR),
        "shear": v2.RandomAffine(degrees=0, shear=(-30, 30), interpolation=v2.InterpolationMode.BILINEAR),
        "blur": v2.GaussianBlur(kernel_size=max(3, kernel), sigma=(0.3 * kernel, 0.4 * kernel)),
        "brightness": v2.ColorJitter(brightness=(0.4, 1.6)),
        "saturation": v2.ColorJitter(saturation=(0.0, 2.5)),
        "hue": v2.ColorJitter(hue=0.3),
    }


def augmentation_pipeline(*, flip: float = 0.0, rotate: float = 0.0, translate: float = 0.0, zoom: float = 0.0,
                          shear: float = 0.0, crop: float = 1.0, size: int | tuple[int, int] | None = None,
                          blur: float = 0.0, brightness: float = 0.0, saturation: float = 0.0, hue: float = 0.0
                          ) -> v2.Compose:
    """A ``v2.Compose`` of the lecture's random transforms; each argument left at 0 is skipped.

    flip        probability of a horizontal mirror
    rotate      angle drawn from U(−rotate, rotate) degrees
    translate   shift of up to this fraction of the width / height
    zoom        scale factor drawn from U(1 − zoom, 1 + zoom)
    shear       shear angle drawn from U(−shear, shear) degrees
    crop        a random crop of at least this fraction of the area, resized to ``size``
    blur        Gaussian blur with σ drawn from U(0.1, blur) pixels
    brightness, saturation   factor drawn from U(1 − b, 1 + b); hue: shift U(−h, h) of the colour circle

    With every argument at its default the pipeline is the identity.

    The lecture's example ``Compose([ColorJitter(hue=.05, saturation=.05), RandomHorizontalFlip(),
    RandomRotation(20)])`` is ``augmentation_pipeline(flip=0.5, rotate=20, saturation=0.05, hue=0.05)``.
    Geometric transforms come first, in one ``RandomAffine`` (one interpolation, less blur).
    Called on a batch ``(N, C, H, W)`` it draws one set of parameters for the whole batch: wrap it
    in :class:`PerSample` for per-image randomness.
    """
    flip = _check_probability(flip, "flip")
    checks = {"rotate": (rotate, 180.0), "translate": (translate, 1.0), "zoom": (zoom, 1.0 - 1e-6),
              "shear": (shear, 89.0), "blur": (blur, math.inf), "brightness": (brightness, 1.0),
              "saturation": (saturation, 1.0), "hue": (hue, 0.5)}
    for name, (value, high) in checks.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value <= high:
            raise ValueError(f"{name} must be a number in [0, {high}], got {value!r}")
    if not isinstance(crop, numbers.Real) or not 0.0 < crop <= 1.0:
        raise ValueError(f"crop must be the smallest kept area fraction in (0, 1], got {crop!r}")
    if crop < 1.0 and size is None:
        raise ValueError("a random crop needs the output size: pass size=(H, W)")
    steps: list[Callable] = []
    if crop < 1.0:
        steps.append(v2.RandomResizedCrop(size, scale=(float(crop), 1.0)))
    if flip > 0:
        steps.append(v2.RandomHorizontalFlip(p=flip))
    if rotate or translate or zoom or shear:
        steps.append(v2.RandomAffine(degrees=rotate, translate=(translate, translate) if translate else None,
                                     scale=(1 - zoom, 1 + zoom) if zoom else None, shear=shear or None,
                                     interpolation=v2.InterpolationMode.BILINEAR))
    if blur > 0:
        steps.append(v2.GaussianBlur(kernel_size=2 * math.ceil(2 * blur) + 1, sigma=(0.1, float(blur))))
    if brightness or saturation or hue:
        steps.append(v2.ColorJitter(brightness=brightness or None, saturation=saturation or None, hue=hue or None))
    return v2.Compose(steps or [v2.Identity()])


# --------------------------------------------------------------------------- per-image randomness
class PerSample(nn.Module):
    """Apply ``transform`` to every image of a batch separately: ``x̃_i = T_i(x_i)``, fresh T_i each.

    Input and output ``(N, C, H, W)``. A plain Python loop: right for any transform, but one
    call per image, so slow on small images and on a GPU; prefer :class:`BatchRandomAffine`
    and :class:`BatchRandomFlip` where they cover what you need.
    """

    def __init__(self, transform: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self.transform = transform

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x)
        return torch.stack([self.transform(image) for image in x])

    def extra_repr(self) -> str:
        return f"transform={self.transform!r}" if not isinstance(self.transform, nn.Module) else ""


class BatchRandomFlip(nn.Module):
    """Mirror each image of a batch with probability ``p``, independently per image.

    ``x̃_i = flip(x_i)`` if ``u_i < p`` else ``x_i``, with ``u_i ~ U(0, 1)``; ``(N, C, H, W)`` in and out.
    ``horizontal=True`` flips left-right (the last dimension), ``False`` top-bottom.
    """

    def __init__(self, p: float = 0.5, horizontal: bool = True) -> None:
        super().__init__()
        self.p = _check_probability(p, "flip probability p")
        self.horizontal = bool(horizontal)

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x)
        flip = torch.rand(x.shape[0], device=x.device) < self.p
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1 if self.horizontal else -2), x)

    def extra_repr(self) -> str:
        return f"p={self.p}, horizontal={self.horizontal}"


class BatchRandomRoll(nn.Module):
    """Shift each sequence of a batch circularly by its own random number of steps.

    ``x̃_i[t] = x_i[(t − s_i) mod L]`` with ``s_i`` uniform on ``{−max_shift, …, max_shift}``: the
    translation of a 1-D signal (MNIST-1D's own generator translates its signals this way).
    ``(N, L)`` or ``(N, C, L)`` in and out; per sample it equals ``torch.roll(x_i, s_i, dims=-1)``.
    """

    def __init__(self, max_shift: int) -> None:
        super().__init__()
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int (steps), got {max_shift!r}")
        self.max_shift = max_shift

    def make_params(self, x: Tensor) -> Tensor:
        """One shift per sequence, shape (N,), on the device of ``x``."""
        return torch.randint(-self.max_shift, self.max_shift + 1, (x.shape[0],), device=x.device)

    def forward(self, x: Tensor, shifts: Tensor | None = None) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim not in (2, 3):
            raise ValueError(f"BatchRandomRoll needs sequences of shape (N, L) or (N, C, L), got "
                             f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")
        s = self.make_params(x) if shifts is None else shifts.to(x.device).reshape(-1)
        length = x.shape[-1]
        index = (torch.arange(length, device=x.device) - s.view(-1, 1)) % length  # (N, L): source position
        index = index.view(x.shape[0], *([1] * (x.ndim - 2)), length).expand_as(x)
        return x.gather(-1, index)

    def extra_repr(self) -> str:
        return f"max_shift={self.max_shift}"


def batch_affine(x: Tensor, angle: Tensor, translate: Tensor, scale: Tensor, shear: Tensor,
                 interpolation: str = "bilinear", fill: float = 0.0) -> Tensor:
    """Affine-transform each image of a batch with its own parameters, as torchvision does.

    x          (N, C, H, W) float images
    angle      (N,) rotation in degrees (counter-clockwise on screen, like v2.functional.affine)
    translate  (N, 2) shift (tx, ty) in pixels
    scale      (N,) zoom factor
    shear      (N, 2) shear angles (sx, sy) in degrees

    The forward map about the image centre c is ``M = T(t) · C · R(a) S(s) Sh(sx, sy) · C⁻¹``;
    each output pixel p' reads the input at ``M⁻¹ p'`` (bilinear or nearest), and pixels that
    come from outside the image get ``fill`` (blended at the border). Per image this equals
    ``v2.functional.affine(x_i, angle_i, t_i, s_i, sh_i, interpolation, fill=fill)``, which is what
    ``v2.RandomAffine`` (default ``fill=0``) computes; ``v2.functional.affine`` with its default
    ``fill=None`` skips the border blending, so pass ``fill`` when comparing.
    """
    _check_images(x)
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    n, c, h, w = x.shape
    opts = {"device": x.device, "dtype": x.dtype}
    angle, scale = angle.to(**opts).reshape(n), scale.to(**opts).reshape(n)
    translate, shear = translate.to(**opts).reshape(n, 2), shear.to(**opts).reshape(n, 2)
    rot, sx, sy = torch.deg2rad(angle), torch.deg2rad(shear[:, 0]), torch.deg2rad(shear[:, 1])
    # rotation · shear block [[a, b], [c_, d]] (determinant 1), as in torchvision
    a = torch.cos(rot - sy) / torch.cos(sy)
    b = -(a * torch.tan(sx) + torch.sin(rot))
    c_ = torch.sin(rot - sy) / torch.cos(sy)
    d = torch.cos(rot) - c_ * torch.tan(sx)
    inv = torch.stack([torch.stack([d, -b], 1), torch.stack([-c_, a], 1)], 1) / scale.view(n, 1, 1)  # (N, 2, 2)
    shift = -(inv @ translate.unsqueeze(-1)).squeeze(-1)                                           # (N, 2)
    # output pixel centres relative to the image centre, then M⁻¹, then normalized to [−1, 1]
    xs = torch.linspace((1 - w) / 2, (w - 1) / 2, w, **opts)
    ys = torch.linspace((1 - h) / 2, (h - 1) / 2, h, **opts)
    pts = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).view(1, h * w, 2)                # (1, HW, 2)
    src = pts @ inv.transpose(1, 2) + shift.unsqueeze(1)                                          # (N, HW, 2)
    grid = (src / torch.tensor([w / 2, h / 2], **opts)).view(n, h, w, 2)
    mask = torch.ones(n, 1, h, w, **opts)
    out = F.grid_sample(torch.cat([x, mask], 1), grid, mode=interpolation, padding_mode="zeros",
                        align_corners=False)
    out, mask = out[:, :c], out[:, c:]
    if interpolation == "nearest":
        return torch.where(mask < 0.5, torch.full_like(out, fill), out)
    return (out - fill) * mask + fill


class BatchRandomAffine(nn.Module):
    """``v2.RandomAffine`` with its random parameters drawn per image instead of per batch.

    Parameters mean what they mean in torchvision: ``degrees`` d → angle ~ U(−d, d) (or a
    (lo, hi) pair); ``translate=(fx, fy)`` → shift of round(U(−fx·W, fx·W)) pixels (and the
    same for y); ``scale=(lo, hi)`` → zoom ~ U(lo, hi); ``shear`` s → x-shear ~ U(−s, s) degrees
    (a pair (lo, hi), or four numbers for x and y). ``(N, C, H, W)`` in and out, one
    ``grid_sample`` call for the whole batch, on the batch's device (see :func:`batch_affine`).
    """

    def __init__(self, degrees: float | Sequence[float] = 0.0, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: float | Sequence[float] | None = None,
                 interpolation: str = "bilinear", fill: float = 0.0) -> None:
        super().__init__()
        self.degrees = _range(degrees, "degrees", high=180.0)
        if translate is not None:
            if not isinstance(translate, Sequence) or len(translate) != 2 or not all(0 <= t <= 1 for t in translate):
                raise ValueError(f"translate must be a pair of fractions in [0, 1], got {translate!r}")
            translate = (float(translate[0]), float(translate[1]))
        self.translate = translate
        if scale is not None:
            lo, hi = _range(scale, "scale", symmetric=False)
            if lo <= 0:
                raise ValueError(f"scale factors must be positive, got {tuple(scale)}")
            scale = (lo, hi)
        self.scale = scale
        if shear is not None:
            if isinstance(shear, Sequence) and len(shear) == 4:
                shear = _range(shear[:2], "shear") + _range(shear[2:], "shear")
            else:
                shear = _range(shear, "shear", high=89.0)
            if any(abs(s) >= 90 for s in shear):
                raise ValueError(f"shear angles must lie strictly inside (−90, 90) degrees, got {shear}")
        self.shear = shear
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.interpolation, self.fill = interpolation, float(fill)

    def make_params(self, x: Tensor) -> dict[str, Tensor]:
        """Random parameters for each of the N images of ``x`` (tensors on its device)."""
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        dev = x.device

        def uniform(lo: float, hi: float, *shape: int) -> Tensor:
            return torch.rand(n, *shape, device=dev) * (hi - lo) + lo

        angle = uniform(*self.degrees)
        translate = torch.zeros(n, 2, device=dev)
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * w, self.translate[1] * h
            translate = torch.stack([uniform(-max_dx, max_dx), uniform(-max_dy, max_dy)], 1).round()
        scale = uniform(*self.scale) if self.scale is not None else torch.ones(n, device=dev)
        shear = torch.zeros(n, 2, device=dev)
        if self.shear is not None:
            shear[:, 0] = uniform(*self.shear[:2])
            if len(self.shear) == 4:
                shear[:, 1] = uniform(*self.shear[2:])
        return {"angle": angle, "translate": translate, "scale": scale, "shear": shear}

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x)
        return batch_affine(x, **self.make_params(x), interpolation=self.interpolation, fill=self.fill)

    def extra_repr(self) -> str:
        return (f"degrees={self.degrees}, translate={self.translate}, scale={self.scale}, shear={self.shear}, "
                f"interpolation={self.interpolation!r}")


class AugmentedLoader:
    """Mini-batches ``(T(x), y)``: a fresh random transform of each training batch, every epoch.

    ``data`` is a :class:`~course_lib.data.Split` or an ``(x, y)`` pair (batched on its device
    by a shuffled :class:`~course_lib.data.DeviceLoader` with ``batch_size`` and ``generator``),
    or any iterable of ``(x, y)`` batches. Pass it to ``fit`` as the training data::

        train = AugmentedLoader(data.train, BatchRandomAffine(degrees=10), batch_size=32)
        fit(model, train, data.val)

    ``transform`` maps a batch ``(N, ...)`` to a batch of the same shape: use a per-image
    transform (:class:`BatchRandomAffine`, :class:`BatchRandomFlip`, :class:`BatchRandomRoll`,
    :class:`PerSample` around a v2 transform, :class:`GaussianNoise`); a bare v2 transform would
    give every image of a batch the same random parameters. Labels are passed through unchanged, so the transform must
    preserve the class. The validation data stays un-augmented (pass it to ``fit`` as usual).
    """

    def __init__(self, data, transform: Callable[[Tensor], Tensor], *, batch_size: int = 64,
                 generator: torch.Generator | None = None) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable (a v2 transform or an nn.Module), got {type(transform).__name__}")
        if isinstance(data, Split) or (isinstance(data, (tuple, list)) and len(data) == 2
                                       and all(isinstance(t, Tensor) for t in data)):
            x, y = data
            data = DeviceLoader(x, y, batch_size=batch_size, shuffle=True, generator=generator)
        elif isinstance(data, Tensor) or not hasattr(data, "__iter__"):
            raise TypeError(f"data must be a Split, an (x, y) pair of tensors or an iterable of (x, y) batches, "
                            f"got {type(data).__name__}")
        self.batches: Iterable = data
        self.transform = transform

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for x, y in self.batches:
            with torch.no_grad():
                xt = self.transform(x)
            if not isinstance(xt, Tensor) or xt.shape != x.shape:
                raise ValueError(f"the transform must keep the batch shape {tuple(x.shape)}, got "
                                 f"{tuple(xt.shape) if isinstance(xt, Tensor) else type(xt).__name__}")
            yield xt, y

    def __repr__(self) -> str:
        return f"AugmentedLoader({len(self)} batches, transform={self.transform!r})"


# --------------------------------------------------------------------------- input noise
class GaussianNoise(nn.Module):
    """Input-noise injection: ``x̃ = x + σ ε``, ``ε ~ N(0, I)``, in training mode; identity in eval.

    Any float tensor ``(N, ...)`` in, same shape, dtype and device out. Put it first in a model
    (``nn.Sequential(GaussianNoise(0.1), net)``) so ``model.eval()`` switches it off, or use it as
    the transform of an :class:`AugmentedLoader`. The same draw as
    ``v2.GaussianNoise(mean=0, sigma=σ, clip=False)``.
    For a linear model and squared error the expected loss is the L2-penalized loss with λ = σ²:
    ``E[(wᵀ(x + σε) − y)²] = (wᵀx − y)² + σ²‖w‖²``.
    """

    def __init__(self, std: float = 0.1) -> None:
        super().__init__()
        if not isinstance(std, numbers.Real) or isinstance(std, bool) or not 0.0 <= std < math.inf:
            raise ValueError(f"noise std must be a finite number >= 0, got {std!r}")
        self.std = float(std)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or not torch.is_floating_point(x):
            raise TypeError(f"GaussianNoise needs a float tensor, got "
                            f"{x.dtype if isinstance(x, Tensor) else type(x).__name__}")
        if not self.training or self.std == 0:
            return x
        return x + self.std * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"std={self.std}"


# --------------------------------------------------------------------------- label smoothing
def _check_epsilon(eps: float) -> float:
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not 0.0 <= eps < 1.0:
        raise ValueError(f"label-smoothing epsilon must be in [0, 1), got {eps!r}")
    return float(eps)


def _check_labels(y: Tensor, num_classes: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"label smoothing needs num_classes >= 2 (ε is spread over k − 1 wrong classes), "
                         f"got {num_classes!r}")
    if not isinstance(y, Tensor):
        raise TypeError(f"labels must be a torch.Tensor of class indices, got {type(y).__name__}")
    if torch.is_floating_point(y) or torch.is_complex(y) or y.dtype == torch.bool:
        raise TypeError(f"labels must be integer class indices (e.g. torch.long), got {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1} for {num_classes} classes, "
                         f"got values from {int(y.min())} to {int(y.max())}")


def smooth_labels(y: Tensor, num_classes: int, eps: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """Smoothed one-hot targets, shape (N,) of labels → (N, k):

        q_ic = 1 − ε        if c = y_i
        q_ic = ε / (k − 1)  otherwise

    Each row sums to 1; ε = 0 gives the one-hot targets. On the labels' device.
    """
    eps = _check_epsilon(eps)
    _check_labels(y, num_classes)
    q = torch.full((y.shape[0], num_classes), eps / (num_classes - 1), dtype=dtype, device=y.device)
    return q.scatter_(1, y.unsqueeze(1), 1.0 - eps)


def epsilon_to_pytorch(eps: float, num_classes: int) -> float:
    """The ``label_smoothing`` α of ``nn.CrossEntropyLoss`` that gives the lecture's ε: α = ε k / (k − 1).

    PyTorch mixes the one-hot target with the uniform distribution, ``(1 − α)·onehot + α/k``:
    the true class gets 1 − α + α/k and every other class α/k. Matching α/k = ε/(k − 1) gives
    α = εk/(k − 1); PyTorch accepts α ≤ 1, i.e. ε ≤ (k − 1)/k (uniform targets).
    """
    eps = _check_epsilon(eps)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    alpha = eps * num_classes / (num_classes - 1)
    if alpha > 1.0 + 1e-12:
        raise ValueError(f"ε = {eps} puts more mass on each wrong class than on the true one; PyTorch's "
                         f"label_smoothing can only express ε <= (k − 1)/k = {(num_classes - 1) / num_classes:.4g}")
    return min(alpha, 1.0)


def pytorch_to_epsilon(alpha: float, num_classes: int) -> float:
    """The lecture's ε for PyTorch's ``label_smoothing=α``: ε = α (k − 1) / k (see :func:`epsilon_to_pytorch`)."""
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"PyTorch's label_smoothing must be in [0, 1], got {alpha!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
    return float(alpha) * (num_classes - 1) / num_classes


def label_smoothing_cross_entropy(logits: Tensor, y: Tensor, eps: float = 0.1, reduction: str = "mean") -> Tensor:
    """Cross-entropy against smoothed targets: ``J = −(1/N) Σ_i Σ_c q_ic log softmax(z_i)_c``.

    logits (N, k), labels y (N,) → a scalar (``reduction='mean'`` or ``'sum'``) or (N,) (``'none'``).
    Equals ``nn.CrossEntropyLoss(label_smoothing=epsilon_to_pytorch(eps, k))``.
    """
    if not isinstance(logits, Tensor) or logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, classes), got "
                         f"{tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if isinstance(y, Tensor) and y.ndim == 1 and y.shape[0] != logits.shape[0]:
        raise ValueError(f"got {logits.shape[0]} rows of logits but {y.shape[0]} labels")
    q = smooth_labels(y, logits.shape[1], eps, dtype=logits.dtype)
    per_sample = -(q * F.log_softmax(logits, dim=1)).sum(dim=1)
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


class LabelSmoothingLoss(nn.Module):
    """The loss of :func:`label_smoothing_cross_entropy` as a module (drop-in for ``nn.CrossEntropyLoss``).

    ``eps`` is the lecture's ε (wrong classes get ε/(k − 1)); PyTorch's own
    ``nn.CrossEntropyLoss(label_smoothing=α)`` is the same loss for α = εk/(k − 1). Give
    ``num_classes`` to have the number of logit columns checked.
    """

    def __init__(self, eps: float = 0.1, num_classes: int | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.eps = _check_epsilon(eps)
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 2):
            raise ValueError(f"num_classes must be an int >= 2 or None, got {num_classes!r}")
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.num_classes, self.reduction = num_classes, reduction

    def forward(self, logits: Tensor, y: Tensor) -> Tensor:
        if self.num_classes is not None and isinstance(logits, Tensor) and logits.ndim == 2 \
                and logits.shape[1] != self.num_classes:
            raise ValueError(f"expected logits for {self.num_classes} classes, got {logits.shape[1]} columns "
                             f"(shape {tuple(logits.shape)})")
        return label_smoothing_cross_entropy(logits, y, self.eps, self.reduction)

    def extra_repr(self) -> str:
        k = f", num_classes={self.num_classes}" if self.num_classes is not None else ""
        return f"eps={self.eps}{k}"


# --------------------------------------------------------------------------- calibration
def calibration_bins(probs: Tensor, y: Tensor, n_bins: int = 15) -> dict[str, Tensor]:
    """Reliability-diagram data: predictions binned by confidence ``max_c p_ic`` into
    ``n_bins`` equal bins ((0, 1/M], (1/M, 2/M], ...).

    probs (N, k) rows of probabilities, y (N,) labels → ``{"confidence", "accuracy", "count"}``,
    each (M,) (mean confidence, accuracy and number of predictions per bin; 0 for empty bins),
    and ``"edges"`` (M + 1,).
    """
    if not isinstance(probs, Tensor) or probs.ndim != 2 or not torch.is_floating_point(probs):
        raise ValueError(f"probs must be a float tensor of shape (N, classes), got "
                         f"{tuple(probs.shape) if isinstance(probs, Tensor) else type(probs).__name__}")
    if probs.numel() and (probs.min() < 0 or not torch.allclose(probs.sum(1), torch.ones_like(probs[:, 0]), atol=1e-3)):
        raise ValueError("probs rows must be probabilities (>= 0, summing to 1); pass logits.softmax(dim=1)")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    _check_labels(y, probs.shape[1])
    if y.shape[0] != probs.shape[0] or y.shape[0] == 0:
        raise ValueError(f"need as many labels as rows of probs (and at least one): {y.shape[0]} vs {probs.shape[0]}")
    conf, pred = probs.max(dim=1)
    correct = (pred == y).to(probs.dtype)
    edges = torch.linspace(0, 1, n_bins + 1, device=probs.device, dtype=probs.dtype)
    idx = torch.bucketize(conf, edges[1:-1])  # bin m holds conf in (edges[m], edges[m+1]]
    count = torch.zeros(n_bins, device=probs.device, dtype=probs.dtype).index_add_(0, idx, torch.ones_like(conf))
    conf_sum = torch.zeros_like(count).index_add_(0, idx, conf)
    acc_sum = torch.zeros_like(count).index_add_(0, idx, correct)
    safe = count.clamp_min(1)
    return {"confidence": conf_sum / safe, "accuracy": acc_sum / safe, "count": count, "edges": edges}


def expected_calibration_error(probs: Tensor, y: Tensor, n_bins: int = 15) -> float:
    """ECE = Σ_m (|B_m| / N) · |acc(B_m) − conf(B_m)|, over ``n_bins`` equal confidence bins.

    0 for a perfectly calibrated model (among predictions made with confidence 0.8, 80 % are
    right); an over-confident net has conf > acc in the top bins. probs (N, k), y (N,) → a float.
    """
    bins = calibration_bins(probs, y, n_bins)
    weights = bins["count"] / bins["count"].sum()
    return float((weights * (bins["accuracy"] - bins["confidence"]).abs()).sum())
