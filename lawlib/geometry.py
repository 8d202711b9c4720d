"""High-dimensional geometry of point clouds, computed in tiles.

The n × n matrix of distances of n = 10⁵ points would take 40 GB in float32.
Every pairwise routine of lawlib sweeps it instead in cache-sized tiles computed
into ONE reused buffer (:func:`pair_tiles`, the one kernel), reduced on the fly:

* :func:`max_inner_product`, :func:`min_pairwise_distance` — the extreme over
  pairs i < j, reduced with ``amax`` (no indices in the hot loop); the winning
  pair's partner is found at the end from its row alone;
* :func:`nearest` — the k nearest rows of ``y`` to every row of ``x`` (a running
  top-k merge, entered only by the rows a tile can improve), the distances
  measured again from the differences in float64.

Squared distances come from one matrix product per tile:
⟨[x_i, 1], [y_j, −‖y_j‖²/2]⟩ = ⟨x_i, y_j⟩ − ‖y_j‖²/2 = (‖x_i‖² − ‖x_i − y_j‖²)/2,
so the largest entry of a row is its nearest column, at the machine's
matrix-multiply rate, with no pass over the tile to add the norms.

On a CPU with several torch threads the reductions share the row tiles out among
as many Python threads, each with single-threaded BLAS and its own buffer (torch
releases the GIL in the products): no OpenMP barrier per tile, which a thread that
the system deschedules would stall. On an accelerator, one stream of tiles.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch

from ._checks import check_generator, check_int, check_points
from .device import exact_dtype, float64_device

__all__ = [
    "Nearest",
    "PairExtreme",
    "TILE_BYTES",
    "inner_product_density",
    "max_inner_product",
    "min_pairwise_distance",
    "nearest",
    "pair_tiles",
    "sample_pair_inner_products",
]

TILE_BYTES = 8 << 20  # the reused tile per CPU thread: 1024 × 2048 float32
METRICS = ("inner", "half_sq", "distance")


@dataclass(frozen=True)
class PairExtreme:
    """An extreme value over pairs i < j and the pair (i, j) that attains it."""

    value: float
    i: int
    j: int


class Nearest(NamedTuple):
    """The k nearest rows: ``distances`` (m, k), increasing along rows, and their
    ``indices`` (m, k) into the reference rows."""

    distances: torch.Tensor
    indices: torch.Tensor


def _tile_bytes(device: torch.device) -> int:
    """The tile's budget: ``TILE_BYTES`` per CPU thread (each thread's share of the
    product stays in its cache, and a thread that the system deschedules stalls
    the others at fewer barriers), 64 × ``TILE_BYTES`` on an accelerator (fewer,
    larger kernel launches)."""
    if device.type == "cpu":
        return TILE_BYTES * max(1, torch.get_num_threads())
    return 64 * TILE_BYTES


def _tile_shape(
    m: int, n: int, itemsize: int, rows: int | None, budget: int
) -> tuple[int, int]:
    """Rows and columns of a tile of at most ``budget`` bytes (square by default;
    at least one column)."""
    side = max(1, math.isqrt(max(1, budget // itemsize)))
    r = max(1, min(m, rows if rows is not None else side))
    c = max(1, min(n, budget // (itemsize * r)))
    return r, c


def pair_tiles(
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    metric: str = "inner",
    p: float = 2.0,
    center: torch.Tensor | None = None,
    rows: int | None = None,
    upper: bool = False,
    exclude: torch.Tensor | None = None,
    fill: float = 0.0,
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """The matrix M_ij between the rows of ``x`` and of ``y`` (``y = x`` if None), in
    tiles: yields ``(i0, j0, block)`` with block = M[i0 : i0 + r, j0 : j0 + c].

    ``metric``: ``"inner"``, M_ij = ⟨x_i, y_j⟩; ``"half_sq"``,
    M_ij = ⟨x_i − μ, y_j − μ⟩ − ‖y_j − μ‖²/2 = (‖x_i − μ‖² − ‖x_i − y_j‖²)/2 with
    μ = ``center`` (default 0): the larger, the closer; ``"distance"``,
    M_ij = ‖x_i − y_j‖_p from the differences (exact, no matrix product).

    The first two are ONE matrix product per tile into ONE reused buffer of at most
    ``TILE_BYTES`` per CPU thread (tiles of ``rows`` rows, square by default): the
    block is valid only until the next one is drawn. ``"half_sq"`` multiplies
    [x_i − μ, 1] by [y_j − μ, −‖y_j − μ‖²/2], a copy of y with one more column.
    With ``upper`` (``y`` None) only tiles meeting j > i are drawn and their
    entries j ≤ i are set to ``fill``; ``exclude`` (one column index per row of x)
    sets M[i, exclude_i] to ``fill``. Runs without autograd.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    sweep = _Sweep(x, y, metric, p, center, rows, upper, exclude, fill)
    yield from sweep.tiles(range(0, sweep.m, sweep.r))


