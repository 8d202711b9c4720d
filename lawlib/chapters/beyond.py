"""Beyond the law: the n^{1/d} mechanism, other architectures, other norms.

The n^{1/d} law for any interpolator (Wu–Huang–Zhang) in elementary form:

* :func:`sample_cube`, :func:`cube_grid` — random and best-spread points of [0, 1]^d.
* :func:`pigeonhole_distance` — any n points of [0, 1]^d have a pair within √d / m, m^d
  < n.
* :func:`cell_label_variance`, :func:`cube_fit_lipschitz_bound` — every L-Lipschitz f
  has (1/n) Σ (f(x_i) − y_i)² ≥ W_m / n − 4 L √d / m, with W_m the within-cell sum of
  squares of the labels over the m^d cells of side 1/m; so fitting well forces L ≳ m.
* :func:`unit_ball_volume`, :func:`nearest_neighbour_distances`,
  :func:`median_min_distance_uniform`, :func:`median_nn_distance_uniform` — the n^{-2/d}
  (closest pair) and n^{-1/d} (typical neighbour) scales of uniform random points;
  :func:`opposite_label_distance` (2 / it is McShane's constant for labels ±1).

Starting points for the open directions:

* :func:`conv_net` — a small convolutional network on vectors seen as 1-D signals or
  images.
* :func:`width_for_parameters` — the width that gives an architecture a target parameter
  count.
* :func:`flip_radii` — the smallest perturbation PGD finds that changes the sign of f at
  a test point.
* :func:`rbf_mean_square_gradient` — E‖∇f‖² of an RBF memorizer under Gaussian inputs,
  exactly: it can be tiny while Lip(f) is huge, so averages of the gradient cannot carry
  a law of robustness.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from .._checks import (
    check_choice,
    check_generator,
    check_int,
    check_labels,
    check_points,
    check_positive,
)
from ..attacks import minimal_perturbation
from ..constructions import RBFMemorizer
from ..data import make_generator
from ..device import exact_dtype, float64_device
from ..geometry import nearest
from ..lipschitz import batch_values
from ..models import count_parameters

__all__ = [
    "cell_label_variance",
    "conv_net",
    "cube_fit_lipschitz_bound",
    "cube_grid",
    "flip_radii",
    "median_min_distance_uniform",
    "median_nn_distance_uniform",
    "nearest_neighbour_distances",
    "opposite_label_distance",
    "pigeonhole_distance",
    "rbf_mean_square_gradient",
    "sample_cube",
    "unit_ball_volume",
    "width_for_parameters",
]

Function = Callable[[torch.Tensor], torch.Tensor]

_MAX_GRID = 10**7


# ---------------------------------------------------------------------------
# the n^{1/d} mechanism


def sample_cube(
    n: int,
    d: int,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``n`` points i.i.d. uniform on the cube [0, 1]^d, shape (n, d).

    The seed is ``generator`` if given, else ``seed`` (default 0).
    """
    n = check_int("n", n, minimum=1)
    d = check_int("d", d, minimum=1)
    check_generator("generator", generator)
    g = (
        generator
        if generator is not None
        else make_generator(0 if seed is None else seed, device)
    )
    return torch.rand(n, d, generator=g, device=g.device, dtype=dtype)


