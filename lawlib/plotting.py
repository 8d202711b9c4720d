"""One figure style for the whole book.

Figures have an opaque white background, so they stay readable when the site
is switched to its dark theme, large labels for slides, and a colour-blind-safe
palette (Okabe–Ito). Every chapter calls :func:`use_style` once in its set-up
cell and :func:`figure` for each plot.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt

from ._checks import check_int

#: Okabe–Ito colours, safe for colour-blind readers and on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

STYLE: dict[str, Any] = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.dpi": 110,
    "savefig.dpi": 160,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9.5,
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


def use_style() -> None:
    """Apply the book's matplotlib style (all chapters)."""
    mpl.rcParams.update(STYLE)


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2, **kwargs: Any):
    """A figure with ``nrows × ncols`` axes of ``width × height`` inches each, in the book's style.

    Returns ``(fig, axes)`` like ``plt.subplots`` (a single Axes when 1×1).
    """
    ncols = check_int("ncols", ncols, minimum=1)
    nrows = check_int("nrows", nrows, minimum=1)
    use_style()
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), **kwargs)


def label(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Label both axes (every figure of the book has labelled axes) and optionally title it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