class _Sweep:
    """What the tiles of :func:`pair_tiles` share: the inputs, the right factor
    (the augmented copy of y for ``"half_sq"``) and the tile shape. Each call of
    :meth:`tiles` owns its buffer, so several threads can sweep disjoint rows."""

    def __init__(self, x, y, metric, p, center, rows, upper, exclude, fill):
        self.same = y is None
        y = x if y is None else y
        self.m, self.n, self.d = x.shape[0], y.shape[0], x.shape[1]
        self.r, self.c = _tile_shape(
            self.m, self.n, x.element_size(), rows, _tile_bytes(x.device)
        )
        # detached inputs, so no graph is built; no torch.no_grad() spanning the
        # yields (it would leak into the caller's loop body, and stay on if the
        # loop breaks)
        self.x, self.y = x.detach(), y.detach()
        self.center = 0 if center is None else torch.as_tensor(center).detach()
        self.metric, self.p, self.upper = metric, p, upper
        self.exclude, self.fill = exclude, fill
        self.right = None
        if metric == "half_sq":
            d = self.d
            right = torch.empty(self.n, d + 1, dtype=y.dtype, device=y.device)
            torch.sub(self.y, self.center, out=right[:, :d])
            right[:, d] = _sq_norms(self.y, self.center).mul_(-0.5)
            self.right = right
        elif metric == "inner":
            self.right = self.y

    def tiles(self, starts) -> Iterator[tuple[int, int, torch.Tensor]]:
        """The tiles of the row tiles starting at ``starts`` (one buffer)."""
        x, right, d, r, c = self.x, self.right, self.d, self.r, self.c
        m, n, upper, fill = self.m, self.n, self.upper, self.fill
        if self.metric == "half_sq":
            left = torch.empty(r, d + 1, dtype=x.dtype, device=x.device)
            left[:, d] = 1.0
        if self.metric != "distance":
            buf = torch.empty(r * c, dtype=x.dtype, device=x.device)
        lower = None
        for i0 in starts:
            i1 = min(i0 + r, m)
            if self.metric == "half_sq":
                xi = left[: i1 - i0]
                if self.same:
                    xi[:, :d].copy_(right[i0:i1, :d])
                else:
                    torch.sub(x[i0:i1], self.center, out=xi[:, :d])
            else:
                xi = x[i0:i1]
            for j0 in range(i0 if upper else 0, n, c):
                j1 = min(j0 + c, n)
                if upper and j1 <= i0 + 1:
                    continue
                if self.metric == "distance":
                    blk = torch.cdist(
                        xi,
                        self.y[j0:j1],
                        p=self.p,
                        compute_mode="donot_use_mm_for_euclid_dist",
                    )
                else:
                    blk = buf[: (i1 - i0) * (j1 - j0)].view(i1 - i0, j1 - j0)
                    torch.mm(xi, right[j0:j1].T, out=blk)
                if upper and j0 < i1:  # entries with j ≤ i: b − a ≤ i0 − j0
                    if j0 == i0 and lower is not None and lower.shape == blk.shape:
                        mask = lower
                    else:
                        mask = torch.ones(
                            blk.shape, dtype=torch.bool, device=blk.device
                        ).tril(i0 - j0)
                        if j0 == i0:
                            lower = mask
                    blk.masked_fill_(mask, fill)
                if self.exclude is not None:
                    e = self.exclude[i0:i1] - j0
                    hit = ((e >= 0) & (e < j1 - j0)).nonzero()[:, 0]
                    if hit.numel():
                        blk[hit, e[hit]] = fill
                yield i0, j0, blk


