"""Two-dimensional loss landscapes for watching optimizers move: valleys, saddles, bananas, several minima.

A real network has millions of weights; these functions have two, w = (w₁, w₂), so the path of an
optimizer can be drawn over the contour lines of the loss. Each shows one of the difficulties of
gradient descent in the "How to Train ConvNets" deck: a large condition number of the Hessian makes
a long narrow valley; at local minima and saddle points the gradient is zero and the updates stop.

======================  =================================================  ==================================
function                f(w₁, w₂)                                          what it shows
======================  =================================================  ==================================
:func:`narrow_valley`   ½ wᵀ A w,  A = R diag(λ_min, λ_max) Rᵀ             ill-conditioning (κ = λ_max/λ_min)
:func:`saddle`          w₁² − w₂²                                          zero gradient, yet no minimum
:func:`rosenbrock`      (a − w₁)² + b (w₂ − w₁²)²                          a curved, flat-bottomed valley
:func:`himmelblau`      (w₁² + w₂ − 11)² + (w₁ + w₂² − 7)²                 four minima: the start decides
:func:`six_hump_camel`  (4 − 2.1 w₁² + w₁⁴/3) w₁² + w₁w₂ + (4w₂² − 4) w₂²  six minima of different heights
======================  =================================================  ==================================

Each is a :class:`Landscape`: call it on a tensor of shape ``(..., 2)`` to get the losses ``(...)``;
it knows its minima (``minima``, ``min_values``), its saddle points, its analytic gradient, a box
to draw (``xlim``, ``ylim``) and a suggested start.

:func:`trajectory` runs any ``torch.optim``-style optimizer on a landscape and records the path,
the loop of the lecture with a two-number model::

    w = nn.Parameter(start)                 # the "weights"
    opt = optimizer([w], lr=...)
    for t in range(steps):
        opt.zero_grad(); f(w).backward(); opt.step()

:func:`plot_trajectories` draws paths over the contours, :func:`plot_side_by_side` puts a few such
panels in one figure, and :func:`animate_trajectories` / :func:`trajectory_animation_html` make
an animation for the notebook (see there for its size).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import torch
from torch import Tensor, nn

from ._checks import color as _color, describe, integer, real, tensor

__all__ = ["Landscape", "narrow_valley", "saddle", "rosenbrock", "himmelblau", "six_hump_camel", "Trajectory",
           "trajectory", "run_optimizers", "plot_trajectories", "plot_side_by_side", "animate_trajectories",
           "trajectory_animation_html"]


# --------------------------------------------------------------------------- landscapes
def _points(w: Any, name: str = "w") -> Tensor:
    """A floating tensor whose last dimension holds the two coordinates (w₁, w₂)."""
    tensor(w, name, floating=True)
    if w.ndim == 0 or w.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2), the two coordinates (w1, w2) in the last dimension; "
                         f"got shape {tuple(w.shape)}")
    return w


def _xy(w: Tensor) -> tuple[Tensor, Tensor]:
    return w[..., 0], w[..., 1]


def _stack_grad(g1: Tensor, g2: Tensor) -> Tensor:
    return torch.stack([g1, g2], dim=-1)


class Landscape:
    """A loss f: ℝ² → ℝ for optimizer demonstrations. ``f(w)``: ``w`` of shape ``(..., 2)`` → ``(...)``.

    ``minima``: ``(k, 2)`` float64 tensor of the known local minima (``min_values``: their losses),
    ``saddles``: ``(m, 2)`` saddle points, ``gradient(w)``: the analytic gradient ``(..., 2)``,
    ``xlim``/``ylim``: the box to draw, ``start``: a start point that shows the difficulty.
    ``formula`` is the LaTeX of f (for titles).
    """

    def __init__(self, name: str, formula: str, fn: Callable[[Tensor], Tensor],
                 gradient: Callable[[Tensor], Tensor] | None, *, minima: Sequence[Sequence[float]] = (),
                 saddles: Sequence[Sequence[float]] = (), xlim: tuple[float, float], ylim: tuple[float, float],
                 start: tuple[float, float], **extra: Any) -> None:
        self.name, self.formula = name, formula
        self._fn, self._gradient = fn, gradient
        self.minima = torch.tensor(minima, dtype=torch.float64).reshape(-1, 2)
        self.saddles = torch.tensor(saddles, dtype=torch.float64).reshape(-1, 2)
        self.min_values = fn(self.minima) if len(self.minima) else torch.empty(0, dtype=torch.float64)
        self.xlim, self.ylim, self.start = tuple(xlim), tuple(ylim), tuple(start)
        for key, value in extra.items():
            setattr(self, key, value)

    def __call__(self, w: Tensor) -> Tensor:
        return self._fn(_points(w))

    def gradient(self, w: Tensor) -> Tensor:
        """∇f(w), shape ``(..., 2)``: the formula written out (autograd where none is written)."""
        w = _points(w)
        if self._gradient is not None:
            return self._gradient(w)
        with torch.enable_grad():
            v = w.detach().requires_grad_(True)
            return torch.autograd.grad(self._fn(v).sum(), v)[0]

    def __repr__(self) -> str:
        return f"Landscape({self.name}: f(w) = {self.formula}, {len(self.minima)} minima)"


def narrow_valley(condition: float = 20.0, angle: float = 30.0, scale: float = 1.0) -> Landscape:
    """A long, narrow valley: the quadratic f(w) = ½ wᵀ A w with condition number κ = ``condition``.

        A = R(θ) diag(λ_min, λ_max) R(θ)ᵀ,    λ_max = ``scale``,  λ_min = scale / κ,

    R(θ) the rotation by ``angle`` degrees: the valley floor runs along (cos θ, sin θ), where the
    curvature is λ_min; across it the curvature is λ_max. Gradient ∇f = A w, minimum 0 at the origin.
    Gradient descent is stable for lr < 2 / λ_max. Along the floor each step shrinks the distance
    by 1 − lr·λ_min, so one e-fold of progress there takes about κ steps at lr = 1/λ_max and about
    κ/2 near the best rate 2/(λ_min + λ_max): the larger κ, the worse. ``hessian`` holds A (float64).
    """
    kappa = real(condition, "condition", low=1.0)
    theta = math.radians(real(angle, "angle"))
    scale = real(scale, "scale", low=0.0, low_open=True)
    c, s = math.cos(theta), math.sin(theta)
    rotation = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    hessian = rotation @ torch.diag(torch.tensor([scale / kappa, scale], dtype=torch.float64)) @ rotation.T

    def f(w: Tensor) -> Tensor:
        a = hessian.to(w)
        return 0.5 * ((w @ a) * w).sum(-1)

    def grad(w: Tensor) -> Tensor:
        return w @ hessian.to(w)  # A is symmetric: (A w)ᵀ = wᵀ A

    start = (rotation @ torch.tensor([-4.0, 1.5], dtype=torch.float64)).tolist()  # far along, a little across
    return Landscape(f"narrow valley (κ = {kappa:g})", r"\frac{1}{2} w^\top A w", f, grad, minima=[(0.0, 0.0)],
                     xlim=(-5.0, 5.0), ylim=(-5.0, 5.0), start=tuple(start), hessian=hessian, condition=kappa,
                     angle=math.degrees(theta))


def saddle() -> Landscape:
    """A saddle point at the origin: f(w) = w₁² − w₂², ∇f = (2w₁, −2w₂), Hessian diag(2, −2).

    The gradient is zero at (0, 0), which is a minimum along w₁ and a maximum along w₂. Started on
    (or next to) the w₁ axis, gradient descent slides to the saddle and lingers there, since the
    push along w₂ grows only as (1 + 2·lr)^t. f is unbounded below: there is no minimum.
    """
    def f(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return x**2 - y**2

    def grad(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return _stack_grad(2 * x, -2 * y)

    return Landscape("saddle point", r"w_1^2 - w_2^2", f, grad, saddles=[(0.0, 0.0)], xlim=(-2.0, 2.0),
                     ylim=(-2.0, 2.0), start=(-1.8, 1e-3))


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """Rosenbrock's banana: f(w) = (a − w₁)² + b (w₂ − w₁²)², minimum 0 at (a, a²).

    ∇f = (−2(a − w₁) − 4b w₁ (w₂ − w₁²),  2b (w₂ − w₁²)). The valley w₂ ≈ w₁² is easy to reach
    and slow to follow: steep walls (curvature ≈ 2b across) and an almost flat, curved floor.
    """
    a = real(a, "a")
    b = real(b, "b", low=0.0, low_open=True)

    def f(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return _stack_grad(-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2))

    return Landscape("Rosenbrock", rf"({a:g} - w_1)^2 + {b:g}\,(w_2 - w_1^2)^2", f, grad, minima=[(a, a * a)],
                     xlim=(a - 3.0, a + 1.0), ylim=(a * a - 2.0, a * a + 2.0), start=(-1.2, 1.0))


def himmelblau() -> Landscape:
    """Himmelblau's function: f(w) = (w₁² + w₂ − 11)² + (w₁ + w₂² − 7)², four minima, all with f = 0.

    ∇f = (4w₁(w₁² + w₂ − 11) + 2(w₁ + w₂² − 7),  2(w₁² + w₂ − 11) + 4w₂(w₁ + w₂² − 7)).
    Which minimum an optimizer reaches depends on where it starts. The minima: (3, 2) exactly; the other three
    to 9 decimals (found with Newton's method).
    """
    def f(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def grad(w: Tensor) -> Tensor:
        x, y = _xy(w)
        u, v = x**2 + y - 11, x + y**2 - 7
        return _stack_grad(4 * x * u + 2 * v, 2 * u + 4 * y * v)

    minima = [(3.0, 2.0), (-2.805118087, 3.131312518), (-3.779310253, -3.283185991), (3.584428340, -1.848126527)]
    return Landscape("Himmelblau", r"(w_1^2 + w_2 - 11)^2 + (w_1 + w_2^2 - 7)^2", f, grad, minima=minima,
                     xlim=(-5.0, 5.0), ylim=(-5.0, 5.0), start=(0.0, 0.0))


def six_hump_camel() -> Landscape:
    """The six-hump camel: f(w) = (4 − 2.1w₁² + w₁⁴/3) w₁² + w₁w₂ + (4w₂² − 4) w₂², six minima.

    Two global minima f ≈ −1.0316 at ±(0.0898, −0.7127), two at f ≈ −0.2155 and two at f ≈ 2.1043:
    gradient descent stops in whichever basin it starts in, a worse one included. Minima to 9
    decimals (Newton's method); ∇f = (8w₁ − 8.4w₁³ + 2w₁⁵ + w₂,  w₁ − 8w₂ + 16w₂³).
    """
    def f(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2

    def grad(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return _stack_grad(8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3)

    pts = [(0.089842013, -0.712656403), (-1.703606715, 0.796083569), (1.607104753, 0.568651455)]
    minima = [p for x, y in pts for p in ((x, y), (-x, -y))]
    return Landscape("six-hump camel", r"(4 - 2.1 w_1^2 + w_1^4/3)\,w_1^2 + w_1 w_2 + (4 w_2^2 - 4)\,w_2^2", f, grad,
                     minima=minima, xlim=(-2.2, 2.2), ylim=(-1.2, 1.2), start=(-1.9, 1.1))


# --------------------------------------------------------------------------- running an optimizer
class Trajectory(NamedTuple):
    """The path of an optimizer: ``path`` ``(steps + 1, 2)`` (row 0 the start) and ``losses`` ``(steps + 1,)``."""

    path: Tensor
    losses: Tensor


def _start(start: Any) -> Tensor:
    if isinstance(start, Tensor):
        tensor(start, "start", floating=True)
        if tuple(start.shape) != (2,):
            raise ValueError(f"start must have shape (2,), the point (w1, w2); got shape {tuple(start.shape)}")
        return start.detach().clone()
    if isinstance(start, (str, bytes)) or not isinstance(start, Sequence) or len(start) != 2:
        raise TypeError(f"start must be a point (w1, w2): a tensor of shape (2,) or two numbers, got {describe(start)}")
    return torch.tensor([real(v, f"start[{i}]") for i, v in enumerate(start)], dtype=torch.float64)


def trajectory(fn: Callable[[Tensor], Tensor], optimizer: Callable[..., torch.optim.Optimizer], start: Any,
               steps: int, **kwargs: Any) -> Trajectory:
    """Run an optimizer on ``fn`` from ``start`` for ``steps`` steps; return the :class:`Trajectory`.

    ``optimizer``: a ``torch.optim.Optimizer`` class or any factory ``(params, **kwargs) -> Optimizer``
    (``torch.optim.SGD``, ``course_lib``'s own, ``functools.partial(...)``); ``kwargs`` go to it
    (``lr=0.1, momentum=0.9``). ``start``: a tensor of shape ``(2,)`` (its dtype and device are used)
    or two numbers (float64 on the CPU). Each step is the training loop on the parameter w:

        loss_t = f(w_t);   ∇f(w_t) by backward();   w_{t+1} = the optimizer's update

    ``path[t]`` is w_t and ``losses[t]`` is f(w_t), for t = 0 … steps. If the loss becomes NaN or
    infinite (the optimizer diverged), the run stops and the remaining rows are NaN.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function of a (..., 2) tensor, such as narrow_valley(), got {describe(fn)}")
    if not callable(optimizer) or isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be an optimizer class or factory (params, **kwargs) -> Optimizer, such as "
                        f"torch.optim.SGD, got {describe(optimizer)}")
    steps = integer(steps, "steps", low=0)
    w = nn.Parameter(_start(start))
    opt = optimizer([w], **kwargs)
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(f"optimizer(params, **kwargs) must return a torch.optim.Optimizer, got {describe(opt)}")
    path = torch.full((steps + 1, 2), math.nan, dtype=w.dtype, device=w.device)
    losses = torch.full((steps + 1,), math.nan, dtype=w.dtype, device=w.device)
    for t in range(steps + 1):
        opt.zero_grad()
        loss = fn(w)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(f"fn must return one number (a 0-dim tensor) for a point of shape (2,), got "
                             f"{describe(loss)}")
        path[t], losses[t] = w.detach(), loss.detach().reshape(())
        if t == steps or not torch.isfinite(loss):
            break
        loss.backward()
        opt.step()
    return Trajectory(path, losses)


def run_optimizers(fn: Callable[[Tensor], Tensor], optimizers: Mapping[str, Any], start: Any,
                   steps: int) -> dict[str, Trajectory]:
    """:func:`trajectory` for several optimizers from the same start: ``{name: Trajectory}``.

    ``optimizers``: ``{name: factory}`` or ``{name: (class, kwargs)}``, e.g.
    ``{"SGD": (torch.optim.SGD, {"lr": 0.1}), "momentum": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9})}``.
    """
    if not isinstance(optimizers, Mapping) or not optimizers:
        raise TypeError(f"optimizers must be a non-empty dict {{name: factory or (class, kwargs)}}, "
                        f"got {describe(optimizers)}")
    runs = {}
    for name, spec in optimizers.items():
        if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], Mapping):
            runs[name] = trajectory(fn, spec[0], start, steps, **spec[1])
        else:
            runs[name] = trajectory(fn, spec, start, steps)
    return runs