def cube_grid(
    m: int,
    d: int,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """The m^d points (i_1, …, i_d)/(m − 1), i_k ∈ {0, …, m − 1}, of the regular grid of
    [0, 1]^d.

    Neighbouring points are 1/(m − 1) apart, the minimum distance. With labels ±1
    that are not all equal, the smallest Lipschitz constant of an interpolant is
    exactly 2(m − 1) = 2(n^{1/d} − 1): some pair of neighbours has different labels
    (the grid graph is connected) and no pair is closer. Rows in lexicographic
    order, last coordinate fastest. At most 10⁷ points.
    """
    m = check_int("m", m, minimum=2)
    d = check_int("d", d, minimum=1)
    if m**d > _MAX_GRID:
        raise ValueError(
            f"m**d must be at most {_MAX_GRID:,} points, got m = {m}, d = {d}"
        )
    # On MPS (no float64) the grid is float32: i/(m - 1) is then within 6e-8 relatively
    # of the float64 grid,
    # so the minimum distance 1/(m - 1) and the constant 2(m - 1) read from it are exact
    # to about 1e-7.
    axis = torch.arange(m, device=device, dtype=exact_dtype(device, dtype)) / (m - 1)
    if d == 1:
        return axis[:, None]
    return torch.cartesian_prod(*([axis] * d))


def _cells_per_side(n: int, d: int) -> int:
    """The largest integer m with m^d < n (n ≥ 2), in exact integer arithmetic."""
    m = max(1, int(round((n - 1) ** (1.0 / d))))
    while (m + 1) ** d < n:
        m += 1
    while m > 1 and m**d >= n:
        m -= 1
    return m


def pigeonhole_distance(n: int, d: int) -> float:
    """√d / m with m the largest integer such that m^d < n.

    Any n points of [0, 1]^d have two at distance at most this. Cut the cube into
    m^d cells of side 1/m; there are fewer cells than points, so one cell holds two
    of them, and a cell has diameter √d/m. Since m ≥ n^{1/d} − 1, it is
    O(√d n^{-1/d}). In dimension 1 it is 1/(n − 1), attained by equally spaced points.
    """
    n = check_int("n", n, minimum=2)
    d = check_int("d", d, minimum=1)
    return math.sqrt(d) / _cells_per_side(n, d)


def _check_cube_points(x) -> torch.Tensor:
    x = check_points("x", x, min_points=1)
    if bool((x < 0).any()) or bool((x > 1).any()):
        raise ValueError("x must lie in the cube [0, 1]^d")
    return x


def cell_label_variance(x: torch.Tensor, y: torch.Tensor, m: int) -> float:
    """W_m = Σ_cells Σ_{i in cell} (y_i − ȳ_cell)², the cells being the m^d cubes of
    side 1/m.

    The squared error that the best function constant on each cell leaves. Point
    x_i lies in the cell with index ⌊m x_i⌋ (coordinates equal to 1 go to the last
    cell). For labels ±1 independent of x with mean 0, E W_m = n − (number of
    non-empty cells), since a cell with N points has E Σ (y_i − ȳ)² = N − 1.
    """
    x = _check_cube_points(x)
    x = x.to(float64_device(x.device))  # float64 sums: on MPS (no float64) on the CPU
    y = check_labels("y", y, x.shape[0]).to(x.device, torch.float64)
    m = check_int("m", m, minimum=1)
    idx = (x.to(torch.float64) * m).floor().clamp_(0, m - 1).long()
    # one integer key per cell, (i_1, …, i_d) read in base m; unique() relabels the keys
    # 0, 1, …
    if x.shape[1] * math.log2(m) < 62:
        key = (idx * (m ** torch.arange(x.shape[1], device=x.device))).sum(dim=1)
        _, cell = torch.unique(key, return_inverse=True)
    else:  # the key would overflow int64: compare rows instead
        _, cell = torch.unique(idx, dim=0, return_inverse=True)
    cells = int(cell.max()) + 1
    count = torch.zeros(cells, dtype=torch.float64, device=x.device).index_add_(
        0, cell, torch.ones_like(y)
    )
    total = torch.zeros_like(count).index_add_(0, cell, y)
    return float((y * y).sum() - (total * total / count).sum())


def cube_fit_lipschitz_bound(
    x: torch.Tensor, y: torch.Tensor, mse: float, ms: Sequence[int]
) -> tuple[float, int]:
    """A lower bound on Lip(f) for any f that fits labels in [−1, 1] to mean squared
    error ``mse``.

    For every m ≥ 1 and every L-Lipschitz f on [0, 1]^d,

        (1/n) Σ_i (f(x_i) − y_i)² ≥ W_m / n − 4 L √d / m          (W_m:
        :func:`cell_label_variance`).

    (Clip f to [−1, 1], which keeps it L-Lipschitz and only lowers the error; in a
    cell, f stays within L√d/m of its value v at one point of the cell, and
    (v − y_i + e)² ≥ (v − y_i)² − 4|e| because |v − y_i| ≤ 2; the best constant on
    a cell is the mean label.) Hence a fit to error ``mse`` forces

        L ≥ max_m m (W_m / n − mse) / (4 √d).

    Returns the bound and the m attaining it (0 and the first m when no m gives a
    positive bound). Labels outside [−1, 1] raise ``ValueError`` naming ``y``.
    """
    x = _check_cube_points(x)
    y = check_labels("y", y, x.shape[0])
    if bool((y.abs() > 1).any()):
        raise ValueError("y must lie in [-1, 1]")
    mse = check_positive("mse", mse, allow_zero=True)
    ms = [check_int(f"ms[{i}]", m, minimum=1) for i, m in enumerate(ms)]
    if not ms:
        raise ValueError("ms must list at least one number of cells per side")
    n, d = x.shape
    best, best_m = 0.0, ms[0]
    for m in ms:
        bound = m * (cell_label_variance(x, y, m) / n - mse) / (4 * math.sqrt(d))
        if bound > best:
            best, best_m = bound, m
    return best, best_m


def unit_ball_volume(d: int) -> float:
    """ω_d = π^{d/2} / Γ(d/2 + 1), the volume of the unit ball of R^d."""
    d = check_int("d", d, minimum=1)
    return math.exp(0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1))


