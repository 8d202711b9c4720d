"""High-dimensional geometry of point clouds, computed in tiles.

The n × n matrix of distances of n = 10⁵ points would take 40 GB in float32;
the extremes over pairs sweep it in tiles of one reused 64 MB buffer, so
memory stays bounded beyond the points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._checks import check_generator, check_int, check_points

__all__ = [
    "PairExtreme",
    "TILE_BYTES",
    "max_inner_product",
    "min_pairwise_distance",
    "pairwise_distances",
    "sample_pair_inner_products",
    "inner_product_density",
]


@dataclass(frozen=True)
class PairExtreme:
    """An extreme value over pairs i < j and the pair (i, j) that attains it."""

    value: float
    i: int
    j: int


TILE_BYTES = 64 << 20  # one reused tile buffer: rows × cols entries of x's dtype


def _tiled_extreme(x: torch.Tensor, rows: int, mode: str) -> PairExtreme:
    """The one pairwise kernel: max inner product (``"max_inner"``), min squared distance (``"min_dist"``) or
    min distance from the differences (``"min_dist_exact"``) over pairs i < j.

    The upper triangle of the n×n matrix is swept in tiles of ``rows`` rows and as many columns as fit in
    ``TILE_BYTES`` (at least ``rows``), computed into ONE reused buffer (no fresh allocation per tile;
    memory O(TILE_BYTES) beyond x); each tile is reduced with ``amin``/``amax`` (no index bookkeeping in
    the hot loop); only the best row and the tile it came from are kept, and the partner j of the best pair
    is found at the end from that one row. ``"min_dist"`` computes ‖x_j‖² − 2⟨x_i, x_j⟩ in one fused product
    (``addmm``) and adds ‖x_i‖² to the tile's row minima; its work is n²d flop, at the machine's
    matrix-multiply rate.
    """
    n = x.shape[0]
    rows = max(1, min(rows, n))
    cols = min(n, max(rows, TILE_BYTES // (x.element_size() * rows)))
    sq = (x * x).sum(dim=1)
    buf = (
        torch.empty(rows, cols, dtype=x.dtype, device=x.device)
        if mode != "min_dist_exact"
        else None
    )
    lower = torch.ones(
        rows, rows, dtype=torch.bool, device=x.device
    ).tril()  # pairs with j <= i
    maximize = mode == "max_inner"
    fill = float("-inf") if maximize else float("inf")
    best, best_row, best_tile = fill, 0, 0
    for i0 in range(0, n - 1, rows):
        i1 = min(i0 + rows, n)
        xi = x[i0:i1]
        for j0 in range(i0, n, cols):
            j1 = min(j0 + cols, n)
            xj = x[j0:j1]
            if (
                buf is None
            ):  # ‖x_i − x_j‖ from the differences: no cancellation (rare path)
                blk = torch.cdist(xi, xj, compute_mode="donot_use_mm_for_euclid_dist")
            else:
                blk = buf[: i1 - i0, : j1 - j0]
                if maximize:
                    torch.mm(xi, xj.T, out=blk)
                else:
                    torch.addmm(sq[None, j0:j1], xi, xj.T, alpha=-2, out=blk)
            if j0 == i0:  # the diagonal block: only j > i counts
                b = min(i1 - i0, j1 - j0)
                blk[:, :b].masked_fill_(lower[: i1 - i0, :b], fill)
            if maximize:
                best_in = blk.amax(dim=1)
            else:
                best_in = blk.amin(dim=1)
                if mode == "min_dist":
                    best_in = best_in + sq[i0:i1]
            r = int(best_in.argmax()) if maximize else int(best_in.argmin())
            value = float(best_in[r])
            if (value > best) if maximize else (value < best):
                best, best_row, best_tile = value, i0 + r, j0
    tile = cols
    # the partner of the best row, from that row alone
    i, j0 = best_row, best_tile
    xj = x[j0 : min(j0 + tile, n)]
    if maximize:
        row = xj @ x[i]
    elif mode == "min_dist":
        row = sq[j0 : j0 + xj.shape[0]] - 2 * (xj @ x[i])
    else:
        row = torch.cdist(
            x[i : i + 1], xj, compute_mode="donot_use_mm_for_euclid_dist"
        )[0]
    cols = torch.arange(j0, j0 + xj.shape[0], device=x.device)
    row = row.masked_fill(cols <= i, float("-inf") if maximize else float("inf"))
    j = j0 + (int(row.argmax()) if maximize else int(row.argmin()))
    return PairExtreme(best, i, j)


def _float64_distance(x: torch.Tensor, i: int, j: int) -> float:
    """‖x_i − x_j‖ in float64 (on the CPU where the device has no float64, e.g. MPS)."""
    a, b = x[i], x[j]
    if a.device.type == "mps":
        a, b = a.cpu(), b.cpu()
    return float((a.to(torch.float64) - b.to(torch.float64)).norm())


def max_inner_product(x: torch.Tensor, chunk: int = 1024) -> PairExtreme:
    """max_{i<j} ⟨x_i, x_j⟩ over the rows of ``x``, in tiles of ``chunk`` rows.

    Memory O(``TILE_BYTES``) beyond x. For n points uniform on S^{d-1} the cap bound gives
    P(⟨x_i, x_j⟩ ≥ s) ≤ exp(−d s²/2), so by a union bound over pairs this is
    below s with probability ≥ 1 − n² exp(−d s²/2)/2.
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    return _tiled_extreme(x, chunk, "max_inner")