# --------------------------------------------------------------------------- figures
def _paths(paths: Any) -> dict[str, Tensor]:
    if not isinstance(paths, Mapping):
        raise TypeError(f"paths must be a dict {{name: path}} (paths of shape (n, 2) or Trajectory), "
                        f"got {describe(paths)}")
    out = {}
    for name, p in paths.items():
        if not isinstance(name, str):
            raise TypeError(f"paths must be keyed by names (str), got the key {describe(name)}")
        p = p.path if isinstance(p, Trajectory) else p
        tensor(p, f"paths[{name!r}]", floating=True, ndim=2)
        if p.shape[1] != 2 or len(p) == 0:
            raise ValueError(f"paths[{name!r}] must have shape (n, 2) with n >= 1, got {tuple(p.shape)}")
        out[name] = p.detach().to("cpu", torch.float64)
    return out


def _box(fn, paths: dict[str, Tensor], xlim, ylim) -> tuple[tuple[float, float], tuple[float, float]]:
    """The box to draw: given, else the landscape's, else around the paths."""
    if xlim is None:
        xlim = getattr(fn, "xlim", None)
    if ylim is None:
        ylim = getattr(fn, "ylim", None)
    if xlim is None or ylim is None:
        points = torch.cat([p[torch.isfinite(p).all(1)] for p in paths.values()]) if paths else torch.zeros(1, 2)
        if len(points) == 0:
            raise ValueError("give xlim and ylim: the paths have no finite point to frame")
        low, high = points.min(0).values, points.max(0).values
        pad = 0.15 * (high - low).clamp_min(1.0)
        xlim = xlim or (float(low[0] - pad[0]), float(high[0] + pad[0]))
        ylim = ylim or (float(low[1] - pad[1]), float(high[1] + pad[1]))
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        ok = isinstance(lim, Sequence) and len(lim) == 2
        if not (ok and real(lim[0], f"{name}[0]") < real(lim[1], f"{name}[1]")):
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
    return (float(xlim[0]), float(xlim[1])), (float(ylim[0]), float(ylim[1]))


