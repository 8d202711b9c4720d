"""High-dimensional geometry of point clouds, computed in chunks.

The n × n matrix of distances of n = 10⁵ points would take 40 GB in float32;
these functions never hold more than a ``chunk × n`` block of it, so memory
stays at O(chunk · n). Chapters 1 and 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._checks import check_generator, check_int, check_points


@dataclass(frozen=True)
class PairExtreme:
    """An extreme value over pairs i < j and the pair (i, j) that attains it."""

    value: float
    i: int
    j: int


def _chunked_extreme(x: torch.Tensor, chunk: int, mode: str) -> PairExtreme:
    """Max inner product (``mode="max_inner"``) or min squared distance over pairs i < j.

    Row block [start, stop) is compared with rows start..n−1 only (the upper
    triangle), so the work is n²/2 inner products and the memory one
    (chunk × n) block, updated in place.
    """
    n = x.shape[0]
    best_val: float | None = None
    best_pair = (0, 1)
    sq = (x * x).sum(dim=1)
    for start in range(0, n - 1, chunk):
        stop = min(start + chunk, n)
        b = stop - start
        lower = torch.ones(b, b, dtype=torch.bool, device=x.device).tril()  # pairs with j <= i
        if mode == "max_inner":
            block = x[start:stop] @ x[start:].T  # (b, n − start) inner products
            block[:, :b].masked_fill_(lower, float("-inf"))
            v, flat = block.flatten().max(dim=0)
        elif mode == "min_dist_exact":  # ‖x_i − x_j‖ from the differences: no cancellation
            block = torch.cdist(x[start:stop], x[start:], compute_mode="donot_use_mm_for_euclid_dist")
            block[:, :b].masked_fill_(lower, float("inf"))
            v, flat = block.flatten().min(dim=0)
        else:
            # ‖x_j‖² − 2⟨x_i, x_j⟩ in one fused pass (addmm); ‖x_i‖² is added per row after the min.
            block = torch.addmm(sq[None, start:].expand(b, -1), x[start:stop], x[start:].T, alpha=-2)
            block[:, :b].masked_fill_(lower, float("inf"))
            row_min, row_arg = block.min(dim=1)
            row_min = row_min + sq[start:stop]
            v, r = row_min.min(dim=0)
            flat = int(r) * (n - start) + int(row_arg[r])
        value = float(v)
        if best_val is None or (value > best_val if mode == "max_inner" else value < best_val):
            best_val = value
            r, c = divmod(int(flat), n - start)
            best_pair = (start + r, start + c)
        del block
    assert best_val is not None
    return PairExtreme(best_val, *best_pair)


def max_inner_product(x: torch.Tensor, chunk: int = 1024) -> PairExtreme:
    """max_{i<j} ⟨x_i, x_j⟩ over the rows of ``x``, in chunks of ``chunk`` rows.

    Memory O(chunk · n). For n points uniform on S^{d-1} the cap bound gives
    P(⟨x_i, x_j⟩ ≥ s) ≤ exp(−d s²/2), so by a union bound over pairs this is
    below s with probability ≥ 1 − n² exp(−d s²/2)/2 (chapter 2).
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    return _chunked_extreme(x, chunk, "max_inner")


def min_pairwise_distance(x: torch.Tensor, chunk: int = 1024) -> PairExtreme:
    """min_{i<j} ‖x_i − x_j‖ over the rows of ``x``, in chunks of ``chunk`` rows.

    Computed from ‖a − b‖² = ‖a‖² + ‖b‖² − 2⟨a, b⟩ blockwise, then the winning
    pair's distance is recomputed directly for accuracy. Memory O(chunk · n):
    n = 10⁵ points never need the 40 GB full matrix. Chapters 1, 2, 4.
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    x = x - x.mean(dim=0)  # distances are translation invariant; centring shrinks the cancellation error
    best = _chunked_extreme(x, chunk, "min_dist")
    # ‖a‖² + ‖b‖² − 2⟨a, b⟩ carries an absolute error ~ eps · max‖x‖²: unless the minimum is far above
    # it (close pairs: low dimension, many points), the pair found may be the wrong one, so search again
    # from the differences themselves (exact, but without the matrix-multiply speed).
    noise_floor = 64 * torch.finfo(x.dtype).eps * float((x * x).sum(dim=1).max())
    if best.value <= 1e3 * noise_floor:
        best = _chunked_extreme(x, chunk, "min_dist_exact")
    exact = float((x[best.i] - x[best.j]).norm())
    return PairExtreme(exact, best.i, best.j)


def pairwise_distances(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """The full matrix ‖x_i − y_j‖ (``torch.cdist``); for small n only (figures of chapters 1–2)."""
    x = check_points("x", x, min_points=1)
    y = x if y is None else check_points("y", y, min_points=1)
    if y.shape[1] != x.shape[1]:
        raise ValueError(f"y must have {x.shape[1]} columns like x, got {y.shape[1]}")
    return torch.cdist(x, y)


def sample_pair_inner_products(x: torch.Tensor, n_pairs: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """⟨x_i, x_j⟩ for ``n_pairs`` random pairs i ≠ j (with replacement over pairs).

    On S^{d-1} these have mean 0 and variance 1/d, and (1 + t)/2 ~
    Beta((d−1)/2, (d−1)/2) (chapter 1).
    """
    x = check_points("x", x)
    n_pairs = check_int("n_pairs", n_pairs, minimum=1)
    check_generator("generator", generator)
    n = x.shape[0]
    g = generator if generator is not None else torch.Generator(device=x.device).manual_seed(0)
    i = torch.randint(0, n, (n_pairs,), generator=g, device=g.device).to(x.device)
    offset = torch.randint(1, n, (n_pairs,), generator=g, device=g.device).to(x.device)
    j = (i + offset) % n  # j ≠ i always
    return (x[i] * x[j]).sum(dim=1)


def inner_product_density(t: torch.Tensor, d: int) -> torch.Tensor:
    """Exact density of t = ⟨x, u⟩ for x uniform on S^{d-1} and a fixed unit vector u.

    p_d(t) = (1 − t²)^{(d−3)/2} / B(1/2, (d−1)/2) on (−1, 1), zero outside;
    equivalently (1 + t)/2 ~ Beta((d−1)/2, (d−1)/2), so E t = 0 and
    Var t = 1/d. For two independent uniform points it is the law of
    ⟨x_i, x_j⟩ (condition on x_j). Chapter 1.
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
