"""course_lib.landscapes: the functions' minima and gradients (analytic vs autograd), the valley's condition
number, optimizer paths against hand-computed updates, the figures and the animation, bad input."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from torch.autograd.functional import hessian

from course_lib.landscapes import (Landscape, Trajectory, animate_trajectories, himmelblau, narrow_valley,
                                   plot_side_by_side, plot_trajectories, rosenbrock, run_optimizers, saddle,
                                   six_hump_camel, trajectory, trajectory_animation_html)

ALL = {"valley": lambda: narrow_valley(25.0, 40.0, 2.0), "saddle": saddle, "rosenbrock": rosenbrock,
       "rosenbrock_a2": lambda: rosenbrock(2.0, 10.0), "himmelblau": himmelblau, "camel": six_hump_camel}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _random_points(fn, n=64, seed=0, device="cpu", dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=g, dtype=torch.float64)
    low = torch.tensor([fn.xlim[0], fn.ylim[0]], dtype=torch.float64)
    high = torch.tensor([fn.xlim[1], fn.ylim[1]], dtype=torch.float64)
    return (low + u * (high - low)).to(device, dtype)


# ----------------------------------------------------------------- the functions
@pytest.mark.parametrize("name", ALL)
def test_analytic_gradient_equals_autograd(device, name):
    fn = ALL[name]()
    w = _random_points(fn, device=device).requires_grad_(True)
    auto = torch.autograd.grad(fn(w).sum(), w)[0]
    torch.testing.assert_close(fn.gradient(w.detach()), auto, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ALL)
def test_values_keep_shape_dtype_and_device(device, name):
    fn = ALL[name]()
    w = torch.randn(3, 5, 2, device=device)
    out = fn(w)
    assert out.shape == (3, 5) and out.dtype == torch.float32 and out.device == w.device
    torch.testing.assert_close(out[1, 2], fn(w[1, 2]))
    assert fn.gradient(w).shape == (3, 5, 2)


@pytest.mark.parametrize("name", ["valley", "rosenbrock", "rosenbrock_a2", "himmelblau", "camel"])
def test_known_minima_are_minima(name):
    fn = ALL[name]()
    assert len(fn.minima) >= 1 and fn.min_values.shape == (len(fn.minima),)
    for m, value in zip(fn.minima, fn.min_values):
        assert fn(m).item() == pytest.approx(value.item(), abs=1e-12)
        assert fn.gradient(m).abs().max().item() < 1e-6                     # a critical point ...
        assert torch.linalg.eigvalsh(hessian(fn, m)).min().item() > 0       # ... with positive curvature
        g = torch.Generator().manual_seed(1)
        around = m + 1e-3 * torch.randn(200, 2, generator=g, dtype=torch.float64)
        assert (fn(around) > value).all()                                    # lower than every neighbour


def test_published_minimum_values():
    assert rosenbrock().minima.tolist() == [[1.0, 1.0]] and rosenbrock().min_values.tolist() == [0.0]
    assert rosenbrock(2.0, 10.0).minima.tolist() == [[2.0, 4.0]]
    assert narrow_valley().min_values.tolist() == [0.0]
    assert himmelblau().min_values.abs().max().item() < 1e-12                 # four minima, all 0
    camel = six_hump_camel().min_values.sort().values
    torch.testing.assert_close(camel, torch.tensor([-1.0316285] * 2 + [-0.2154638] * 2 + [2.1042503] * 2,
                                                   dtype=torch.float64), atol=1e-6, rtol=0)


def test_saddle_point_is_not_a_minimum():
    s = saddle()
    assert len(s.minima) == 0 and s.saddles.tolist() == [[0.0, 0.0]]
    p = s.saddles[0]
    assert s.gradient(p).abs().max().item() == 0.0
    eig = torch.linalg.eigvalsh(hessian(s, p))
    assert eig.tolist() == pytest.approx([-2.0, 2.0])                        # one direction down, one up
    assert s(torch.tensor([0.0, 0.5])).item() == pytest.approx(-0.25) and s(torch.tensor([0.5, 0.0])) > 0


@pytest.mark.parametrize("kappa,angle", [(1.0, 0.0), (10.0, 30.0), (100.0, -60.0), (7.5, 135.0)])
def test_valley_has_the_requested_condition_number_and_direction(kappa, angle):
    v = narrow_valley(kappa, angle, scale=3.0)
    eigenvalues, vectors = torch.linalg.eigh(v.hessian)
    assert (eigenvalues.max() / eigenvalues.min()).item() == pytest.approx(kappa, rel=1e-12)
    assert eigenvalues.tolist() == pytest.approx([3.0 / kappa, 3.0], rel=1e-12)
    torch.testing.assert_close(hessian(v, torch.tensor([0.3, -0.7], dtype=torch.float64)), v.hessian)
    if kappa > 1:  # the flat direction (the valley floor) points along the angle
        floor = vectors[:, 0]
        theta = math.radians(angle)
        assert abs(floor @ torch.tensor([math.cos(theta), math.sin(theta)], dtype=torch.float64)) == \
            pytest.approx(1.0, abs=1e-12)


# ----------------------------------------------------------------- optimizer paths
def test_gradient_descent_path_by_hand_on_the_valley(device):
    v = narrow_valley(20.0, 30.0)
    lr, steps = 0.9, 25
    start = torch.tensor(v.start, dtype=torch.float64, device=device)
    run = trajectory(v, torch.optim.SGD, start, steps, lr=lr)
    assert isinstance(run, Trajectory) and run.path.shape == (steps + 1, 2) and run.losses.shape == (steps + 1,)
    assert run.path.device == start.device and run.path.dtype == torch.float64
    step = torch.eye(2, dtype=torch.float64) - lr * v.hessian                 # w ← (I − lr A) w
    expected = [start.cpu()]
    for _ in range(steps):
        expected.append(step @ expected[-1])
    torch.testing.assert_close(run.path.cpu(), torch.stack(expected), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(run.losses, v(run.path))


def test_momentum_path_by_hand_on_rosenbrock():
    r = rosenbrock()
    lr, mu, steps = 1e-3, 0.9, 40
    run = trajectory(r, torch.optim.SGD, r.start, steps, lr=lr, momentum=mu)
    w, buf = torch.tensor(r.start, dtype=torch.float64), None
    for t in range(steps):
        g = r.gradient(w)
        buf = g if buf is None else mu * buf + g                             # torch's heavy ball: v ← μv + g
        w = w - lr * buf
        torch.testing.assert_close(run.path[t + 1], w, rtol=1e-12, atol=1e-14)
    assert run.losses[-1] < run.losses[0]


def test_momentum_beats_plain_gradient_descent_in_the_valley():
    v = narrow_valley(50.0, 30.0)
    runs = run_optimizers(v, {"GD": (torch.optim.SGD, {"lr": 1.0}),
                              "momentum": lambda p: torch.optim.SGD(p, lr=1.0, momentum=0.8)}, v.start, 60)
    assert list(runs) == ["GD", "momentum"]
    assert runs["momentum"].losses[-1] < runs["GD"].losses[-1] / 100


def test_a_diverging_run_stops_and_pads_with_nan():
    run = trajectory(rosenbrock(), torch.optim.SGD, (-1.2, 1.0), 50, lr=1.0)
    finite = torch.isfinite(run.losses)
    k = int(finite.sum())
    assert 1 < k < 51 and finite[:k].all()
    assert torch.isnan(run.path[k + 1:]).all() and run.path.shape == (51, 2)


def test_a_plain_function_and_float32_start_work():
    run = trajectory(lambda w: (w**2).sum(), torch.optim.SGD, torch.tensor([1.0, -2.0]), 3, lr=0.25)
    assert run.path.dtype == torch.float32
    torch.testing.assert_close(run.path[-1], torch.tensor([1.0, -2.0]) * 0.5**3)   # w ← (1 − 2·lr) w


# ----------------------------------------------------------------- figures
def _runs():
    v = narrow_valley(10.0, 30.0)
    return v, run_optimizers(v, {"SGD": (torch.optim.SGD, {"lr": 1.5}),
                                 "momentum": (torch.optim.SGD, {"lr": 0.3, "momentum": 0.8})}, v.start, 30)


def test_plot_trajectories_labels_and_legend():
    v, runs = _runs()
    ax = plot_trajectories(v, runs)
    assert ax.get_xlabel() == "$w_1$" and ax.get_ylabel() == "$w_2$" and ax.get_title() == v.name
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["SGD", "momentum", "start", "minimum"]
    assert ax.get_xlim() == pytest.approx(v.xlim) and ax.get_ylim() == pytest.approx(v.ylim)
    sgd = ax.get_lines()[0]
    assert len(sgd.get_xdata()) == 31
    fig, ax2 = plt.subplots()
    assert plot_trajectories(saddle(), {"p": torch.zeros(3, 2)}, ax=ax2, title="mine") is ax2
    assert ax2.get_title() == "mine" and "saddle point" in [t.get_text() for t in ax2.get_legend().get_texts()]


def test_plot_trajectories_takes_a_colour_per_name_and_keeps_every_path_visible():
    from matplotlib.colors import to_rgba

    v, runs = _runs()
    runs = {**runs, "copy": runs["SGD"].path}                   # a path drawn exactly on top of another
    ax = plot_trajectories(v, runs, colors={"momentum": "C1", "Adam": "C4"})
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert to_rgba(lines["momentum"].get_color()) == to_rgba("C1")           # the mapping wins
    assert to_rgba(lines["SGD"].get_color()) == to_rgba("C0")                # the others: free palette colours
    assert to_rgba(lines["copy"].get_color()) == to_rgba("C2")               # C1 is momentum's
    drawn = [lines[name] for name in runs]
    assert len({(line.get_linestyle(), line.get_marker()) for line in drawn}) == len(drawn)
    widths = [line.get_linewidth() for line in drawn]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]   # the one below shows at the sides
    star = lines["minimum"]
    assert to_rgba(star.get_color()) == to_rgba("C6") and star.get_marker() == "*"   # a palette colour
    fig = plot_side_by_side([(v, runs)], colors={"SGD": "C3"})
    assert to_rgba({l.get_label(): l for l in fig.axes[0].get_lines()}["SGD"].get_color()) == to_rgba("C3")
    anim = animate_trajectories(v, runs, frames=2, colors={"SGD": "C5"})
    assert to_rgba({l.get_label(): l for l in anim._fig.axes[0].get_lines()}["SGD"].get_color()) == to_rgba("C5")


def test_landscape_module_uses_only_palette_colours():
    import inspect
    import re

    import course_lib.landscapes as module

    named = set(re.findall(r"""color\s*=\s*["']([a-z]+)["']""", inspect.getsource(module)))
    neutral = {"black", "white", "none"}
    assert named <= neutral, f"named colours outside the palette: {named - neutral}"


def test_plot_a_plain_function_frames_the_paths():
    path = torch.tensor([[0.0, 0.0], [2.0, 1.0], [4.0, 3.0]])
    ax = plot_trajectories(lambda w: (w**2).sum(-1), {"run": path})
    low, high = ax.get_xlim()
    assert low < 0.0 and high > 4.0 and ax.get_title() == "loss landscape"


def test_side_by_side():
    v, runs = _runs()
    s = saddle()
    fig = plot_side_by_side([(v, runs), (s, {"GD": trajectory(s, torch.optim.SGD, s.start, 20, lr=0.1)})],
                            titles=["valley", "saddle"])
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["valley", "saddle"]
    assert all(ax.get_legend() is not None and ax.get_xlabel() == "$w_1$" for ax in axes)


def test_animation_renders_to_small_html():
    v, runs = _runs()
    anim = animate_trajectories(v, runs, frames=3)
    assert anim._fig.axes[0].get_xlabel() == "$w_1$" and anim._fig.axes[0].get_legend() is not None
    assert anim.to_jshtml().count("data:image/png;base64") == 3
    html = trajectory_animation_html(v, runs, frames=5)
    assert html.count("data:image/jpeg;base64") == 5                         # one embedded image per frame
    assert len(html) < 5 * 30_000 + 30_000                                   # ~20 kB a frame, bounded
    assert "<script" in html and "anim" in html
    assert len(trajectory_animation_html(v, runs, frames=5, quality=30)) < len(html)


def test_animation_html_loads_nothing_from_outside_and_its_buttons_have_labels():
    import re

    v, runs = _runs()
    html = trajectory_animation_html(v, runs, frames=4)
    # nothing loaded from another address: no stylesheet link, no script/img/... src, no CSS import or url()
    assert not re.search(r"<link\b", html, re.I)
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"""(?:@import|url\()\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"https?://", html)                                 # no outside address at all
    assert "fa-" not in html and "<i " not in html                           # no Font Awesome icon left
    # every play button is labelled with a plain character and calls a method the page's script defines
    buttons = re.findall(r'<button[^>]*onclick="anim\w*\.(\w+)\(\)"[^>]*>\s*(.*?)\s*</button>', html, re.S)
    assert [m for m, _ in buttons] == ["slower", "first_frame", "previous_frame", "reverse_animation",
                                       "pause_animation", "play_animation", "next_frame", "last_frame", "faster"]
    assert all(label and label != "?" and len(label) <= 2 for _, label in buttons)
    assert len({label for _, label in buttons}) == len(buttons)            # no two buttons look alike
    for method, _ in buttons:
        assert re.search(rf"Animation\.prototype\.{method}\s*=\s*function", html), method
    assert "new Animation(" in html
    with pytest.raises(ValueError, match=r"quality must be an int in \[1, 95\], got 0"):
        trajectory_animation_html(v, runs, frames=2, quality=0)


# ----------------------------------------------------------------- bad input
BAD = [
    (lambda: rosenbrock()(torch.zeros(3)), ValueError, r"w must have shape \(\.\.\., 2\).*got shape \(3,\)"),
    (lambda: rosenbrock()(torch.zeros(3, 2, dtype=torch.long)), TypeError, "w must be a floating-point tensor"),
    (lambda: saddle()([1.0, 2.0]), TypeError, "w must be a torch.Tensor, got list"),
    (lambda: narrow_valley(0.5), ValueError, r"condition must be a real number in \[1, inf\), got 0.5"),
    (lambda: narrow_valley(10, scale=0), ValueError, r"scale must be a real number in \(0, inf\)"),
    (lambda: narrow_valley("10"), TypeError, "condition must be a real number"),
    (lambda: rosenbrock(b=-1), ValueError, "b must be a real number in"),
    (lambda: trajectory(saddle(), torch.optim.SGD, (1.0,), 5, lr=0.1), TypeError, r"start must be a point \(w1, w2\)"),
    (lambda: trajectory(saddle(), torch.optim.SGD, torch.zeros(3), 5, lr=0.1), ValueError,
     r"start must have shape \(2,\)"),
    (lambda: trajectory(saddle(), torch.optim.SGD, (1.0, "a"), 5, lr=0.1), TypeError, r"start\[1\] must be a real"),
    (lambda: trajectory(saddle(), torch.optim.SGD, (1.0, 0.0), -1, lr=0.1), ValueError, r"steps must be an int in"),
    (lambda: trajectory(saddle(), torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), (1.0, 0.0), 5),
     TypeError, "optimizer must be an optimizer class or factory"),
    (lambda: trajectory(saddle(), lambda p: "sgd", (1.0, 0.0), 5), TypeError, "must return a torch.optim.Optimizer"),
    (lambda: trajectory("saddle", torch.optim.SGD, (1.0, 0.0), 5), TypeError, "fn must be a function"),
    (lambda: trajectory(lambda w: w * 2, torch.optim.SGD, (1.0, 0.0), 5, lr=0.1), ValueError,
     "fn must return one number"),
    (lambda: run_optimizers(saddle(), {}, (1.0, 0.0), 5), TypeError, "optimizers must be a non-empty dict"),
    (lambda: plot_trajectories(saddle(), [torch.zeros(3, 2)]), TypeError, r"paths must be a dict"),
    (lambda: plot_trajectories(saddle(), {"a": torch.zeros(3, 3)}), ValueError, r"paths\['a'\] must have shape"),
    (lambda: plot_trajectories(saddle(), {"a": torch.zeros(3, 2)}, ax="left"), TypeError, "ax must be a matplotlib"),
    (lambda: plot_trajectories(saddle(), {"a": torch.zeros(3, 2)}, xlim=(1, -1)), ValueError,
     r"xlim must be \(low, high\)"),
    (lambda: plot_trajectories(saddle(), {"a": torch.zeros(3, 2)}, colors=["C0"]), TypeError,
     r"colors must be a dict \{name: colour\}"),
    (lambda: plot_trajectories(saddle(), {"a": torch.zeros(3, 2)}, colors={"a": "no-such-colour"}), ValueError,
     r"colors\['a'\] must be a matplotlib colour such as 'C0'"),
    (lambda: plot_trajectories(saddle(), {"a": torch.zeros(3, 2)}, colors={"a": None}), TypeError,
     r"colors\['a'\] must be a matplotlib colour"),
    (lambda: plot_side_by_side([]), TypeError, "panels must be a non-empty list"),
    (lambda: plot_side_by_side([(saddle(), {})], titles=["a", "b"]), ValueError, "one title per panel"),
    (lambda: animate_trajectories(saddle(), {"a": torch.zeros(3, 2)}, frames=500), ValueError,
     r"frames must be an int in \[2, 200\]"),
    (lambda: animate_trajectories(saddle(), {}), ValueError, "paths is empty"),
]


@pytest.mark.parametrize("make,error,match", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_landscape_repr():
    assert repr(rosenbrock()).startswith("Landscape(Rosenbrock: f(w) = ") and isinstance(saddle(), Landscape)