@torch.no_grad()
def _draw_contours(ax, fn, xlim, ylim, levels: int, resolution: int = 160) -> None:
    """Filled contours of fn over the box, at levels spaced by the quantiles of its values there."""
    import numpy as np

    xs = torch.linspace(*xlim, resolution, dtype=torch.float64)
    ys = torch.linspace(*ylim, resolution, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)   # (res, res, 2)
    z = fn(grid).to("cpu", torch.float64).numpy()
    finite = z[np.isfinite(z)]
    # quantile levels: as many lines near the minima as on the steep walls, whatever the function's range
    lv = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, levels)))
    ax.contourf(xs.numpy(), ys.numpy(), z, levels=lv, cmap="Greys", alpha=0.4)  # low: light, high: grey
    ax.contour(xs.numpy(), ys.numpy(), z, levels=lv, colors="0.5", linewidths=0.6)


# How the i-th path is drawn (cycled): a line style, a marker and a width that shrink with i, so
# that a path drawn later over an earlier one (two optimizers on the same path) leaves it visible
# on both sides: a thick solid line with a thinner dashed one of another colour on top.
_LINE_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "^", "v", "D", "P", "h")
MINIMUM_COLOR = "C6"  # the palette's yellow: known minima are yellow stars edged in black


def _path_style(i: int) -> dict[str, Any]:
    return dict(ls=_LINE_STYLES[i % len(_LINE_STYLES)], marker=_MARKERS[i % len(_MARKERS)],
                lw=max(3.4 - 0.7 * i, 1.2), ms=max(6.5 - 1.0 * i, 3.0))


