"""Tests of lawlib.plotting: the figure grid, the style, labels."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba

import lawlib
from lawlib import PALETTE, figure, label, use_style
from lawlib.plotting import STYLE, adversarial_examples_figure, attack_widget_frame


@pytest.fixture(autouse=True)
def restore_rcparams():
    with mpl.rc_context():
        yield
    plt.close("all")


def test_single_axes():
    fig, ax = figure()
    assert isinstance(ax, Axes)
    assert tuple(fig.get_size_inches()) == pytest.approx((4.2, 3.2))


@given(ncols=st.integers(1, 4), nrows=st.integers(1, 3))
def test_axes_grid_shape_and_size(ncols, nrows):
    fig, axes = figure(ncols, nrows, width=2.0, height=1.5)
    try:
        if ncols == nrows == 1:
            assert isinstance(axes, Axes)
        else:
            assert isinstance(axes, np.ndarray)
            expected = (
                (ncols,) if nrows == 1 else ((nrows,) if ncols == 1 else (nrows, ncols))
            )
            assert axes.shape == expected
            assert all(isinstance(a, Axes) for a in axes.flat)
        assert tuple(fig.get_size_inches()) == pytest.approx((2.0 * ncols, 1.5 * nrows))
    finally:
        plt.close(fig)


def test_figure_passes_keyword_arguments():
    fig, axes = figure(2, sharey=True)
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])


def test_use_style_sets_white_background_and_palette():
    mpl.rcParams["figure.facecolor"] = "black"
    mpl.rcParams["axes.facecolor"] = "black"
    use_style()
    assert to_rgba(mpl.rcParams["figure.facecolor"]) == (1.0, 1.0, 1.0, 1.0)
    assert to_rgba(mpl.rcParams["axes.facecolor"]) == (1.0, 1.0, 1.0, 1.0)
    assert to_rgba(mpl.rcParams["savefig.facecolor"]) == (1.0, 1.0, 1.0, 1.0)
    assert mpl.rcParams["savefig.transparent"] is False
    colors = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    assert [c.upper() for c in colors] == [c.upper() for c in PALETTE]
    for key in STYLE:
        assert key in mpl.rcParams


def test_figure_applies_the_style():
    mpl.rcParams["figure.facecolor"] = "black"
    fig, ax = figure()
    assert to_rgba(fig.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    assert to_rgba(ax.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)


def test_palette_is_eight_distinct_hex_colours():
    assert len(PALETTE) == 8 and len(set(PALETTE)) == 8
    for c in PALETTE:
        assert c.startswith("#") and len(c) == 7
        to_rgba(c)


def test_label():
    fig, ax = figure()
    label(ax, "width k", "Lipschitz constant", "a title")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "width k",
        "Lipschitz constant",
        "a title",
    )
    fig, ax = figure()
    label(ax, "x", "y")
    assert ax.get_title() == ""


@given(bad=st.integers(max_value=0))
def test_non_positive_grid_raises(bad):
    with pytest.raises(ValueError, match="ncols"):
        figure(ncols=bad)
    with pytest.raises(ValueError, match="nrows"):
        figure(nrows=bad)


@pytest.mark.parametrize("bad", [1.5, "2", None])
def test_non_integer_ncols_raises_naming_ncols(bad):
    with pytest.raises(ValueError, match="ncols"):
        figure(ncols=bad)


def _digits(m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((m, 64))
    x_adv = np.clip(x + rng.normal(0, 0.1, (m, 64)), 0, 1)
    p = rng.dirichlet(np.ones(10), size=m)
    q = rng.dirichlet(np.ones(10), size=m)
    return x, x_adv, p, q


def test_adversarial_examples_figure_draws_images_titles_and_labels():
    x, x_adv, p, q = _digits(4)
    fig, axes = adversarial_examples_figure(x, x_adv, p, q, title="a title")
    assert axes.shape == (3, 4)
    for col in range(4):
        shown = [ax.get_images()[0].get_array() for ax in axes[:, col]]
        assert np.allclose(shown[0], x[col].reshape(8, 8))
        assert np.allclose(shown[1], x_adv[col].reshape(8, 8))
        assert np.allclose(shown[2], (x_adv[col] - x[col]).reshape(8, 8))
        assert axes[0, col].get_title() == f"{p[col].argmax()} ({p[col].max():.0%})"
        assert axes[1, col].get_title() == f"→ {q[col].argmax()} ({q[col].max():.0%})"
        assert (
            axes[2, col].get_title()
            == f"‖δ‖ = {np.linalg.norm(x_adv[col] - x[col]):.2f}"
        )
        assert axes[2, col].get_xlabel() == "pixel column"
    assert [axes[r, 0].get_ylabel() for r in range(3)] == [
        "original",
        "adversarial",
        "difference δ",
    ]
    assert axes[0, 0].get_images()[0].get_clim() == (0, 1)
    assert axes[2, 0].get_images()[0].get_clim() == (-0.5, 0.5)
    assert fig._suptitle.get_text() == "a title"


def test_adversarial_examples_figure_accepts_tensors_and_one_column():
    torch = pytest.importorskip("torch")
    x, x_adv, p, q = (torch.as_tensor(a) for a in _digits(1, seed=1))
    fig, axes = adversarial_examples_figure(x, x_adv, p, q)
    assert axes.shape == (3, 1)
    assert fig._suptitle is None


def test_adversarial_examples_figure_bad_shapes_raise():
    x, x_adv, p, q = _digits(3)
    with pytest.raises(ValueError, match="x and x_adv"):
        adversarial_examples_figure(x[:, :60], x_adv[:, :60], p, q)
    with pytest.raises(ValueError, match="x and x_adv"):
        adversarial_examples_figure(x, x_adv[:2], p, q)
    with pytest.raises(ValueError, match="probs"):
        adversarial_examples_figure(x, x_adv, p[:2], q[:2])
    with pytest.raises(ValueError, match="side"):
        adversarial_examples_figure(x, x_adv, p, q, side=0)


def test_attack_widget_frame_by_hand():
    x, x_adv, p, _ = _digits(1, seed=2)
    fig, axes = attack_widget_frame(x_adv[0], x[0], p[0], true_class=3, radius=0.5)
    assert len(axes) == 3
    assert np.allclose(axes[0].get_images()[0].get_array(), x_adv[0].reshape(8, 8))
    assert np.allclose(
        axes[1].get_images()[0].get_array(), (x_adv[0] - x[0]).reshape(8, 8)
    )
    bars = axes[2].patches
    assert [b.get_height() for b in bars] == pytest.approx(list(p[0]))
    colours = [to_rgba(b.get_facecolor()) for b in bars]
    assert colours[3] == to_rgba(PALETTE[1])
    assert all(c == to_rgba(PALETTE[0]) for i, c in enumerate(colours) if i != 3)
    assert axes[0].get_title() == f"r = 0.50: predicted {p[0].argmax()}"
    assert axes[2].get_title() == "true class 3 in orange"
    assert axes[2].get_ylim() == (0, 1)
    assert (axes[2].get_xlabel(), axes[2].get_ylabel()) == ("class", "probability")


@given(true_class=st.integers(-3, 20))
def test_attack_widget_frame_bad_input_raises(true_class):
    x, x_adv, p, _ = _digits(1)
    if not 0 <= true_class < 10:
        with pytest.raises(ValueError, match="true_class"):
            attack_widget_frame(x_adv[0], x[0], p[0], true_class=true_class, radius=0.1)
    with pytest.raises(ValueError, match="image and original"):
        attack_widget_frame(x_adv[0, :10], x[0], p[0], true_class=0, radius=0.1)
    plt.close("all")


def test_interact_calls_once_at_the_initial_values_without_widgets(monkeypatch):
    """LAWLIB_WIDGETS=0 (the build and the tests): one call at the controls' values."""
    ipywidgets = pytest.importorskip("ipywidgets")
    seen = []
    monkeypatch.setenv("LAWLIB_WIDGETS", "0")
    out = lawlib.interact(
        lambda a, b: seen.append((a, b)) or "drawn",
        a=ipywidgets.IntSlider(value=3, min=0, max=5),
        b=ipywidgets.FloatSlider(value=0.25, min=0.0, max=1.0),
    )
    assert seen == [(3, 0.25)] and out == "drawn"


def test_interact_gives_live_widgets_by_default(monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    monkeypatch.delenv("LAWLIB_WIDGETS", raising=False)
    seen = []
    shown = lawlib.interact(
        lambda a: seen.append(a), a=ipywidgets.IntSlider(value=2, min=0, max=5)
    )
    assert seen == [2]  # interact draws the initial state once, too
    assert isinstance(shown.widget, ipywidgets.interactive)


def test_interact_bad_function_raises():
    with pytest.raises(ValueError, match="function"):
        lawlib.interact(3)
