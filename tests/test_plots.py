import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib.data import load_dataset  # noqa: E402
from course_lib.models import mlp  # noqa: E402
from course_lib.plots import (plot_decision_boundary, plot_history, plot_learning_curve,  # noqa: E402
                              plot_images, plot_regression_fit, show_as_jpeg, use_course_style)
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
    with pytest.raises(ValueError, match="metric must be 'loss' or 'acc'"):
        plot_history(h, "f1")
    with pytest.raises(ValueError, match="history is empty"):
        plot_history(History())


def test_plot_history_without_validation_draws_one_line():
    h = History()
    h.append(1, train_loss=1.0)
    assert len(plot_history(h).get_lines()) == 1


def test_learning_curve_and_regression_plots():
    ax = plot_learning_curve([10, 20, 40], [0.1, 0.2, 0.25], [0.6, 0.4, 0.3])
    assert _labelled(ax) and ax.get_xlabel() == "training-set size"
    with pytest.raises(ValueError, match="same non-zero length"):
        plot_learning_curve([1, 2], [0.1], [0.2, 0.3])
    x = torch.linspace(-1, 1, 10).unsqueeze(1)
    ax = plot_regression_fit(x, x**2, {"true": (x.squeeze().numpy(), (x**2).squeeze().numpy())}, ylim=(-1, 2))
    assert _labelled(ax) and ax.get_ylim() == (-1, 2)


def test_decision_boundary_matches_the_model():
    d = load_dataset("moons", n_samples=200)
    model = mlp(2, [16], 2)
    fit(model, d.train, epochs=5, lr=0.5, seed=0)
    ax = plot_decision_boundary(model, d.train.x, d.train.y, resolution=50)
    assert _labelled(ax) and len(ax.collections) >= 3  # filled regions + one scatter per class
    with pytest.raises(ValueError, match=r"need 2-D inputs of shape \(N, 2\)"):
        plot_decision_boundary(model, torch.randn(5, 3), torch.zeros(5))


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


def test_show_as_jpeg_returns_a_jpeg_and_closes_the_figure():
    fig = plot_images([torch.rand(3, 8, 8)])
    data = show_as_jpeg(fig)
    assert data[:3] == b"\xff\xd8\xff" and not plt.fignum_exists(fig.number)