def median_min_distance_uniform(n: int, d: int, pairs_fraction: float = 1.0) -> float:
    """The Poisson prediction of the median closest-pair distance of n uniform points in
    a region of volume 1.

    The expected number of pairs closer than r is about λ = f · C(n, 2) · ω_d r^d (f =
    ``pairs_fraction`` of the pairs counted, e.g. 1/2 for pairs with different random
    signs), ignoring the boundary; taking the count to be Poisson, P(min > r) ≈ e^{−λ},
    whose median is r = (ln 2 / (f C(n, 2) ω_d))^{1/d} ∝ n^{−2/d}. In dimension 1 the
    exact median is (1 − 2^{−1/n})/(n − 1), which this matches to first order.
    """
    n = check_int("n", n, minimum=2)
    d = check_int("d", d, minimum=1)
    f = check_positive("pairs_fraction", pairs_fraction)
    if f > 1:
        raise ValueError(f"pairs_fraction must be <= 1, got {f}")
    return (math.log(2) / (f * n * (n - 1) / 2 * unit_ball_volume(d))) ** (1.0 / d)


def median_nn_distance_uniform(n: int, d: int) -> float:
    """The Poisson prediction of the median nearest-neighbour distance of n uniform
    points of a region of volume 1.

    A point's nearest neighbour is farther than r when none of the other n − 1
    points falls in its ball of radius r: P ≈ exp(−(n − 1) ω_d r^d), ignoring the
    boundary; the median is (ln 2 / ((n − 1) ω_d))^{1/d} ∝ n^{−1/d}.
    """
    n = check_int("n", n, minimum=2)
    d = check_int("d", d, minimum=1)
    return (math.log(2) / ((n - 1) * unit_ball_volume(d))) ** (1.0 / d)


def opposite_label_distance(
    x: torch.Tensor, y: torch.Tensor, p: float = 2.0, chunk: int = 1024
) -> float:
    """min { ‖x_i − x_j‖_p : y_i ≠ y_j }, in blocks of ``chunk`` rows, p ∈ [1, ∞].

    For labels ±1 the smallest Lipschitz constant, for the ℓ_p distance, of a function
    that interpolates them is exactly 2 / this distance: McShane's extension works in
    any metric space (for p = 2 it is :func:`lawlib.max_pairwise_slope`), computed here
    from the n₊ × n₋ cross distances only. Labels must take exactly two values
    (``ValueError`` naming ``y`` otherwise). :func:`lawlib.geometry.nearest` between the
    two classes (tiles of ``chunk`` rows).
    """
    x = check_points("x", x)
    y = check_labels("y", y, x.shape[0])
    chunk = check_int("chunk", chunk, minimum=1)
    values = torch.unique(y)
    if values.numel() != 2:
        raise ValueError(
            f"y must take exactly two distinct values, got {values.numel()}"
        )
    a, b = x[y == values[0]], x[y == values[1]]
    return float(nearest(a, b, 1, p=p, chunk=chunk).distances.min())


