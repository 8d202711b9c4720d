"""One figure style for the whole book.

Figures have an opaque white background, so they stay readable when the site
is switched to its dark theme, large labels for slides and phones, and a
colour-blind-safe palette (Okabe–Ito). In a notebook they are drawn as
"retina" PNGs (twice the pixels of their displayed size, so they stay sharp
on high-density screens and when a phone scales them down to its width).
Every chapter calls :func:`use_style` once in its set-up cell and
:func:`figure` for each plot.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ._checks import check_int

__all__ = [
    "PALETTE",
    "STYLE",
    "use_style",
    "figure",
    "label",
    "adversarial_examples_figure",
    "attack_widget_frame",
    "interact",
]

#: Okabe–Ito colours, safe for colour-blind readers and on white.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)

STYLE: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.dpi": 110,
    "savefig.dpi": 160,
    "savefig.bbox": "tight",
    "font.size": 11.5,
    "axes.titlesize": 12.5,
    "axes.labelsize": 12,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "image.cmap": "viridis",
}


def _retina_inline_figures() -> None:
    """In IPython/Jupyter, show figures as PNGs at twice their display resolution.

    The inline backend then writes the PNG at ``2 × figure.dpi`` and tells the
    page its display size (half that), which the book's site keeps. Outside
    IPython (scripts, tests) nothing happens.
    """
    try:
        from IPython import get_ipython

        if get_ipython() is None:
            return
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    set_matplotlib_formats("retina")


def use_style() -> None:
    """Apply the book's matplotlib style (all chapters); in a notebook, also retina PNG
    output.
    """
    mpl.rcParams.update(STYLE)
    _retina_inline_figures()


def figure(
    ncols: int = 1,
    nrows: int = 1,
    width: float = 4.2,
    height: float = 3.2,
    **kwargs: Any,
):
    """A figure with ``nrows × ncols`` axes of ``width × height`` inches each, in the
    book's style.

    Returns ``(fig, axes)`` like ``plt.subplots`` (a single Axes when 1×1).
    """
    ncols = check_int("ncols", ncols, minimum=1)
    nrows = check_int("nrows", nrows, minimum=1)
    use_style()
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), **kwargs)


def label(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Label both axes (every figure of the book has labelled axes) and optionally title
    it.
    """
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def _array(a: Any) -> np.ndarray:
    """A float NumPy array from a tensor (any device) or an array-like."""
    if hasattr(a, "detach"):
        a = a.detach().cpu()
    return np.asarray(a, dtype=float)


