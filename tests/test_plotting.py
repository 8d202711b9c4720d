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

from lawlib import PALETTE, figure, label, use_style
from lawlib.plotting import STYLE


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
            expected = (ncols,) if nrows == 1 else ((nrows,) if ncols == 1 else (nrows, ncols))
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
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("width k", "Lipschitz constant", "a title")
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