def _path_colors(paths: Mapping[str, Any], colors: Any) -> dict[str, Any]:
    """One colour per path: ``colors[name]`` where given, else the next palette colour ``C0``, ``C1``, …
    that no other path of the figure has from ``colors``."""
    if colors is None:
        colors = {}
    if not isinstance(colors, Mapping):
        raise TypeError(f"colors must be a dict {{name: colour}} (such as {{'Adam': 'C4'}}) or None, "
                        f"got {describe(colors)}")
    for name, value in colors.items():
        if value is None:
            raise TypeError(f"colors[{name!r}] must be a matplotlib colour such as 'C0', got None")
        _color(value, f"colors[{name!r}]")
    taken = {str(colors[name]) for name in paths if name in colors}
    palette = [f"C{i}" for i in range(10)]
    free = [c for c in palette if c not in taken] or palette
    out, k = {}, 0
    for name in paths:
        if name in colors:
            out[name] = colors[name]
        else:
            out[name], k = free[k % len(free)], k + 1
    return out


def _draw_points(ax, fn) -> None:
    minima = getattr(fn, "minima", None)
    if minima is not None and len(minima):
        ax.plot(minima[:, 0], minima[:, 1], "*", color=MINIMUM_COLOR, mec="black", ms=16, ls="none",
                label="minimum", zorder=5)
    saddles = getattr(fn, "saddles", None)
    if saddles is not None and len(saddles):
        ax.plot(saddles[:, 0], saddles[:, 1], "X", color="white", mec="black", ms=12, ls="none",
                label="saddle point", zorder=5)


