import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib.data import load_dataset  # noqa: E402
from course_lib.models import mlp  # noqa: E402
from course_lib.plots import (plot_decision_boundary, plot_history, plot_learning_curve,  # noqa: E402
                              jpeg_bytes, plot_images, plot_regression_fit, show_as_jpeg,
                              use_course_style)
from course_lib.training import History, fit  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _labelled(ax):
    return ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_legend() is not None


def test_plot_history_draws_train_and_val():
    h = History()
    for e in range(1, 4):
        h.append(e, train_loss=1 / e, val_loss=1.2 / e, train_acc=0.5, val_acc=0.4)
    ax = plot_history(h, "loss", label="MLP")
    assert _labelled(ax) and [ln.get_label() for ln in ax.get_lines()] == ["MLP train", "MLP validation"]
    assert list(ax.get_lines()[1].get_ydata()) == h.val_loss
    with pytest.raises(ValueError, match="metric must be one of 'loss', 'acc', got 'f1'"):
        plot_history(h, "f1")
    with pytest.raises(ValueError, match="history is empty"):
        plot_history(History())


@pytest.mark.parametrize("kwargs, error, message", [
    ({"history": {"train_loss": [1.0]}}, TypeError, r"history must be a History \(what fit returns\), got dict"),
    ({"metric": 1}, TypeError, "metric must be one of 'loss', 'acc', got int 1"),
    ({"ax": "left"}, TypeError, "ax must be a matplotlib Axes or None, got str 'left'"),
    ({"label": 3}, TypeError, "label must be a str, got int 3"),
    ({"title": ["Loss"]}, TypeError, "title must be a str or None, got list"),
    ({"color": "no-such-colour"}, ValueError,
     "color must be a matplotlib colour such as 'C0'.*, got str 'no-such-colour'"),
    ({"color": 3}, TypeError, "color must be a matplotlib colour .*, got int 3"),
])
def test_plot_history_bad_arguments(kwargs, error, message):
    h = History()
    h.append(1, train_loss=1.0)
    kwargs = {"history": h, **kwargs}
    with pytest.raises(error, match=message):
        plot_history(**kwargs)


def test_plot_history_without_validation_draws_one_line():
    h = History()
    h.append(1, train_loss=1.0)
    assert len(plot_history(h).get_lines()) == 1


def test_learning_curve_and_regression_plots():
    ax = plot_learning_curve([10, 20, 40], [0.1, 0.2, 0.25], [0.6, 0.4, 0.3])
    assert _labelled(ax) and ax.get_xlabel() == "training-set size"
    with pytest.raises(ValueError, match="same non-zero length"):
        plot_learning_curve([1, 2], [0.1], [0.2, 0.3])
    with pytest.raises(TypeError, match="sizes must be a sequence of numbers"):
        plot_learning_curve(10, [0.1], [0.2])
    with pytest.raises(ValueError, match=r"sizes\[0\] must be a real number in \(0, inf\), got 0"):
        plot_learning_curve([0, 2], [0.1, 0.2], [0.2, 0.3])
    with pytest.raises(ValueError, match=r"val_scores\[1\] must be a real number .*, got nan"):
        plot_learning_curve([1, 2], [0.1, 0.2], [0.2, float("nan")])
    ax = plot_learning_curve(torch.tensor([10, 20]), np.array([0.1, 0.2]), [0.3, torch.tensor(0.25)])  # any numbers
    assert list(ax.get_lines()[1].get_ydata()) == [0.3, 0.25]
    x = torch.linspace(-1, 1, 10).unsqueeze(1)
    ax = plot_regression_fit(x, x**2, {"true": (x.squeeze().numpy(), (x**2).squeeze().numpy())}, ylim=(-1, 2))
    assert _labelled(ax) and ax.get_ylim() == (-1, 2)
    with pytest.raises(TypeError, match="curves must be a dict"):
        plot_regression_fit(x, x**2, [(x, x)])
    with pytest.raises(TypeError, match=r"curves\['a'\] must be a pair \(xs, ys\)"):
        plot_regression_fit(x, x**2, {"a": x})
    with pytest.raises(ValueError, match=r"curves\['a'\] needs xs and ys of the same length, got 10 and 3"):
        plot_regression_fit(x, x**2, {"a": (x, x[:3])})
    with pytest.raises(ValueError, match="x and y need one value per point, got 10 and 9"):
        plot_regression_fit(x, x[1:], {})
    with pytest.raises(ValueError, match=r"ylim must have bottom < top, got \(2.0, -1.0\)"):
        plot_regression_fit(x, x, {}, ylim=(2, -1))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        plot_regression_fit([1.0], x[:1], {})