def nearest_neighbour_distances(x: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """min_{j ≠ i} ‖x_i − x_j‖ for every row i of ``x`` (shape (n,)).

    :func:`lawlib.geometry.nearest` with k = 1 (tiles of ``chunk`` rows; exact:
    the winners are measured again from the differences in float64).
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    return nearest(x, k=1, chunk=chunk).distances[:, 0]


# ---------------------------------------------------------------------------
# architectures


def _reinit(model: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """PyTorch's default law for Linear and Conv layers, U(−1/√fan_in, 1/√fan_in), drawn
    from ``generator``.
    """
    if generator is None:
        return model
    for layer in model.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            bound = 1.0 / math.sqrt(layer.weight[0].numel())
            with torch.no_grad():
                for p in (layer.weight, layer.bias):
                    if p is not None:
                        u = torch.rand(
                            p.shape, generator=generator, device=generator.device
                        )
                        p.copy_((2 * u - 1) * bound)
    return model


def conv_net(
    d: int,
    channels: int,
    *,
    layers: int = 2,
    kernel_size: int = 5,
    image: bool = False,
    generator: torch.Generator | None = None,
) -> nn.Sequential:
    """A ReLU convolutional network on vectors x ∈ R^d seen as a signal of length d or a
    √d × √d image.

    x → reshape to (1, d) [or (1, s, s), s = √d] → ``layers`` × (Conv(``kernel_size``,
    ``channels`` out, zero padding that keeps the size) → ReLU) → flatten →
    Linear(channels · d, 1). Parameters: c(k + 1) + (layers − 1) c(ck + 1) + cd + 1
    with k = kernel_size (k² for images). The weights of a convolution are shared
    across positions, so the convolution weights grow like c² k, independent of d;
    the linear readout adds cd + 1. The law of robustness counts exactly these P
    numbers. Odd ``kernel_size`` only; ``image`` needs d a
    perfect square. Weights from ``generator`` when given (PyTorch's default law).
    """
    d = check_int("d", d, minimum=2)
    channels = check_int("channels", channels, minimum=1)
    layers = check_int("layers", layers, minimum=1)
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    if kernel_size % 2 == 0:
        raise ValueError(
            "kernel_size must be odd (so the padding keeps the size), got "
            f"{kernel_size}"
        )
    if not isinstance(image, bool):
        raise ValueError(f"image must be True or False, got {image!r}")
    check_generator("generator", generator)
    if image:
        s = math.isqrt(d)
        if s * s != d:
            raise ValueError(f"d must be a perfect square for image=True, got {d}")
        shape, conv = (1, s, s), nn.Conv2d
    else:
        shape, conv = (1, d), nn.Conv1d
    mods: list[nn.Module] = [nn.Unflatten(1, shape)]
    c_in = 1
    for _ in range(layers):
        mods += [conv(c_in, channels, kernel_size, padding=kernel_size // 2), nn.ReLU()]
        c_in = channels
    mods += [nn.Flatten(1), nn.Linear(channels * d, 1), nn.Flatten(0)]
    return _reinit(nn.Sequential(*mods), generator)


def width_for_parameters(
    build: Callable[[int], nn.Module], target: int, max_width: int = 100_000
) -> int:
    """The width w ≥ 1 whose model ``build(w)`` has the parameter count closest to
    ``target``.

    ``build`` maps a width to a model whose parameter count
    (:func:`lawlib.count_parameters`) increases with the width. Models are built on
    the ``meta`` device, so nothing is allocated. Ties go to the smaller width.
    """
    if not callable(build):
        raise ValueError(
            f"build must be a callable width -> model, got {type(build).__name__}"
        )
    target = check_int("target", target, minimum=1)
    max_width = check_int("max_width", max_width, minimum=1)

    def count(w: int) -> int:
        with torch.device("meta"):
            return count_parameters(build(w))

    lo, hi = 1, max_width
    if count(hi) < target:
        return hi
    while lo < hi:  # smallest w with count(w) >= target
        mid = (lo + hi) // 2
        if count(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    if lo > 1 and target - count(lo - 1) <= count(lo) - target:
        return lo - 1
    return lo


# ---------------------------------------------------------------------------
# other norms


def flip_radii(
    f: Function,
    z: torch.Tensor,
    *,
    norm: str = "l2",
    max_radius: float = 2.0,
    steps: int = 40,
    bisection_steps: int = 12,
) -> torch.Tensor:
    """Per row z_t, the smallest perturbation PGD finds that changes the sign of the
    real-valued f.

    The classifier sign f is written as two logits (−f, f) and attacked with
    :func:`lawlib.minimal_perturbation` (no pixel box), so each entry is an *upper*
    bound on the distance from z_t to the decision boundary {f = 0}, in the ``norm``
    ("l2" or "linf"); ``inf`` where nothing within ``max_radius`` flips it. A
    certificate bounds it from below: it is at least |f(z_t)| / Lip(f) (Lip for the
    same norm). For an affine f(x) = ⟨w, x⟩ + b it is |f(z_t)| / ‖w‖_* (dual norm),
    up to the bisection tolerance ``max_radius`` / 2^``bisection_steps``.
    """
    z = check_points("z", z, min_points=1)
    norm = check_choice("norm", norm, ("l2", "linf"))
    max_radius = check_positive("max_radius", max_radius)

    def logits(u: torch.Tensor) -> torch.Tensor:
        v = batch_values(f, u)
        return torch.stack([-v, v], dim=1)

    with torch.no_grad():
        labels = (batch_values(f, z) > 0).long()
    return minimal_perturbation(
        logits,
        z,
        labels,
        norm=norm,
        max_radius=max_radius,
        steps=steps,
        bisection_steps=bisection_steps,
        box=None,
    ).norms


def rbf_mean_square_gradient(rbf: nn.Module, d: int) -> float:
    """E‖∇f(z)‖² exactly, for the RBF memorizer ``rbf`` (radius r, centres c_i ∈ R^k)
    and z ~ N(0, I_k/d).

    In the open ball of radius r around c_i the gradient of the hat bump has norm
    |y_i|/r, and outside every ball it is 0 (the balls are disjoint; the spheres
    have measure 0). With z = g/√d, g ~ N(0, I_k), ‖z − c_i‖ < r iff
    ‖g − √d c_i‖² < d r², a noncentral χ² with k degrees of freedom and
    noncentrality d‖c_i‖². So

        E‖∇f(z)‖² = Σ_i (y_i / r)² · P(χ²_k(d‖c_i‖²) < d r²).

    It is the law of z_{1:k} when z ~ N(0, I_D/d) in any D ≥ k: the value for
    f(x) = rbf(x_{1:k}), the RBF memorizer of a coordinate projection.
    """
    if not isinstance(rbf, RBFMemorizer):
        raise ValueError(f"rbf must be a lawlib.RBFMemorizer, got {type(rbf).__name__}")
    d = check_int("d", d, minimum=1)
    c = rbf.centres.detach().double().cpu().numpy()
    y = rbf.labels.detach().double().cpu().numpy()
    r = rbf.radius
    from scipy import stats  # lazily: scipy.stats takes ~0.5 s to import

    prob = stats.ncx2.cdf(d * r * r, df=c.shape[1], nc=d * (c * c).sum(axis=1))
    return float(((y / r) ** 2 * prob).sum())
