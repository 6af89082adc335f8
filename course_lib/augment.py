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

**Reproducible draws.** The random modules of this file (:class:`BatchRandomFlip`,
:class:`BatchRandomAffine`, :class:`BatchRandomRoll`, :class:`RandomGaussianBlur`,
:class:`GaussianNoise`) take ``generator=``, a ``torch.Generator``: the same seed gives the same
augmented batch, and PyTorch's global random state is left alone. The numbers are drawn on the
generator's device and moved to the data's, so a CPU generator works for data on the GPU (a
generator on the data's device saves the copy). Without a generator they use the global state,
like torchvision.

Calibration (``calibration_bins``, ``expected_calibration_error``) lives in
:mod:`course_lib.metrics`; importing it from here still works.
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from torchvision.transforms import v2

from . import _checks
from ._checks import describe, finite, integer, one_of, probability, real, tensor
from .data import DeviceLoader, Split
from .metrics import calibration_bins, expected_calibration_error  # noqa: F401  (moved; kept importable from here)

__all__ = [
    "lecture_transforms", "augmentation_pipeline", "RandomGaussianBlur", "PerSample", "BatchRandomFlip",
    "BatchRandomAffine", "BatchRandomRoll", "batch_affine", "AugmentedLoader", "GaussianNoise", "smooth_labels",
    "label_smoothing_cross_entropy", "LabelSmoothingLoss", "epsilon_to_pytorch", "pytorch_to_epsilon",
    "calibration_bins", "expected_calibration_error",
]

INTERPOLATIONS = ("bilinear", "nearest")
REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------- checks
def _check_images(x, name: str = "x", batched: bool = True) -> Tensor:
    """A float tensor of shape (N, C, H, W) (or (C, H, W) when ``batched`` is False)."""
    tensor(x, name)
    shapes = "(N, C, H, W)" if batched else "(C, H, W) or (N, C, H, W)"
    if x.ndim != 4 and (batched or x.ndim != 3):
        raise ValueError(f"{name} must be image tensors of shape {shapes}, got shape {tuple(x.shape)}; "
                         f"reshape flat inputs first, e.g. x.view(-1, 1, 8, 8) for the digits")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a float tensor (values in [0, 1]), got dtype {x.dtype}; convert with "
                        f"v2.ToDtype(torch.float32, scale=True)")
    return x


_check_generator = _checks.generator

def _draw(fn: Callable, generator: torch.Generator | None, device: torch.device, *args, **kwargs) -> Tensor:
    """``fn(*args, generator=generator)``, drawn on the generator's device (without one: on ``device``),
    then moved to ``device``."""
    where = device if generator is None else generator.device
    return fn(*args, generator=generator, device=where, **kwargs).to(device)


def _pair(value, name: str, *, low: float | None = None, high: float | None = None, open_ends: bool = False,
          ordered: bool = True) -> tuple[float, float]:
    """Two real numbers in [low, high] (strictly inside with ``open_ends``), ``low <= high`` when ``ordered``."""
    what = "a (low, high) pair" if ordered else "a pair"
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be {what} of numbers, got {describe(value)}")
    if len(value) != 2:
        raise ValueError(f"{name} must be {what} of numbers, got {len(value)} values {tuple(value)}")
    lo, hi = (real(v, f"{name}[{i}]", low=low, high=high, low_open=open_ends, high_open=open_ends)
              for i, v in enumerate(value))
    if ordered and lo > hi:
        raise ValueError(f"{name} must be a (low, high) pair with low <= high, got {tuple(value)}")
    return lo, hi


def _range(value, name: str, *, bound: float | None = None, open_bound: bool = False) -> tuple[float, float]:
    """``value`` as a (lo, hi) range: a number v >= 0 means (−v, v); a (low, high) pair is kept.

    Every number must lie within ``bound`` of 0 (strictly inside with ``open_bound``).
    """
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(f"{name} must be a number or a (low, high) pair, got {len(value)} values {tuple(value)}")
        return _pair(value, name, low=None if bound is None else -bound, high=bound, open_ends=open_bound)
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, Tensor)):
        raise TypeError(f"{name} must be a number or a (low, high) pair, got {describe(value)}")
    v = real(value, name, low=0.0, high=bound, high_open=open_bound)
    return -v, v