def test_decision_boundary_matches_the_model():
    d = load_dataset("moons", n_samples=200)
    model = mlp(2, [16], 2)
    fit(model, d.train, epochs=5, lr=0.5, seed=0)
    ax = plot_decision_boundary(model, d.train.x, d.train.y, resolution=50)
    assert _labelled(ax) and len(ax.collections) >= 3  # filled regions + one scatter per class
    with pytest.raises(ValueError, match=r"need 2-D inputs of shape \(N, 2\)"):
        plot_decision_boundary(model, torch.randn(5, 3), torch.zeros(5, dtype=torch.long))


@pytest.mark.parametrize("args, kwargs, error, message", [
    (("model", torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)), {}, TypeError,
     "model must be an nn.Module, got str"),
    ((torch.zeros(3, 2).numpy(), torch.zeros(3, dtype=torch.long)), {}, TypeError,
     "x must be a torch.Tensor, got ndarray"),
    ((torch.zeros(3, 2), torch.zeros(3)), {}, TypeError,
     r"y \(the class labels\) must be an integer tensor, got dtype torch.float32; convert with .long\(\)"),
    ((torch.zeros(3, 2), torch.zeros(4, dtype=torch.long)), {}, ValueError, "x has 3, y has 4"),
    ((torch.zeros(3, 2), -torch.ones(3, dtype=torch.long)), {}, ValueError,
     "y must hold class labels 0, 1, ..., got -1"),
    ((torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)), {"resolution": 1}, ValueError,
     r"resolution must be an int in \[2, inf\), got 1"),
    ((torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)), {"margin": -1.0}, ValueError,
     r"margin must be a real number in \[0, inf\), got -1.0"),
])
def test_decision_boundary_bad_arguments(args, kwargs, error, message):
    if not isinstance(args[0], str):
        args = (mlp(2, [4], 2), *args)
    with pytest.raises(error, match=message):
        plot_decision_boundary(*args, **kwargs)


def test_decision_boundary_needs_logits():
    with pytest.raises(ValueError, match=r"model must map inputs of shape \(M, 2\) to logits of shape \(M, classes\)"):
        plot_decision_boundary(torch.nn.Flatten(0), torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), resolution=4)


def test_course_style_is_readable():
    use_course_style()
    assert plt.rcParams["font.size"] >= 12 and plt.rcParams["lines.linewidth"] >= 2