def _image(ax, img: np.ndarray, side: int, **kwargs: Any) -> None:
    ax.imshow(img.reshape(side, side), **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def adversarial_examples_figure(
    x: Any,
    x_adv: Any,
    probs: Any,
    probs_adv: Any,
    *,
    side: int = 8,
    title: str | None = None,
):
    """Originals, adversarial images and their differences δ = x' − x, one column per
    example.

    ``x`` and ``x_adv`` are (m, side²) images with pixels in [0, 1] (drawn
    with more ink for larger values), ``probs`` and ``probs_adv`` the (m, K)
    class probabilities at each; the titles give the prediction and its
    probability, and ‖δ‖₂. δ is drawn on a red (increase) / blue (decrease)
    scale from −0.5 to 0.5. Returns ``(fig, axes)`` with axes of shape (3, m).
    """
    x, x_adv, probs, probs_adv = (
        _array(x),
        _array(x_adv),
        _array(probs),
        _array(probs_adv),
    )
    side = check_int("side", side, minimum=1)
    m = x.shape[0]
    if x.ndim != 2 or x.shape[1] != side * side or x_adv.shape != x.shape:
        raise ValueError(
            f"x and x_adv must both have shape (m, {side * side}), got {x.shape} and "
            f"{x_adv.shape}"
        )
    if probs.ndim != 2 or probs.shape[0] != m or probs_adv.shape != probs.shape:
        raise ValueError(
            f"probs and probs_adv must both have shape ({m}, K), got {probs.shape} and "
            f"{probs_adv.shape}"
        )
    fig, axes = figure(ncols=m, nrows=3, width=1.55, height=1.75, squeeze=False)
    for col in range(m):
        delta = x_adv[col] - x[col]
        _image(axes[0, col], x[col], side, cmap="gray_r", vmin=0, vmax=1)
        axes[0, col].set_title(
            f"{probs[col].argmax()} ({probs[col].max():.0%})", fontsize=10
        )
        _image(axes[1, col], x_adv[col], side, cmap="gray_r", vmin=0, vmax=1)
        axes[1, col].set_title(
            f"→ {probs_adv[col].argmax()} ({probs_adv[col].max():.0%})", fontsize=10
        )
        _image(axes[2, col], delta, side, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
        axes[2, col].set_title(f"‖δ‖ = {np.linalg.norm(delta):.2f}", fontsize=10)
        label(axes[2, col], "pixel column", "")
    for row, name in enumerate(["original", "adversarial", "difference δ"]):
        label(axes[row, 0], "pixel column" if row == 2 else "", name)
    if title:
        fig.suptitle(title)
    return fig, axes


def attack_widget_frame(
    image: Any,
    original: Any,
    probs: Any,
    true_class: int,
    radius: float,
    *,
    side: int = 8,
):
    """One frame of the adversarial-examples chapter's attack widget: the attacked
    image, δ = image − original, the class probabilities.

    The bar of ``true_class`` is drawn in orange (``PALETTE[1]``), the others
    in blue; the first panel's title gives the radius and the prediction
    (argmax of ``probs``). Returns ``(fig, axes)`` with three axes.
    """
    image, original, probs = (
        _array(image).ravel(),
        _array(original).ravel(),
        _array(probs).ravel(),
    )
    side = check_int("side", side, minimum=1)
    true_class = check_int("true_class", true_class, minimum=0)
    if image.shape != (side * side,) or original.shape != image.shape:
        raise ValueError(
            f"image and original must have {side * side} pixels, got {image.shape} and "
            f"{original.shape}"
        )
    if true_class >= probs.shape[0]:
        raise ValueError(
            f"true_class must be < {probs.shape[0]} (the number of classes), got "
            f"{true_class}"
        )
    fig, axes = figure(ncols=3, width=2.6, height=2.6)
    _image(axes[0], image, side, cmap="gray_r", vmin=0, vmax=1)
    _image(axes[1], image - original, side, cmap="RdBu_r", vmin=-0.5, vmax=0.5)
    colors = [
        PALETTE[1] if c == true_class else PALETTE[0] for c in range(probs.shape[0])
    ]
    axes[2].bar(range(probs.shape[0]), probs, color=colors)
    label(
        axes[0],
        "pixel column",
        "pixel row",
        f"r = {radius:.2f}: predicted {probs.argmax()}",
    )
    label(axes[1], "pixel column", "pixel row", "perturbation")
    label(axes[2], "class", "probability", f"true class {true_class} in orange")
    axes[2].set_xticks(range(probs.shape[0]))
    axes[2].set_ylim(0, 1)
    return fig, axes


def interact(function: Callable[..., Any], **controls: Any) -> Any:
    """Show ``function`` with live controls, as ``ipywidgets.interact(function,
    **controls)`` does.

    Where the environment sets ``LAWLIB_WIDGETS=0`` (the book's build and tests do) it
    calls ``function(**{name: control.value})`` once instead: the page shows the
    controls' initial state without live widgets, and the notebook runner has no
    widget messages to wait for (nbclient can block on them, jupyter/nbclient#312).
    """
    if not callable(function):
        raise ValueError(f"function must be callable, got {function!r}")
    if os.environ.get("LAWLIB_WIDGETS", "1").strip() == "0":
        values = {name: getattr(c, "value", c) for name, c in controls.items()}
        return function(**values)
    import ipywidgets

    return ipywidgets.interact(function, **controls)