def _finish(ax, fn, xlim, ylim, title) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.grid(False)
    ax.set_title(title if title is not None else getattr(fn, "name", "loss landscape"))
    ax.legend(loc="best", fontsize="small", framealpha=0.85)


def plot_trajectories(fn: Callable[[Tensor], Tensor], paths: Mapping[str, Any], ax=None, *, title: str | None = None,
                      levels: int = 25, xlim: tuple[float, float] | None = None,
                      ylim: tuple[float, float] | None = None, colors: Mapping[str, Any] | None = None):
    """Draw optimizer paths over the contours of ``fn``; return the ``Axes``.

    ``paths``: ``{name: path}``, each a ``(n, 2)`` tensor or a :class:`Trajectory`, drawn as a line
    with a marker per step; each start is a black square. ``colors``: ``{name: colour}``, so that
    one optimizer keeps its colour in every figure (e.g. ``{"Adam": "C4"}``); a name it does not
    list gets the next palette colour (``C0``, ``C1``, …) that the listed ones leave free. The i-th path
    also gets its own line style and marker, and a line a little thinner than the one before, so a
    path that runs on top of another leaves it visible. Known minima are yellow stars (``C6``),
    saddle points white crosses. The box is the landscape's
    (``xlim``/``ylim`` override it; for a plain function it frames the paths); parts of a path
    outside it are cut off. Axes labelled w₁, w₂; a legend; the title defaults to the landscape's name.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    from .plots import COURSE_STYLE

    if not callable(fn):
        raise TypeError(f"fn must be a function of a (..., 2) tensor, such as rosenbrock(), got {describe(fn)}")
    paths = _paths(paths)
    levels = integer(levels, "levels", low=2)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {describe(title)}")
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {describe(ax)}")
    path_colors = _path_colors(paths, colors)
    xlim, ylim = _box(fn, paths, xlim, ylim)
    with plt.rc_context(COURSE_STYLE):
        if ax is None:
            ax = plt.subplots(figsize=(6.0, 5.0), layout="constrained")[1]
        _draw_contours(ax, fn, xlim, ylim, levels)
        for i, (name, p) in enumerate(paths.items()):
            ax.plot(p[:, 0], p[:, 1], color=path_colors[name], label=name, zorder=3 + 0.01 * i, **_path_style(i))
        if paths:
            starts = torch.stack([p[0] for p in paths.values()])
            ax.plot(starts[:, 0], starts[:, 1], "s", color="black", ms=8, ls="none", label="start", zorder=4)
        _draw_points(ax, fn)
        _finish(ax, fn, xlim, ylim, title)
    return ax


def plot_side_by_side(panels: Sequence[tuple[Callable[[Tensor], Tensor], Mapping[str, Any]]],
                      titles: Sequence[str] | None = None, *, levels: int = 25, panel_size: float = 4.6,
                      colors: Mapping[str, Any] | None = None):
    """One row of :func:`plot_trajectories` panels, e.g. the same optimizers on two landscapes; returns the ``Figure``.

    ``panels``: a list of ``(fn, paths)``; ``titles``: one per panel (default: the landscapes' names);
    ``colors``: ``{name: colour}`` for every panel (see :func:`plot_trajectories`).
    For slides keep to two or three panels.
    """
    import matplotlib.pyplot as plt

    from .plots import COURSE_STYLE

    if isinstance(panels, (str, bytes)) or not isinstance(panels, Sequence) or not panels:
        raise TypeError(f"panels must be a non-empty list of (fn, paths) pairs, got {describe(panels)}")
    for i, panel in enumerate(panels):
        if not (isinstance(panel, (tuple, list)) and len(panel) == 2):
            raise TypeError(f"panels[{i}] must be a pair (fn, paths), got {describe(panel)}")
    if titles is not None and (not isinstance(titles, Sequence) or len(titles) != len(panels)):
        raise ValueError(f"titles must give one title per panel ({len(panels)}), got {titles!r}")
    panel_size = real(panel_size, "panel_size", low=1.0)
    with plt.rc_context(COURSE_STYLE):
        fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels), panel_size * 0.95),
                                 layout="constrained", squeeze=False)
        for i, ((fn, paths), ax) in enumerate(zip(panels, axes[0])):
            plot_trajectories(fn, paths, ax=ax, title=None if titles is None else titles[i], levels=levels,
                              colors=colors)
    return fig


def animate_trajectories(fn: Callable[[Tensor], Tensor], paths: Mapping[str, Any], *, frames: int = 30,
                         interval: int = 150, title: str | None = None, levels: int = 20,
                         figsize: tuple[float, float] = (5.0, 4.2), dpi: int = 60,
                         colors: Mapping[str, Any] | None = None):
    """A matplotlib ``FuncAnimation`` of the optimizers moving over the contours, step by step.

    Frame j shows every path up to step ⌊j·(n − 1)/(frames − 1)⌋ with its current point, so the
    whole run fits in ``frames`` frames (``interval`` ms apart). The contours are drawn once. Show it
    in a notebook with ``HTML(anim.to_jshtml())``, or use :func:`trajectory_animation_html`. The
    figure is closed, so it is not also shown as a still image. ``colors`` as in
    :func:`plot_trajectories`.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    from .plots import COURSE_STYLE

    frames = integer(frames, "frames", low=2, high=200)
    interval = integer(interval, "interval", low=1)
    dpi = integer(dpi, "dpi", low=20, high=200)
    paths = _paths(paths)
    if not paths:
        raise ValueError("paths is empty: give at least one {name: path}")
    n = max(len(p) for p in paths.values())
    path_colors = _path_colors(paths, colors)
    with plt.rc_context(COURSE_STYLE):
        fig, ax = plt.subplots(figsize=figsize, dpi=dpi, layout="constrained")
        xlim, ylim = _box(fn, paths, None, None)
        _draw_contours(ax, fn, xlim, ylim, integer(levels, "levels", low=2))
        lines, heads = [], []
        for i, name in enumerate(paths):
            style = _path_style(i)
            (line,) = ax.plot([], [], style["ls"], color=path_colors[name], lw=style["lw"], label=name, zorder=3)
            (head,) = ax.plot([], [], style["marker"], color=path_colors[name], mec="black", ms=8, zorder=4)
            lines.append(line)
            heads.append(head)
        _draw_points(ax, fn)
        _finish(ax, fn, xlim, ylim, title)
        counter = ax.text(0.02, 0.96, "", transform=ax.transAxes, va="top", fontsize=11,
                          bbox=dict(facecolor="white", alpha=0.8, edgecolor="none"))

    def draw(j: int):
        t = (j * (n - 1)) // (frames - 1)
        for p, line, head in zip(paths.values(), lines, heads):
            shown = p[:min(t, len(p) - 1) + 1]
            line.set_data(shown[:, 0], shown[:, 1])
            head.set_data(shown[-1:, 0], shown[-1:, 1])
        counter.set_text(f"step {t}")
        return (*lines, *heads, counter)

    anim = FuncAnimation(fig, draw, frames=frames, interval=interval, blit=False)
    plt.close(fig)
    return anim


# Font Awesome icon of each play button in matplotlib's HTML -> a plain character (arrows and
# geometric shapes every system font has; U+FE0E asks for the text, not the emoji, glyph)
_BUTTON_LABELS = {"fa-minus": "\u2212", "fa-fast-backward": "\u21e4", "fa-step-backward": "\u2190",
                  "fa-play fa-flip-horizontal": "\u25c0\ufe0e", "fa-pause": "\u275a\u275a",
                  "fa-play": "\u25b6\ufe0e", "fa-step-forward": "\u2192", "fa-fast-forward": "\u21e5",
                  "fa-plus": "+"}


def trajectory_animation_html(fn: Callable[[Tensor], Tensor], paths: Mapping[str, Any], *, frames: int = 30,
                              interval: int = 150, title: str | None = None, dpi: int = 60,
                              quality: int = 60, colors: Mapping[str, Any] | None = None) -> str:
    """:func:`animate_trajectories` as a self-contained HTML string with play controls.

    matplotlib's ``HTMLWriter`` (what ``to_jshtml()`` uses) embeds every frame as a JPEG image of
    the given ``quality`` (1-95), so the size grows with ``frames`` and ``dpi``: about 20 kB per
    frame at the defaults (5 × 4.2 inches at 60 dpi, quality 60). Its page loads the Font Awesome
    icons of the buttons from a CDN; here that ``<link>`` is removed and each icon replaced by a
    plain character (the buttons keep their titles), so the HTML loads nothing from outside and
    works offline. Show it with ``IPython.display.HTML(...)``. ``colors`` as in :func:`plot_trajectories`.
    """
    import re
    import tempfile
    from pathlib import Path

    import matplotlib.pyplot as plt
    from matplotlib.animation import HTMLWriter

    quality = integer(quality, "quality", low=1, high=95)
    anim = animate_trajectories(fn, paths, frames=frames, interval=interval, title=title, dpi=dpi, colors=colors)
    with tempfile.TemporaryDirectory() as tmp, plt.rc_context({"animation.frame_format": "jpeg"}):
        out = Path(tmp) / "animation.html"
        writer = HTMLWriter(fps=1000 / interval, embed_frames=True, default_mode="once")
        anim.save(str(out), writer=writer, dpi=dpi, savefig_kwargs={"pil_kwargs": {"quality": quality,
                                                                                   "optimize": True}})
        html = out.read_text()
    html = re.sub(r"<link\b[^>]*>", "", html)                        # the stylesheet from the CDN
    html = re.sub(r'<i class="fa ([^"]*)"></i>', lambda m: _BUTTON_LABELS.get(m.group(1).strip(), "?"), html)
    return html