def test_plot_images_grid_titles_and_dtypes(device):
    rgb = torch.rand(3, 20, 30, device=device)
    grey = torch.randint(0, 256, (1, 20, 30), dtype=torch.uint8, device=device)
    fig = plot_images([rgb, grey, rgb], ["a", "b", "c"], ncols=2, suptitle="grid")
    assert len(fig.axes) == 4 and [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    shown = fig.axes[1].images[0].get_array()
    assert shown.shape == (20, 30) and float(shown.max()) <= 1.0      # uint8 scaled to [0, 1]
    assert fig._suptitle.get_text() == "grid"


def test_plot_images_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one image"):
        plot_images([])
    with pytest.raises(ValueError, match=r"image 1 must be a \(C, H, W\) tensor with C = 1 or 3, got \(2, 5, 5\)"):
        plot_images([torch.rand(3, 5, 5), torch.rand(2, 5, 5)])
    with pytest.raises(ValueError, match="got 1 titles for 2 images"):
        plot_images([torch.rand(3, 5, 5)] * 2, ["only one"])
    with pytest.raises(TypeError, match="image 1 must be a \\(C, H, W\\) tensor, got ndarray"):
        plot_images([torch.rand(3, 5, 5), np.zeros((3, 5, 5))])
    with pytest.raises(TypeError, match="images must be a list of \\(C, H, W\\) tensors, got str"):
        plot_images("cat.png")
    with pytest.raises(TypeError, match="titles\\[0\\] must be a str, got int 1"):
        plot_images([torch.rand(3, 5, 5)], [1])
    with pytest.raises(ValueError, match="ncols must be an int in \\[1, inf\\), got 0"):
        plot_images([torch.rand(3, 5, 5)], ncols=0)
    with pytest.raises(TypeError, match="ncols must be an int .*, got float 2.0"):
        plot_images([torch.rand(3, 5, 5)], ncols=2.0)
    with pytest.raises(ValueError, match="width \\(inches per column\\) must be a real number in \\(0, inf\\), got 0"):
        plot_images([torch.rand(3, 5, 5)], width=0)


def test_plot_images_takes_a_batch_tensor():
    fig = plot_images(torch.rand(3, 1, 6, 6), ncols=3)
    assert len(fig.axes) == 3


def test_show_as_jpeg_displays_returns_none_and_closes_the_figure(capsys):
    fig = plot_images([torch.rand(3, 8, 8)])
    assert show_as_jpeg(fig) is None and not plt.fignum_exists(fig.number)
    assert "Image" in capsys.readouterr().out  # outside a notebook, display() prints the object


def test_jpeg_bytes_are_a_jpeg_and_leave_the_figure_open():
    fig = plot_images([torch.rand(3, 8, 8)])
    small, large = jpeg_bytes(fig, quality=10), jpeg_bytes(fig, quality=95)
    assert small[:3] == b"\xff\xd8\xff" and len(small) < len(large) and plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match=r"quality must be an int in \[1, 100\], got 0"):
        jpeg_bytes(fig, quality=0)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure .*, got Axes"):
        show_as_jpeg(fig.axes[0])


def test_course_style_is_readable_when_projected():
    """Text at least 12 pt (legend, ticks, labels) so a figure reads at 1280×720 from the back of a room."""
    from course_lib.plots import COURSE_STYLE

    for key in ("font.size", "legend.fontsize", "axes.labelsize", "axes.titlesize"):
        assert COURSE_STYLE[key] >= 12, key


# --------------------------------------------------------------------------- colour-blind safety
def _simulated_lab(colors, matrix):
    """CIELAB of the colours as seen with a colour-vision deficiency (Machado et al. 2009, severity 1)."""
    import numpy as np
    from matplotlib.colors import to_rgb
    from skimage.color import rgb2lab

    rgb = np.array([to_rgb(c) for c in colors])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(linear @ np.array(matrix).T, 0, 1)
    srgb = np.where(seen <= 0.0031308, 12.92 * seen, 1.055 * seen ** (1 / 2.4) - 0.055)
    return rgb2lab(srgb[None])[0]


_CVD = {  # Machado, Oliveira & Fernandes (2009), linear RGB, severity 1.0
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _closest_pair(colors, matrix) -> float:
    import itertools

    import numpy as np

    lab = _simulated_lab(colors, matrix)
    return min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(lab, 2))


@pytest.mark.parametrize("deficiency", sorted(_CVD))
def test_the_first_six_course_colours_stay_apart_for_colour_blind_viewers(deficiency):
    from course_lib.plots import PALETTE

    assert _closest_pair(PALETTE[:6], _CVD[deficiency]) > 12, deficiency   # CIELAB ΔE; 2-3 is barely visible


def test_the_colour_blindness_check_can_fail():
    """matplotlib's default colours put green next to red and orange: the same check rejects them."""
    tab10 = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    assert _closest_pair(tab10, _CVD["protanopia"]) < 12


def test_course_style_cycles_the_palette():
    import matplotlib.pyplot as plt

    from course_lib.plots import PALETTE, use_course_style

    use_course_style()
    assert tuple(plt.rcParams["axes.prop_cycle"].by_key()["color"]) == PALETTE


def test_notebooks_use_the_course_colours():
    """Colours come from the course cycle ("C0"...) or are neutral; tableau names would bypass the palette."""
    from pathlib import Path

    sources = sorted((Path(__file__).resolve().parents[1] / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    offenders = [s.name for s in sources if '"tab:' in s.read_text() or "tab10" in s.read_text()]
    assert not offenders, f"use 'C0'...'C9' (the course palette) instead of tableau colours in {offenders}"