def min_pairwise_distance(x: torch.Tensor, chunk: int = 1024) -> PairExtreme:
    """min_{i<j} ‖x_i − x_j‖ over the rows of ``x``, in tiles of ``chunk`` rows.

    Computed from ‖a − b‖² = ‖a‖² + ‖b‖² − 2⟨a, b⟩ tile by tile (matrix-multiply speed), then the winning
    pair's distance is recomputed from the difference in float64. Memory 64 MB beyond x:
    n = 10⁵ points never need the 40 GB full matrix.
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    xc = x - x.mean(
        dim=0
    )  # distances are translation invariant; centring shrinks the cancellation error
    best = _tiled_extreme(xc, chunk, "min_dist")
    # ‖a‖² + ‖b‖² − 2⟨a, b⟩ carries an absolute error ~ eps · max‖x‖²: unless the minimum is far above
    # it (close pairs: low dimension, many points), the pair found may be the wrong one, so search again
    # from the differences themselves (exact, but without the matrix-multiply speed).
    noise_floor = 64 * torch.finfo(x.dtype).eps * float((xc * xc).sum(dim=1).max())
    if best.value <= 1e3 * noise_floor:
        best = _tiled_extreme(xc, chunk, "min_dist_exact")
    return PairExtreme(_float64_distance(x, best.i, best.j), best.i, best.j)


def pairwise_distances(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """The full matrix ‖x_i − y_j‖ (``torch.cdist``); for small n only."""
    x = check_points("x", x, min_points=1)
    y = x if y is None else check_points("y", y, min_points=1)
    if y.shape[1] != x.shape[1]:
        raise ValueError(f"y must have {x.shape[1]} columns like x, got {y.shape[1]}")
    return torch.cdist(x, y)


def sample_pair_inner_products(
    x: torch.Tensor, n_pairs: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """⟨x_i, x_j⟩ for ``n_pairs`` random pairs i ≠ j (with replacement over pairs).

    On S^{d-1} these have mean 0 and variance 1/d, and (1 + t)/2 ~
    Beta((d−1)/2, (d−1)/2).
    """
    x = check_points("x", x)
    n_pairs = check_int("n_pairs", n_pairs, minimum=1)
    check_generator("generator", generator)
    n = x.shape[0]
    g = (
        generator
        if generator is not None
        else torch.Generator(device=x.device).manual_seed(0)
    )
    i = torch.randint(0, n, (n_pairs,), generator=g, device=g.device).to(x.device)
    offset = torch.randint(1, n, (n_pairs,), generator=g, device=g.device).to(x.device)
    j = (i + offset) % n  # j ≠ i always
    return (x[i] * x[j]).sum(dim=1)


def inner_product_density(t: torch.Tensor, d: int) -> torch.Tensor:
    """Exact density of t = ⟨x, u⟩ for x uniform on S^{d-1} and a fixed unit vector u.

    p_d(t) = (1 − t²)^{(d−3)/2} / B(1/2, (d−1)/2) on (−1, 1), zero outside;
    equivalently (1 + t)/2 ~ Beta((d−1)/2, (d−1)/2), so E t = 0 and
    Var t = 1/d. For two independent uniform points it is the law of
    ⟨x_i, x_j⟩ (condition on x_j). the memorization-model chapter.
    """
    d = check_int("d", d, minimum=2)
    t = torch.as_tensor(t, dtype=torch.float64)
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError("t contains NaN or infinite values")
    a = (d - 1) / 2
    log_beta = math.lgamma(0.5) + math.lgamma(a) - math.lgamma(a + 0.5)
    inside = t.abs() < 1
    safe = torch.where(inside, t, torch.zeros_like(t))
    dens = torch.exp((a - 1) * torch.log1p(-safe * safe) - log_beta)
    return torch.where(inside, dens, torch.zeros_like(t))