def _size(size, low: int = 1) -> tuple[int, int]:
    """An image size: an int or an (H, W) pair of ints, each >= ``low``."""
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if not isinstance(size, Sequence) or isinstance(size, str):
        raise TypeError(f"size must be an int or an (H, W) pair of ints, got {describe(size)}")
    if len(size) != 2:
        raise ValueError(f"size must be an int or an (H, W) pair of ints, got {len(size)} values {tuple(size)}")
    return tuple(integer(s, f"size[{i}]", low=low) for i, s in enumerate(size))


def _v2():
    """``torchvision.transforms.v2``, imported on first use: it takes seconds to import, and the
    batch augmenters below work without it."""
    from torchvision.transforms import v2
    return v2


def _interpolation(value) -> str:
    v2 = sys.modules.get("torchvision.transforms.v2")  # an InterpolationMode means it is imported
    if v2 is not None and isinstance(value, v2.InterpolationMode):  # v2.InterpolationMode.BILINEAR works too
        value = value.value
    return one_of(value, "interpolation", INTERPOLATIONS)


# --------------------------------------------------------------------------- the lecture's transforms
def lecture_transforms(size: int | tuple[int, int]) -> dict[str, Callable[[Tensor], Tensor]]:
    """One torchvision v2 transform per augmentation of the lecture, strong enough to see.

    Returns ``{name: transform}`` for ``original, mirror, rotate, crop, zoom, shear, blur,
    brightness, saturation, hue``; ``size = (H, W)`` (at least 2 × 2) is the size of the images
    and the output size of the crop. Each maps an image ``(C, H, W)`` (float in [0, 1]) to one of
    the same shape; call one twice for two different random versions.
    """
    size = _size(size, low=2)
    kernel = 2 * (min(size) // 40) + 1  # about 5 % of the image
    v2 = _v2()
    return {
        "original": v2.Identity(),
        "mirror": v2.RandomHorizontalFlip(p=1.0),
        "rotate": v2.RandomRotation(degrees=30, interpolation=v2.InterpolationMode.BILINEAR),
        "crop": v2.RandomResizedCrop(size, scale=(0.25, 0.5)),
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

    flip        probability of a horizontal mirror, in [0, 1]
    rotate      angle drawn from U(−rotate, rotate) degrees, rotate in [0, 180]
    translate   shift of up to this fraction of the width / height, in [0, 1]
    zoom        scale factor drawn from U(1 − zoom, 1 + zoom), zoom in [0, 1)
    shear       shear angle drawn from U(−shear, shear) degrees, shear in [0, 90)
    crop        a random crop of at least this fraction of the area, in (0, 1], resized to ``size``
    blur        Gaussian blur with σ drawn from U(min(0.1, blur), blur) pixels, blur >= 0
    brightness, saturation   factor drawn from U(1 − b, 1 + b), b in [0, 1]; hue: shift U(−h, h)
                of the colour circle, h in [0, 0.5]

    With every argument at its default the pipeline is the identity.

    The lecture's example ``Compose([ColorJitter(hue=.05, saturation=.05), RandomHorizontalFlip(),
    RandomRotation(20)])`` is ``augmentation_pipeline(flip=0.5, rotate=20, saturation=0.05, hue=0.05)``.
    Geometric transforms come first, in one ``RandomAffine`` (one interpolation, less blur).
    Called on a batch ``(N, C, H, W)`` it draws one set of parameters for the whole batch: wrap it
    in :class:`PerSample` for per-image randomness.
    """
    flip = probability(flip, "flip", include_one=True)
    rotate = real(rotate, "rotate", low=0.0, high=180.0)
    translate = real(translate, "translate", low=0.0, high=1.0)
    zoom = real(zoom, "zoom", low=0.0, high=1.0, high_open=True)
    shear = real(shear, "shear", low=0.0, high=90.0, high_open=True)
    crop = real(crop, "crop", low=0.0, high=1.0, low_open=True)
    blur = real(blur, "blur", low=0.0)
    brightness = real(brightness, "brightness", low=0.0, high=1.0)
    saturation = real(saturation, "saturation", low=0.0, high=1.0)
    hue = real(hue, "hue", low=0.0, high=0.5)
    if crop < 1.0 and size is None:
        raise ValueError(f"crop={crop:g} needs the output size of the random crop: pass size=(H, W)")
    if size is not None:
        size = _size(size)
    v2 = _v2()
    steps: list[Callable] = []
    if crop < 1.0:
        steps.append(v2.RandomResizedCrop(size, scale=(crop, 1.0)))
    if flip > 0:
        steps.append(v2.RandomHorizontalFlip(p=flip))
    if rotate or translate or zoom or shear:
        steps.append(v2.RandomAffine(degrees=rotate, translate=(translate, translate) if translate else None,
                                     scale=(1 - zoom, 1 + zoom) if zoom else None, shear=shear or None,
                                     interpolation=v2.InterpolationMode.BILINEAR))
    if blur > 0:
        steps.append(RandomGaussianBlur(sigma=(min(0.1, blur), blur)))
    if brightness or saturation or hue:
        steps.append(v2.ColorJitter(brightness=brightness or None, saturation=saturation or None, hue=hue or None))
    return v2.Compose(steps or [v2.Identity()])


class RandomGaussianBlur(nn.Module):
    """``v2.GaussianBlur`` that runs on images of every size: σ ~ U(σ_min, σ_max) pixels, one draw per call.

    Each output pixel is the average of its ``kernel_size × kernel_size`` neighbourhood weighted by

        G(u, v) ∝ exp(−(u² + v²) / (2σ²)),

    with reflected pixels beyond the border. ``kernel_size`` (odd) defaults to ``2⌈2σ_max⌉ + 1``
    (±2σ); a window wider than ``2·min(H, W) − 1`` is cut to that width, the widest the reflection
    allows, so a strong blur also runs on a small image. ``sigma``: a number (fixed) or a (min, max)
    pair, > 0; below σ = 0.02 pixel the neighbours' weights underflow to 0 even in float64 and the
    image is returned unchanged. ``(C, H, W)`` or ``(N, C, H, W)`` in, same shape out (one σ for a
    whole batch, as torchvision). With the same seed it draws the same σ as ``v2.GaussianBlur``.
    """

    def __init__(self, kernel_size: int | None = None, sigma: float | Sequence[float] = (0.1, 2.0), *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if isinstance(sigma, Sequence) and not isinstance(sigma, str):
            lo, hi = _pair(sigma, "sigma", low=0.0, open_ends=True)
        else:
            lo = hi = real(sigma, "sigma", low=0.0, low_open=True)
        self.sigma = (lo, hi)
        if kernel_size is None:
            kernel_size = 2 * math.ceil(2 * hi) + 1
        kernel_size = integer(kernel_size, "kernel_size", low=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (a pixel and its neighbours on both sides), got {kernel_size}")
        self.kernel_size = kernel_size
        self.generator = _check_generator(generator)

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "x", ndim=(3, 4))
        lo, hi = self.sigma
        g = self.generator
        sigma = torch.empty(1, device=None if g is None else g.device).uniform_(lo, hi, generator=g).item()
        k = min(self.kernel_size, 2 * min(x.shape[-2:]) - 1)
        if sigma < 0.02 or k == 1:
            return x
        return _v2().functional.gaussian_blur(x, [k, k], [sigma, sigma])

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, sigma={self.sigma}"


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
            raise TypeError(f"transform must be callable (a v2 transform or a function of one image), "
                            f"got {describe(transform)}")
        self.transform = transform

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x)
        return torch.stack([self.transform(image) for image in x]) if len(x) else x.clone()

    def extra_repr(self) -> str:
        return f"transform={self.transform!r}" if not isinstance(self.transform, nn.Module) else ""


class BatchRandomFlip(nn.Module):
    """Mirror each image of a batch with probability ``p``, independently per image.

    ``x̃_i = flip(x_i)`` if ``u_i < p`` else ``x_i``, with ``u_i ~ U(0, 1)``; ``(N, C, H, W)`` in and out.
    ``horizontal=True`` flips left-right (the last dimension), ``False`` top-bottom. ``generator``:
    a ``torch.Generator`` for reproducible draws (see the module's notes).
    """

    def __init__(self, p: float = 0.5, horizontal: bool = True, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = probability(p, "p", include_one=True, meaning="the probability of mirroring each image")
        if not isinstance(horizontal, bool):
            raise TypeError(f"horizontal must be True (left-right) or False (top-bottom), got {describe(horizontal)}")
        self.horizontal = horizontal
        self.generator = _check_generator(generator)

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x)
        flip = _draw(torch.rand, self.generator, x.device, x.shape[0]) < self.p
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1 if self.horizontal else -2), x)

    def extra_repr(self) -> str:
        return f"p={self.p}, horizontal={self.horizontal}"


class BatchRandomRoll(nn.Module):
    """Shift each sequence of a batch circularly by its own random number of steps.

    ``x̃_i[t] = x_i[(t − s_i) mod L]`` with ``s_i`` uniform on ``{−max_shift, …, max_shift}``: the
    translation of a 1-D signal (MNIST-1D's own generator translates its signals this way).
    ``(N, L)`` or ``(N, C, L)`` in and out; per sample it equals ``torch.roll(x_i, s_i, dims=-1)``.
    ``generator``: a ``torch.Generator`` for reproducible draws (see the module's notes).
    """

    def __init__(self, max_shift: int, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.max_shift = integer(max_shift, "max_shift", low=0)
        self.generator = _check_generator(generator)

    @staticmethod
    def _check(x) -> Tensor:
        tensor(x, "x")
        if x.ndim not in (2, 3):
            raise ValueError(f"x must be sequences of shape (N, L) or (N, C, L), got shape {tuple(x.shape)}")
        return x

    def make_params(self, x: Tensor) -> Tensor:
        """One shift per sequence, shape (N,), on the device of ``x``."""
        self._check(x)
        return _draw(torch.randint, self.generator, x.device, -self.max_shift, self.max_shift + 1, (x.shape[0],))

    def forward(self, x: Tensor, shifts: Tensor | None = None) -> Tensor:
        self._check(x)
        if shifts is None:
            s = self.make_params(x)
        else:
            tensor(shifts, "shifts", floating=False)
            if shifts.numel() != x.shape[0]:
                raise ValueError(f"shifts must hold one shift per sequence, {x.shape[0]} values, "
                                 f"got shape {tuple(shifts.shape)}")
            s = shifts.to(x.device).reshape(-1)
        length = x.shape[-1]
        if x.numel() == 0:
            return x.clone()
        index = (torch.arange(length, device=x.device) - s.view(-1, 1)) % length  # (N, L): source position
        index = index.view(x.shape[0], *([1] * (x.ndim - 2)), length).expand_as(x)
        return x.gather(-1, index)

    def extra_repr(self) -> str:
        return f"max_shift={self.max_shift}"


def _per_image(value, name: str, n: int, k: int, opts: dict) -> Tensor:
    """``k`` numbers per image as a float tensor of shape (n,) or (n, k), on the images' device."""
    tensor(value, name)
    if value.numel() != n * k or value.dtype == torch.bool or value.is_complex():
        shape = f"({n},)" if k == 1 else f"({n}, {k})"
        raise ValueError(f"{name} must hold {k} real number{'s' if k > 1 else ''} per image, shape {shape}, "
                         f"got {describe(value)}")
    value = value.to(**opts).reshape((n,) if k == 1 else (n, k))
    return finite(value, name)


def batch_affine(x: Tensor, angle: Tensor, translate: Tensor, scale: Tensor, shear: Tensor,
                 interpolation: str = "bilinear", fill: float = 0.0) -> Tensor:
    """Affine-transform each image of a batch with its own parameters, as torchvision does.

    x          (N, C, H, W) float images
    angle      (N,) rotation in degrees (counter-clockwise on screen, like v2.functional.affine)
    translate  (N, 2) shift (tx, ty) in pixels
    scale      (N,) zoom factor, > 0
    shear      (N, 2) shear angles (sx, sy) in degrees, inside (−90, 90)

    The forward map about the image centre c is ``M = T(t) · C · R(a) S(s) Sh(sx, sy) · C⁻¹``;
    each output pixel p' reads the input at ``M⁻¹ p'`` (bilinear or nearest), and pixels that
    come from outside the image get ``fill`` (blended at the border). Per image this equals
    ``v2.functional.affine(x_i, angle_i, t_i, s_i, sh_i, interpolation, fill=fill)``, which is what
    ``v2.RandomAffine`` (default ``fill=0``) computes; ``v2.functional.affine`` with its default
    ``fill=None`` skips the border blending, so pass ``fill`` when comparing.
    """
    _check_images(x)
    interpolation = _interpolation(interpolation)
    fill = real(fill, "fill")
    n = x.shape[0]
    opts = {"device": x.device, "dtype": x.dtype}
    angle, scale = _per_image(angle, "angle", n, 1, opts), _per_image(scale, "scale", n, 1, opts)
    translate, shear = _per_image(translate, "translate", n, 2, opts), _per_image(shear, "shear", n, 2, opts)
    if bool((scale <= 0).any()):
        raise ValueError(f"scale must hold zoom factors > 0, got min {scale.min().item():g}")
    if bool((shear.abs() >= 90).any()):
        raise ValueError(f"shear must hold angles inside (−90, 90) degrees, got {shear.abs().max().item():g}")
    return _batch_affine(x, angle, translate, scale, shear, interpolation, fill)


def _batch_affine(x: Tensor, angle: Tensor, translate: Tensor, scale: Tensor, shear: Tensor,
                  interpolation: str, fill: float) -> Tensor:
    """:func:`batch_affine` on checked arguments: angle, scale (N,), translate, shear (N, 2) on x's device and dtype."""
    n, c, h, w = x.shape
    opts = {"device": x.device, "dtype": x.dtype}
    angle, scale = angle.to(**opts), scale.to(**opts)
    translate, shear = translate.to(**opts), shear.to(**opts)
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

    Parameters mean what they mean in torchvision: ``degrees`` d in [0, 180] → angle ~ U(−d, d)
    (or a (lo, hi) pair); ``translate=(fx, fy)``, fractions in [0, 1] → shift of round(U(−fx·W, fx·W))
    pixels (and the same for y); ``scale=(lo, hi)``, 0 < lo <= hi → zoom ~ U(lo, hi); ``shear`` s in
    [0, 90) → x-shear ~ U(−s, s) degrees (a pair (lo, hi), or four numbers for x and y, all inside
    (−90, 90)). ``(N, C, H, W)`` in and out, one ``grid_sample`` call for the whole batch, on the
    batch's device (see :func:`batch_affine`). ``generator``: a ``torch.Generator`` for reproducible
    draws (see the module's notes).
    """

    def __init__(self, degrees: float | Sequence[float] = 0.0, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: float | Sequence[float] | None = None,
                 interpolation: str = "bilinear", fill: float = 0.0, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.degrees = _range(degrees, "degrees", bound=180.0)
        if translate is not None:
            translate = _pair(translate, "translate", low=0.0, high=1.0, ordered=False)
        self.translate = translate
        if scale is not None:
            scale = _pair(scale, "scale", low=0.0, open_ends=True)
        self.scale = scale
        if isinstance(shear, Sequence) and not isinstance(shear, str) and len(shear) != 2:
            if len(shear) != 4:
                raise ValueError(f"shear must be a number, a (low, high) pair or four numbers (x then y), "
                                 f"got {len(shear)} values {tuple(shear)}")
            shear = tuple(real(s, f"shear[{i}]", low=-90.0, high=90.0, low_open=True, high_open=True)
                          for i, s in enumerate(shear))
            if shear[0] > shear[1] or shear[2] > shear[3]:
                raise ValueError(f"shear must be (x_low, x_high, y_low, y_high) with low <= high, got {shear}")
        elif shear is not None:
            shear = _range(shear, "shear", bound=90.0, open_bound=True)
        self.shear = shear
        self.interpolation, self.fill = _interpolation(interpolation), real(fill, "fill")
        self.generator = _check_generator(generator)

    def make_params(self, x: Tensor) -> dict[str, Tensor]:
        """Random parameters for each of the N images of ``x`` (tensors on its device)."""
        _check_images(x)
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        dev = x.device

        def uniform(lo: float, hi: float) -> Tensor:
            return _draw(torch.rand, self.generator, dev, n) * (hi - lo) + lo

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
        return _batch_affine(x, **self.make_params(x), interpolation=self.interpolation, fill=self.fill)

    def extra_repr(self) -> str:
        return (f"degrees={self.degrees}, translate={self.translate}, scale={self.scale}, shear={self.shear}, "
                f"interpolation={self.interpolation!r}")


class AugmentedLoader:
    """Mini-batches ``(T(x), y)``: a fresh random transform of each training batch, every epoch.

    ``data`` is a :class:`~course_lib.data.Split` or an ``(x, y)`` pair (batched on its device
    by a shuffled :class:`~course_lib.data.DeviceLoader` with ``batch_size`` and ``generator``, a
    CPU ``torch.Generator`` that draws the order of the examples), or any iterable of ``(x, y)`` batches (which brings
    its own order: ``generator`` must then be left out). Pass it to ``fit`` as the training data::

        train = AugmentedLoader(data.train, BatchRandomAffine(degrees=10), batch_size=32)
        fit(model, train, data.val)

    ``transform`` maps a batch ``(N, ...)`` to a batch of the same shape: use a per-image
    transform (:class:`BatchRandomAffine`, :class:`BatchRandomFlip`, :class:`BatchRandomRoll`,
    :class:`PerSample` around a v2 transform, :class:`GaussianNoise`); a bare v2 transform would
    give every image of a batch the same random parameters. Labels are passed through unchanged, so the transform must
    preserve the class. The validation data stays un-augmented (pass it to ``fit`` as usual).
    For a run that repeats exactly, seed both the order and the transform::

        AugmentedLoader(data.train, BatchRandomFlip(generator=torch.Generator().manual_seed(1)),
                        generator=torch.Generator().manual_seed(0))
    """

    def __init__(self, data, transform: Callable[[Tensor], Tensor], *, batch_size: int = 64,
                 generator: torch.Generator | None = None) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable (a v2 transform or an nn.Module), got {describe(transform)}")
        batch_size = integer(batch_size, "batch_size", low=1)
        generator = _check_generator(generator)
        if isinstance(data, Split) or (isinstance(data, (tuple, list)) and len(data) == 2
                                       and all(isinstance(t, Tensor) for t in data)):
            x, y = data
            data = DeviceLoader(x, y, batch_size=batch_size, shuffle=True, generator=generator)
        elif isinstance(data, Tensor) or not hasattr(data, "__iter__"):
            raise TypeError(f"data must be a Split, an (x, y) pair of tensors or an iterable of (x, y) batches, "
                            f"got {describe(data)}")
        elif generator is not None:
            raise ValueError(f"generator shuffles a Split or an (x, y) pair; data is a {type(data).__name__}, an "
                             f"iterable of batches with its own order: leave generator out (or pass the tensors)")
        self.batches: Iterable = data
        self.transform = transform
        self.generator = generator

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for x, y in self.batches:
            with torch.no_grad():
                xt = self.transform(x)
            if not isinstance(xt, Tensor) or xt.shape != x.shape:
                raise ValueError(f"the transform must keep the batch shape {tuple(x.shape)}, got "
                                 f"{tuple(xt.shape) if isinstance(xt, Tensor) else describe(xt)}")
            yield xt, y

    def __repr__(self) -> str:
        return f"AugmentedLoader({len(self)} batches, transform={self.transform!r})"


# --------------------------------------------------------------------------- input noise
class GaussianNoise(nn.Module):
    """Input-noise injection: ``x̃ = x + σ ε``, ``ε ~ N(0, I)``, in training mode; identity in eval.

    Any float tensor ``(N, ...)`` in, same shape, dtype and device out. Put it first in a model
    (``nn.Sequential(GaussianNoise(0.1), net)``) so ``model.eval()`` switches it off, or use it as
    the transform of an :class:`AugmentedLoader`. Without a ``generator`` it is the same draw as
    ``v2.GaussianNoise(mean=0, sigma=σ, clip=False)``; with one, ε comes from the generator (see
    the module's notes). For a linear model and squared error the expected loss is the
    L2-penalized loss with λ = σ²: ``E[(wᵀ(x + σε) − y)²] = (wᵀx − y)² + σ²‖w‖²``.
    """

    def __init__(self, std: float = 0.1, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.std = real(std, "std", low=0.0)
        self.generator = _check_generator(generator)

    def forward(self, x: Tensor) -> Tensor:
        tensor(x, "x", floating=True)
        if not self.training or self.std == 0:
            return x
        if self.generator is None:
            return x + self.std * torch.randn_like(x)
        return x + self.std * _draw(torch.randn, self.generator, x.device, x.shape, dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"std={self.std}"


# --------------------------------------------------------------------------- label smoothing
def _check_epsilon(eps) -> float:
    return probability(eps, "eps", meaning="ε is the probability mass moved from the true class to the others")


def _check_classes(num_classes) -> int:
    return integer(num_classes, "num_classes", low=2)


def _check_labels(y, num_classes: int, name: str = "y") -> Tensor:
    """Class indices: an integer tensor of shape (N,) with values in 0 .. num_classes − 1."""
    tensor(y, name, floating=False)
    if y.ndim != 1:
        raise ValueError(f"{name} must be class labels of shape (N,), got shape {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1} for {num_classes} classes, "
                         f"got values from {int(y.min())} to {int(y.max())}")
    return y


def smooth_labels(y: Tensor, num_classes: int, eps: float, dtype: torch.dtype = torch.float32) -> Tensor:
    """Smoothed one-hot targets, shape (N,) of labels → (N, k):

        q_ic = 1 − ε        if c = y_i
        q_ic = ε / (k − 1)  otherwise

    Each row sums to 1; ε = 0 gives the one-hot targets. ``eps`` in [0, 1), ``num_classes`` k >= 2.
    On the labels' device.
    """
    eps = _check_epsilon(eps)
    num_classes = _check_classes(num_classes)
    _check_labels(y, num_classes)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype (e.g. torch.float32), got {describe(dtype)}")
    q = torch.full((y.shape[0], num_classes), eps / (num_classes - 1), dtype=dtype, device=y.device)
    return q.scatter_(1, y.unsqueeze(1), 1.0 - eps)


def epsilon_to_pytorch(eps: float, num_classes: int) -> float:
    """The ``label_smoothing`` α of ``nn.CrossEntropyLoss`` that gives the lecture's ε: α = ε k / (k − 1).

    PyTorch mixes the one-hot target with the uniform distribution, ``(1 − α)·onehot + α/k``:
    the true class gets 1 − α + α/k and every other class α/k. Matching α/k = ε/(k − 1) gives
    α = εk/(k − 1); PyTorch accepts α ≤ 1, i.e. ε ≤ (k − 1)/k (uniform targets).
    """
    eps = _check_epsilon(eps)
    num_classes = _check_classes(num_classes)
    alpha = eps * num_classes / (num_classes - 1)
    if alpha > 1.0 + 1e-12:
        raise ValueError(f"eps = {eps} puts more mass on each wrong class than on the true one; PyTorch's "
                         f"label_smoothing can only express ε <= (k − 1)/k = {(num_classes - 1) / num_classes:.4g}")
    return min(alpha, 1.0)


def pytorch_to_epsilon(alpha: float, num_classes: int) -> float:
    """The lecture's ε for PyTorch's ``label_smoothing=α``: ε = α (k − 1) / k (see :func:`epsilon_to_pytorch`)."""
    alpha = probability(alpha, "alpha", include_one=True, meaning="PyTorch's label_smoothing")
    num_classes = _check_classes(num_classes)
    return alpha * (num_classes - 1) / num_classes


def _check_logits(logits) -> Tensor:
    tensor(logits, "logits", floating=True)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, classes), got shape {tuple(logits.shape)}")
    return logits


def label_smoothing_cross_entropy(logits: Tensor, y: Tensor, eps: float = 0.1, reduction: str = "mean") -> Tensor:
    """Cross-entropy against smoothed targets: ``J = −(1/N) Σ_i Σ_c q_ic log softmax(z_i)_c``.

    logits (N, k), labels y (N,) → a scalar (``reduction='mean'`` or ``'sum'``) or (N,) (``'none'``).
    Equals ``nn.CrossEntropyLoss(label_smoothing=epsilon_to_pytorch(eps, k))``.
    """
    _check_logits(logits)
    reduction = one_of(reduction, "reduction", REDUCTIONS)
    _check_epsilon(eps)
    if logits.shape[1] < 2:
        raise ValueError(f"label smoothing needs logits for at least 2 classes (ε is spread over the k − 1 wrong "
                         f"ones), got shape {tuple(logits.shape)}")
    _check_labels(y, logits.shape[1])
    if y.shape[0] != logits.shape[0]:
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
        self.num_classes = None if num_classes is None else _check_classes(num_classes)
        self.reduction = one_of(reduction, "reduction", REDUCTIONS)

    def forward(self, logits: Tensor, y: Tensor) -> Tensor:
        _check_logits(logits)
        if self.num_classes is not None and logits.shape[1] != self.num_classes:
            raise ValueError(f"expected logits for {self.num_classes} classes, got {logits.shape[1]} columns "
                             f"(shape {tuple(logits.shape)})")
        return label_smoothing_cross_entropy(logits, y, self.eps, self.reduction)

    def extra_repr(self) -> str:
        k = f", num_classes={self.num_classes}" if self.num_classes is not None else ""
        return f"eps={self.eps}{k}"