def _for_tiles(x: torch.Tensor, body, **kw) -> None:
    """``body(i0, j0, block)`` for every tile of ``pair_tiles(x, **kw)``.

    On a CPU with T > 1 torch threads the row tiles are shared out, from a common
    counter, among T Python threads (torch releases the GIL in the products and
    reductions), each with single-threaded BLAS and its own buffer: no OpenMP
    barrier per tile, which a descheduled thread would stall, and a thread that
    falls behind takes fewer tiles. ``body`` may touch only the rows of its tile.
    """
    threads = torch.get_num_threads() if x.device.type == "cpu" else 1
    y = kw.get("y")
    n = x.shape[0] if y is None else y.shape[0]
    r = _tile_shape(x.shape[0], n, x.element_size(), kw.get("rows"), TILE_BYTES)[0]
    if threads <= 1 or -(-x.shape[0] // r) < threads:  # fewer row tiles than threads
        for i0, j0, blk in pair_tiles(x, **kw):
            body(i0, j0, blk)
        return
    torch.set_num_threads(1)
    try:
        sweep = _Sweep(
            x,
            y,
            kw.get("metric", "inner"),
            kw.get("p", 2.0),
            kw.get("center"),
            kw.get("rows"),
            kw.get("upper", False),
            kw.get("exclude"),
            kw.get("fill", 0.0),
        )
        starts = _Counter(range(0, sweep.m, sweep.r))
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for i0, j0, blk in sweep.tiles(starts):
                    body(i0, j0, blk)
            except BaseException as err:  # re-raised in the calling thread
                errors.append(err)

        team = [threading.Thread(target=work) for _ in range(threads - 1)]
        for t in team:
            t.start()
        work()
        for t in team:
            t.join()
        if errors:
            raise errors[0]
    finally:
        torch.set_num_threads(threads)


class _Counter:
    """An iterator that several threads can share (each item handed out once)."""

    def __init__(self, items) -> None:
        self._it = iter(items)
        self._lock = threading.Lock()

    def __iter__(self) -> _Counter:
        return self

    def __next__(self):
        with self._lock:
            return next(self._it)


def _row_max(x: torch.Tensor, metric: str, rows: int, **kw) -> torch.Tensor:
    """max_{j > i} M_ij for every row i (−inf for the last), tiles reduced by
    ``amax`` (a distance metric is negated)."""
    best = torch.full((x.shape[0],), -math.inf, dtype=x.dtype, device=x.device)
    fill = math.inf if metric == "distance" else -math.inf  # negated below

    def reduce(i0: int, j0: int, blk: torch.Tensor) -> None:
        seg = best[i0 : i0 + blk.shape[0]]
        top = blk.amax(dim=1) if metric != "distance" else blk.neg_().amax(dim=1)
        torch.maximum(seg, top, out=seg)

    _for_tiles(x, reduce, metric=metric, rows=rows, upper=True, fill=fill, **kw)
    return best


def _float64_distance(x: torch.Tensor, i: int, j: int) -> float:
    """‖x_i − x_j‖ in float64 (on the CPU where the device has no float64)."""
    dev = float64_device(x.device)
    a, b = x[i].to(dev), x[j].to(dev)
    return float((a.to(torch.float64) - b.to(torch.float64)).norm())


def max_inner_product(x: torch.Tensor, chunk: int = 1024) -> PairExtreme:
    """max_{i<j} ⟨x_i, x_j⟩ over the rows of ``x``, in tiles of ``chunk`` rows.

    Memory: one tile beyond x. For n points uniform on S^{d-1} the cap bound
    gives P(⟨x_i, x_j⟩ ≥ s) ≤ exp(−d s²/2), so by a union bound over pairs this is
    below s with probability ≥ 1 − n² exp(−d s²/2)/2.
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    best = _row_max(x, "inner", chunk)
    i = int(best.argmax())
    j = i + 1 + int((x[i + 1 :] @ x[i]).argmax())
    return PairExtreme(float(best[i]), i, j)


def _sq_norms(x: torch.Tensor, center: torch.Tensor | float) -> torch.Tensor:
    """‖x_i − μ‖² for every row, in row blocks (no n × d temporary)."""
    out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    step = max(1, TILE_BYTES // (x.element_size() * x.shape[1]))
    for s in range(0, x.shape[0], step):
        torch.sum((x[s : s + step] - center).square_(), dim=1, out=out[s : s + step])
    return out


def min_pairwise_distance(x: torch.Tensor, chunk: int = 1024) -> PairExtreme:
    """min_{i<j} ‖x_i − x_j‖ over the rows of ``x``, in tiles of ``chunk`` rows.

    ‖x_i − x_j‖² = ‖x_i − μ‖² − 2 M_ij with M the ``"half_sq"`` tiles of
    :func:`pair_tiles` (μ the mean: centring shrinks the cancellation error), reduced by
    ``amax``; the partner of the best row is found from that row's differences, and the
    pair's distance is measured again in float64. When the minimum is within a factor
    10³ of the cancellation error 64 ε max_i ‖x_i − μ‖², the search is repeated on the
    differences themselves (exact, slower). Memory about n(d + 1) entries (the augmented
    copy) plus ``TILE_BYTES`` beyond x.
    """
    x = check_points("x", x)
    chunk = check_int("chunk", chunk, minimum=1)
    with torch.no_grad():
        mu = x.mean(dim=0)
        sq = _sq_norms(x, mu)
        best = _row_max(x, "half_sq", chunk, center=mu)
        dist2 = best.mul_(-2).add_(sq)  # −inf on the last row becomes +inf
        noise_floor = 64 * torch.finfo(x.dtype).eps * float(sq.max())
        if float(dist2.min()) <= 1e3 * noise_floor:
            dist2 = _row_max(x, "distance", chunk).neg_()
        i = int(dist2.argmin())
        j = i + 1 + int(_sq_norms(x[i + 1 :], x[i]).argmin())
    return PairExtreme(_float64_distance(x, i, j), i, j)


def nearest(
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    k: int = 1,
    *,
    p: float = 2.0,
    chunk: int | None = None,
) -> Nearest:
    """The k nearest rows of ``y`` to every row of ``x`` for the ℓ_p distance
    (p ∈ [1, ∞]); with ``y`` None, the k nearest *other* rows of ``x`` (a row is
    excluded by its index: a duplicate elsewhere counts, at distance 0).

    The tiles of :func:`pair_tiles` (``"half_sq"`` for p = 2, ``"distance"`` otherwise,
    ``chunk`` rows each) feed a running top-(k + 4) per row that only the rows a tile
    can improve enter (their ``amax`` beats the row's last candidate). The candidates
    are measured again from the differences in float64 and sorted. For p = 2 a row whose
    (k + 4)-th candidate is within the worst-case cancellation error 4(d + 2) ε (‖x_i −
    μ‖² + max_j ‖y_j − μ‖²) of its k-th distance is searched again from the differences
    in float64, so the result is exact. The returned distances are differentiable in
    ``x`` and ``y``. Memory about n(d + 1) entries plus ``TILE_BYTES`` beyond x and y.
    """
    x = check_points("x", x, min_points=1)
    if y is not None:
        y = check_points("y", y, min_points=1)
        if y.shape[1] != x.shape[1]:
            raise ValueError(
                f"y must have {x.shape[1]} columns like x, got {y.shape[1]}"
            )
    k = check_int("k", k, minimum=1)
    if chunk is not None:
        chunk = check_int("chunk", chunk, minimum=1)
    if not (isinstance(p, (int, float)) and p >= 1):  # NaN fails too
        raise ValueError(f"p must be a number in [1, inf], got {p!r}")
    p = float(p)
    ref = x if y is None else y
    avail = ref.shape[0] - (1 if y is None else 0)
    if k > avail:
        raise ValueError(f"k must be <= {avail} (the rows to choose from), got {k}")
    own = None if y is not None else torch.arange(x.shape[0], device=x.device)
    with torch.no_grad():
        score, idx = _candidates(x, y, min(avail, k + 4), p, chunk, own)
        d64, idx = _measure(x, ref, idx, p)
        if p == 2.0 and idx.shape[1] < avail:
            redo = _ambiguous(x, ref, d64, score[:, -1], k)
            if redo.numel():
                dev = float64_device(x.device)
                xs = x[redo].to(dev, torch.float64)
                ys = ref.to(dev, torch.float64)
                ex = None if own is None else redo.to(dev)
                _, i2 = _candidates(xs, ys, k, 2.0, chunk, ex, metric="distance")
                r64, i2 = _measure(x[redo], ref, i2.to(x.device), p)
                d64[redo, :k], idx[redo, :k] = r64, i2
        d64, idx = d64[:, :k], idx[:, :k]
    if torch.is_grad_enabled() and (x.requires_grad or ref.requires_grad):
        dist = torch.linalg.vector_norm(x[:, None, :] - ref[idx], ord=p, dim=2)
    else:
        dist = d64.to(x.device, x.dtype)
    return Nearest(dist, idx)


def _candidates(x, y, m, p, chunk, exclude, metric=None):
    """Scores and indices (rows, m) of the m best columns of every row (a running
    top-m merge); scores are M_ij of ``"half_sq"`` or minus the distances."""
    ref = x if y is None else y
    if metric is None:
        metric = "half_sq" if p == 2.0 else "distance"
    kw = {"center": ref.mean(dim=0)} if metric == "half_sq" else {"p": p}
    vals = torch.full((x.shape[0], m), -math.inf, dtype=x.dtype, device=x.device)
    idx = torch.zeros((x.shape[0], m), dtype=torch.long, device=x.device)
    fill = math.inf if metric == "distance" else -math.inf  # negated below

    def merge(i0: int, j0: int, blk: torch.Tensor) -> None:
        if metric == "distance":
            blk = blk.neg_()
        r = blk.shape[0]
        need = (blk.amax(dim=1) > vals[i0 : i0 + r, -1]).nonzero()[:, 0]
        if not need.numel():
            return
        sub = blk if need.numel() == r else blk[need]
        v, ix = sub.topk(min(m, blk.shape[1]), dim=1)
        rows = need + i0
        cv = torch.cat([vals[rows], v], dim=1)
        ci = torch.cat([idx[rows], ix + j0], dim=1)
        top, pos = cv.topk(m, dim=1)
        vals[rows], idx[rows] = top, ci.gather(1, pos)

    _for_tiles(
        x, merge, y=y, metric=metric, rows=chunk, exclude=exclude, fill=fill, **kw
    )
    return vals, idx


def _measure(x, ref, idx, p) -> tuple[torch.Tensor, torch.Tensor]:
    """‖x_i − ref_j‖_p in float64 (where the device has it) for the candidate
    indices, sorted along rows; in row blocks."""
    dev = float64_device(x.device)
    dt = exact_dtype(dev)
    out = torch.empty(idx.shape, dtype=dt, device=dev)
    step = max(1, TILE_BYTES // (8 * idx.shape[1] * x.shape[1]))
    for s in range(0, x.shape[0], step):
        xs = x[s : s + step].to(dev, dt)
        cand = ref[idx[s : s + step]].to(dev, dt)
        out[s : s + step] = torch.linalg.vector_norm(
            xs[:, None, :] - cand, ord=p, dim=2
        )
    out, order = out.sort(dim=1)
    return out, idx.gather(1, order.to(idx.device))


def _ambiguous(x, ref, d64, last, k) -> torch.Tensor:
    """Rows where a non-candidate might be nearer than the k-th candidate: every
    non-candidate has M_ij ≤ ``last`` (the m-th score), so its squared distance is
    at least ‖x_i − μ‖² − 2 last − tol; the row is redone when that is ≤ T_k²."""
    mu = ref.mean(dim=0)
    sq = _sq_norms(x, mu)
    r2 = float(_sq_norms(ref, mu).max())
    tol = 4 * (x.shape[1] + 2) * torch.finfo(x.dtype).eps * (sq + r2)
    bound = (sq - 2 * last - tol).to(d64)
    return (bound <= d64[:, k - 1].to(bound.device).square()).nonzero()[:, 0]


def sample_pair_inner_products(
    x: torch.Tensor, n_pairs: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """⟨x_i, x_j⟩ for ``n_pairs`` random pairs i ≠ j (with replacement over pairs).

    On S^{d-1} these have mean 0 and variance 1/d, and (1 + t)/2 ~ Beta((d−1)/2,
    (d−1)/2). The pairs are drawn at once (i uniform, j = i + an offset uniform in 1 … n
    − 1, mod n: 24 bytes a pair) and their rows gathered in blocks of at most
    ``TILE_BYTES``, so memory stays O(n_pairs + TILE_BYTES) whatever d.
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
    j = offset.add_(i).remainder_(n)  # j ≠ i always
    out = torch.empty(n_pairs, dtype=x.dtype, device=x.device)
    step = max(1, TILE_BYTES // (2 * x.element_size() * x.shape[1]))
    for s in range(0, n_pairs, step):
        a = x[i[s : s + step]]
        torch.sum(a.mul_(x[j[s : s + step]]), dim=1, out=out[s : s + step])
    return out


def inner_product_density(t: torch.Tensor, d: int) -> torch.Tensor:
    """Exact density of t = ⟨x, u⟩ for x uniform on S^{d-1} and a fixed unit vector u.

    p_d(t) = (1 − t²)^{(d−3)/2} / B(1/2, (d−1)/2) on (−1, 1), zero outside; equivalently
    (1 + t)/2 ~ Beta((d−1)/2, (d−1)/2), so E t = 0 and Var t = 1/d. For two independent
    uniform points it is the law of ⟨x_i, x_j⟩ (condition on x_j).
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
