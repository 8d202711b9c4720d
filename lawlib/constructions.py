"""Explicit memorizers with exactly known Lipschitz constants.

Three constructions fit n labelled points exactly and come with their
Lipschitz constant *proved*, not estimated:

* :class:`McShaneExtension` — M(x) = min_i (y_i + L‖x − x_i‖), and its lower
  twin :class:`WhitneyExtension`, W(x) = max_i (y_i − L‖x − x_i‖). Lip = L
  exactly, with L = max_{i≠j} |y_i − y_j| / ‖x_i − x_j‖ the smallest possible
 . Every L-Lipschitz interpolant g satisfies W ≤ g ≤ M.
* :class:`RBFMemorizer` — f(x) = Σ_i y_i φ(‖x − x_i‖ / r), φ(t) = max(0, 1 − t),
  r ≤ half the minimum pairwise distance: Lip = max_i |y_i| / r exactly
 .
* :class:`NeuronPerPoint` — the 2-layer ReLU network of Bubeck–Li–Nagaraj
  (2021, section 3.2), f(x) = Σ_i c y_i ReLU(⟨x_i, x⟩ − τ) with c = 1/(1 − τ),
  one neuron per point on the unit sphere: Lip on the unit ball = c·max_i |y_i|
  exactly when the spherical caps are disjoint.

All three are ``torch.nn.Module``s mapping an (m, d) batch to shape (m,). They
evaluate in row chunks, so m points against n centres never hold more than a
``chunk × n`` block of distances; they live on the device of the data they are
built from (``.to(device)`` moves them). Each has ``n_parameters`` (how many
numbers it stores, stated per class), ``n_neurons`` and ``lipschitz``.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn

from ._checks import check_int, check_labels, check_points, check_positive, check_tensor
from .geometry import max_inner_product, min_pairwise_distance, pair_tiles
from .lipschitz import max_pairwise_slope

__all__ = [
    "McShaneExtension",
    "WhitneyExtension",
    "RBFMemorizer",
    "NeuronPerPoint",
    "CapOverlapWarning",
]


class CapOverlapWarning(UserWarning):
    """The caps of :class:`NeuronPerPoint` overlap: its Lipschitz constant is only
    bounded, not exact.
    """


def _check_data(
    x: torch.Tensor, y: torch.Tensor, min_dim: int = 1
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Validate (x, y), refuse duplicate points, and return them with the minimum
    pairwise distance.
    """
    x = check_points("x", x, min_points=2, min_dim=min_dim)
    y = check_labels("y", y, x.shape[0]).to(device=x.device, dtype=x.dtype)
    closest = min_pairwise_distance(x)
    if closest.value <= 0.0:
        raise ValueError(
            f"x contains duplicate points (rows {closest.i} and {closest.j}): no "
            "construction can separate them"
        )
    return x.detach(), y.detach(), closest.value


def _check_query(z: torch.Tensor, d: int, dtype: torch.dtype) -> torch.Tensor:
    z = check_tensor("z", z, ndim=2)
    if z.shape[1] != d:
        raise ValueError(
            f"z must have {d} columns (the dimension of the data), got shape "
            f"{tuple(z.shape)}"
        )
    return z.to(dtype)


def _distances(z: torch.Tensor, c: torch.Tensor, c_sq: torch.Tensor) -> torch.Tensor:
    """‖z_k − c_i‖ for a (b, d) block ``z`` against all centres ``c`` (n, d): a (b, n)
    block.

    Uses ‖z‖² + ‖c‖² − 2⟨z, c⟩ (one matrix product) and recomputes directly the
    entries that are small relative to ‖z‖² + ‖c‖², where that formula loses
    its accuracy to cancellation; so the distance of a data point to itself is
    exactly 0 and interpolation is exact to rounding. Differentiable (the
    gradient at a zero distance is taken as 0).
    """
    z_sq = (z * z).sum(dim=1, keepdim=True)
    scale = z_sq + c_sq[None, :]
    d2 = (scale - 2.0 * (z @ c.T)).clamp_min(0.0)
    dist = d2.clamp_min(torch.finfo(z.dtype).tiny).sqrt()
    near = (d2 <= 1e-2 * scale).nonzero(as_tuple=True)
    if near[0].numel():
        pieces = []
        for s in range(
            0, near[0].numel(), 65536
        ):  # bounded memory even when many pairs are close
            r, k = near[0][s : s + 65536], near[1][s : s + 65536]
            pieces.append(torch.linalg.vector_norm(z[r] - c[k], dim=1))
        dist = dist.index_put(near, torch.cat(pieces))
    return dist


class _Memorizer(nn.Module):
    """Shared plumbing: the stored points and labels, chunked evaluation."""

    centres: torch.Tensor
    labels: torch.Tensor

    def __init__(self, x: torch.Tensor, y: torch.Tensor, chunk: int) -> None:
        super().__init__()
        self.chunk = check_int("chunk", chunk, minimum=1)
        self.register_buffer("centres", x.clone())
        self.register_buffer("labels", y.clone())
        self.register_buffer("centres_sq", (x * x).sum(dim=1))
        self.n, self.d = x.shape

    def _block(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The values at the rows of ``z`` (shape (m, d)), as a tensor of shape (m,)."""
        z = _check_query(z, self.d, self.centres.dtype)
        if z.shape[0] == 0:
            return z.new_zeros(0)
        return torch.cat(
            [
                self._block(z[s : s + self.chunk])
                for s in range(0, z.shape[0], self.chunk)
            ]
        )


class McShaneExtension(_Memorizer):
    """The McShane extension M(x) = min_i (y_i + L‖x − x_i‖) of the data (x_i, y_i).

    ``lipschitz=None`` takes the smallest admissible constant
    L* = max_{i≠j} |y_i − y_j| / ‖x_i − x_j‖ (:func:`lawlib.max_pairwise_slope`);
    any L ≥ L* may be given instead (a smaller one raises ``ValueError``).

    Exact properties (proved in the Kirszbraun chapter):

    * Interpolation: M(x_j) = y_j, because y_i + L‖x_j − x_i‖ ≥ y_i + |y_j − y_i| ≥ y_j
      for every i, with equality at i = j.
    * Lip(M) = L exactly: each x ↦ y_i + L‖x − x_i‖ is L-Lipschitz and a minimum
      of L-Lipschitz functions is L-Lipschitz; conversely, for a unit vector u
      and t > 0, M(tu) ≥ min_i y_i + L(t − max_i ‖x_i‖), so
      (M(tu) − M(0))/t ≥ L − C/t with C independent of t, and t → ∞ gives
      Lip(M) ≥ L. (Where M is differentiable and x ∉ {x_i}, ∇M(x) is the
      gradient of any active cone, so ‖∇M‖ = L almost everywhere when L > 0.)
    * Extremality: every L-Lipschitz g with g(x_i) = y_i satisfies W ≤ g ≤ M, where W is
      the :class:`WhitneyExtension` with the same L, because g(x) ≤ g(x_i) + L‖x − x_i‖
      = y_i + L‖x − x_i‖ for every i (and likewise from below).

    Storage: the n points, the n labels and L, so ``n_parameters`` = n(d + 1) + 1;
    ``n_neurons`` = n (one "cone" y_i + L‖x − x_i‖ per point).
    Duplicate points, n < 2, NaN, labels of the wrong length raise ``ValueError``.
    """

    sign = 1.0

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        lipschitz: float | None = None,
        chunk: int = 1024,
    ) -> None:
        x, y, self.min_distance = _check_data(x, y)
        minimal = max_pairwise_slope(x, y)
        if lipschitz is None:
            lipschitz = minimal
        else:
            lipschitz = check_positive("lipschitz", lipschitz, allow_zero=True)
            if lipschitz < minimal * (1 - 1e-12):
                raise ValueError(
                    "lipschitz must be >= the smallest admissible constant max |y_i "
                    f"- y_j| / |x_i - x_j| = {minimal:.6g}, got {lipschitz:.6g}"
                )
        super().__init__(x, y, chunk)
        # : The smallest Lipschitz constant of any interpolant, L* = max_{i≠j} |y_i −
        # y_j| / ‖x_i − x_j‖.
        self.minimal_lipschitz: float = float(minimal)
        #: The exact Lipschitz constant L of this extension.
        self.lipschitz: float = float(lipschitz)
        self.n_parameters: int = self.n * (self.d + 1) + 1
        self.n_neurons: int = self.n

    def _block(self, z: torch.Tensor) -> torch.Tensor:
        cones = self.labels[None, :] + self.sign * self.lipschitz * _distances(
            z, self.centres, self.centres_sq
        )
        return cones.min(dim=1).values if self.sign > 0 else cones.max(dim=1).values

    def extra_repr(self) -> str:
        return f"n={self.n}, d={self.d}, lipschitz={self.lipschitz:.4g}"


class WhitneyExtension(McShaneExtension):
    """The lower extension W(x) = max_i (y_i − L‖x − x_i‖).

    Same data, constant, guarantees and counts as :class:`McShaneExtension`
    (interpolation, Lip(W) = L exactly), and W ≤ g ≤ M for every L-Lipschitz
    interpolant g: W is the smallest and M the largest of them.
    """

    sign = -1.0


class RBFMemorizer(_Memorizer):
    """One hat-shaped bump per point: f(x) = Σ_i y_i φ(‖x − x_i‖ / r), φ(t) = max(0, 1 −
    t).

    ``radius=None`` takes r = δ/2 with δ = min_{i≠j} ‖x_i − x_j‖
    (:func:`lawlib.min_pairwise_distance`); any 0 < r ≤ δ/2 may be given
    (r ≤ 0 or r > δ/2 raises ``ValueError`` naming ``radius``).

    Exact properties (proved in the RBF chapter):

    * Interpolation: f(x_j) = y_j, since φ(0) = 1 and ‖x_j − x_i‖ ≥ 2r > r
      makes every other bump vanish at x_j.
    * Lip(f) = max_i |y_i| / r exactly. Bump i, b_i(x) = y_i φ(‖x − x_i‖/r), is
      (|y_i|/r)-Lipschitz and vanishes outside the open ball B_i = B(x_i, r). The open
      balls are pairwise disjoint (‖x_i − x_j‖ ≥ 2r), and no point of the sphere ∂B_i
      lies in another open ball B_j (it would give ‖x_i − x_j‖ < 2r); when ‖x_i − x_j‖ =
      2r the closed balls touch at one point, where both bumps are 0. Hence on the
      closure of each B_i, f = b_i, and outside all of them f = 0. A segment [x, x′]
      meets each B_i in one interval, so it splits into finitely many closed pieces on
      each of which f is (max|y|/r)-Lipschitz; f is continuous, so chaining the pieces
      through their end points gives |f(x) − f(x′)| ≤ (max|y|/r)‖x − x′‖. The value is
      attained: |f(x_i) − f(x_i + r u)| = |y_i| for any unit u, at distance r (x_i + r u
      is on ∂B_i, where f = 0).

    For δ/2 < r ≤ δ the formula still interpolates but the bumps overlap and
    the constant can reach 2 max|y|/r (opposite labels); for r > δ it no
    longer interpolates. This class refuses both (the RBF chapter's widget shows them).

    Storage: centres, labels and r, so ``n_parameters`` = n(d + 1) + 1;
    ``n_neurons`` = n (one bump per point).
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        radius: float | None = None,
        chunk: int = 1024,
    ) -> None:
        x, y, self.min_distance = _check_data(x, y)
        half = self.min_distance / 2
        if radius is None:
            radius = half
        else:
            radius = check_positive("radius", radius)
            if radius > half * (1 + 1e-12):
                raise ValueError(
                    "radius must be <= half the minimum pairwise distance "
                    f"({half:.6g}) so the bumps do not overlap, got {radius:.6g}"
                )
        super().__init__(x, y, chunk)
        self.radius: float = float(radius)
        #: The exact Lipschitz constant max_i |y_i| / r.
        self.lipschitz: float = float(y.abs().max()) / self.radius
        self.n_parameters: int = self.n * (self.d + 1) + 1
        self.n_neurons: int = self.n

    def _block(self, z: torch.Tensor) -> torch.Tensor:
        bumps = (
            1.0 - _distances(z, self.centres, self.centres_sq) / self.radius
        ).clamp_min(0.0)
        return bumps @ self.labels

    def extra_repr(self) -> str:
        return (
            f"n={self.n}, d={self.d}, radius={self.radius:.4g}, "
            f"lipschitz={self.lipschitz:.4g}"
        )


class NeuronPerPoint(nn.Module):
    """The one-neuron-per-point ReLU network f(x) = Σ_i c y_i ReLU(⟨x_i, x⟩ − τ) on the
    sphere.

    Bubeck, Li and Nagaraj (2021, section 3.2) with τ = 0.9, c = 10. The points x_i must
    lie on the unit sphere (‖x_i‖ = 1 to 1e-5). ``c=None`` takes c = 1/(1 − τ), the only
    value with f(x_i) = y_i; another c raises ``ValueError``. The network is a real
    2-layer ReLU net, ``self.net`` = Linear(d, n) → ReLU → Linear(n, 1, no bias), so
    :func:`lawlib.spectral_norm_product` and :func:`lawlib.count_parameters` apply.

    Two conditions on the sample, both checked with chunked inner products:

    * :meth:`isolates_points`: ⟨x_i, x_j⟩ < τ for all i ≠ j (the cap
      C_i = {x ∈ S^{d−1}: ⟨x_i, x⟩ ≥ τ} holds no other data point). Then neuron
      i is the only one active at x_i and f(x_i) = c y_i (1 − τ) = y_i exactly.
      Violated → ``ValueError`` naming ``x``.
    * :meth:`caps_disjoint`: ⟨x_i, x_j⟩ ≤ 2τ² − 1 for all i ≠ j. The caps have
      angular radius α = arccos τ and are disjoint iff the angle between
      centres exceeds 2α, i.e. ⟨x_i, x_j⟩ < cos 2α = 2τ² − 1 (0.62 for
      τ = 0.9); this is *stronger* than isolating the points. With ≤, at most
      one neuron is active anywhere in the unit ball B: if i ≠ j were both
      active at x ∈ B then 2τ < ⟨x_i + x_j, x⟩ ≤ ‖x_i + x_j‖ = √(2 + 2⟨x_i, x_j⟩) ≤ 2τ.
      Violated → a :class:`CapOverlapWarning` (or ``ValueError`` with ``strict=True``).

    Lipschitz constant on the unit ball B (which contains the sphere), where f is
    piecewise linear with gradient c Σ_{i active} y_i x_i:

    * ``lipschitz_lower`` = c·max_i |y_i|, always attained: near x_i only
      neuron i is active, and along the radius, |f(x_i) − f((1−ε)x_i)| = c|y_i|ε.
    * ``lipschitz_upper`` = c·max_i Σ_{j ∈ N[i]} |y_j|, N[i] = {i} ∪ {j: ⟨x_i, x_j⟩ >
      2τ² − 1}: any two neurons active together in B are such neighbours, so an active
      set A ∋ i has ‖Σ_{j∈A} y_j x_j‖ ≤ Σ_{j∈N[i]} |y_j|.
    * ``lipschitz`` = ``lipschitz_upper``; ``lipschitz_exact`` is True when the
      caps are disjoint, and then lower = upper = c·max|y_i| is the exact
      Lipschitz constant on B (and a bound on the sphere).

    On all of R^d the half-spaces {⟨x_i, x⟩ > τ} always intersect, and far from
    the sphere many neurons fire together (gradient up to c‖X‖₂‖y‖₂, see
    :meth:`lipschitz_upper_bound_rd`): the robustness is a statement about the
    ball where the data live.

    Parameters as a 2-layer net: weights x_i (n·d), biases −τ (n), output weights c y_i
    (n), so ``n_parameters`` = n(d + 2) (the class F_k of Bubeck–Li–Nagaraj with k = n;
    storing x_i, y_i, c and τ instead takes n(d + 1) + 2 numbers); ``n_neurons`` = n.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        c: float | None = None,
        tau: float = 0.9,
        chunk: int = 4096,
        strict: bool = False,
    ) -> None:
        super().__init__()
        x = check_points("x", x, min_points=2, min_dim=2)
        y = check_labels("y", y, x.shape[0]).to(device=x.device, dtype=x.dtype)
        x, y = x.detach(), y.detach()
        tau = (
            float(tau)
            if isinstance(tau, (int, float)) and not isinstance(tau, bool)
            else tau
        )
        if not isinstance(tau, float) or not math.isfinite(tau) or not 0.0 < tau < 1.0:
            raise ValueError(f"tau must be a number in (0, 1), got {tau!r}")
        if c is None:
            c = 1.0 / (1.0 - tau)
        c = check_positive("c", c)
        if abs(c * (1.0 - tau) - 1.0) > 1e-9:
            raise ValueError(
                f"c must equal 1/(1 - tau) = {1.0 / (1.0 - tau):.6g} for f(x_i) = "
                f"y_i, got {c:.6g}"
            )
        norms = x.norm(dim=1)
        worst = int((norms - 1).abs().argmax())
        if abs(float(norms[worst]) - 1.0) > 1e-5:
            raise ValueError(
                f"x must lie on the unit sphere; row {worst} has norm "
                f"{float(norms[worst]):.6g}"
            )
        self.chunk = check_int("chunk", chunk, minimum=1)
        self.tau, self.c = tau, c
        self.n, self.d = x.shape
        self.max_inner = max_inner_product(x)
        if self.max_inner.value >= tau:
            raise ValueError(
                f"x: points {self.max_inner.i} and {self.max_inner.j} have inner "
                "product "
                f"{self.max_inner.value:.4g} >= tau = {tau}: a cap holds two data "
                "points, no exact fit"
            )
        self.net = nn.Sequential(
            nn.Linear(self.d, self.n),
            nn.ReLU(),
            nn.Linear(self.n, 1, bias=False),
            nn.Flatten(0),
        )
        self.net.to(device=x.device, dtype=x.dtype)
        with torch.no_grad():
            self.net[0].weight.copy_(x)
            self.net[0].bias.fill_(-tau)
            self.net[2].weight.copy_(c * y[None, :])
        self.register_buffer("centres", x.clone())
        self.register_buffer("labels", y.clone())
        self.lipschitz_lower: float = c * float(y.abs().max())
        self.lipschitz_upper: float = self._neighbour_bound()
        self.lipschitz_exact: bool = self.caps_disjoint()
        self.lipschitz: float = (
            self.lipschitz_lower if self.lipschitz_exact else self.lipschitz_upper
        )
        self.n_parameters: int = self.n * (self.d + 2)
        self.n_neurons: int = self.n
        if not self.lipschitz_exact:
            msg = (
                f"the caps overlap: max <x_i, x_j> = {self.max_inner.value:.4g} > 2 "
                f"tau^2 - 1 = {self.overlap_threshold:.4g}; "
                "f still interpolates, but its Lipschitz constant on the unit ball "
                "is only known to lie in "
                f"[{self.lipschitz_lower:.4g}, {self.lipschitz_upper:.4g}] (larger d "
                "or tau closer to 1 helps)"
            )
            if strict:
                raise ValueError("x: " + msg)
            warnings.warn(msg, CapOverlapWarning, stacklevel=2)

    @property
    def overlap_threshold(self) -> float:
        """2τ² − 1 = cos(2 arccos τ): caps are disjoint iff all ⟨x_i, x_j⟩ are at most
        this.
        """
        return 2.0 * self.tau**2 - 1.0

    def isolates_points(self) -> bool:
        """True iff ⟨x_i, x_j⟩ < τ for all i ≠ j: each neuron fires at its own point
        only (exact fit).
        """
        return self.max_inner.value < self.tau

    def caps_disjoint(self) -> bool:
        """True iff ⟨x_i, x_j⟩ ≤ 2τ² − 1 for all i ≠ j: the caps are disjoint, at most
        one neuron fires in the unit ball.
        """
        return self.max_inner.value <= self.overlap_threshold

    def _neighbour_bound(self) -> float:
        """c · max_i Σ_{j ∈ N[i]} |y_j| with N[i] = {i} ∪ {j: ⟨x_i, x_j⟩ > 2τ² − 1}, in
        row chunks.
        """
        x, a = self.centres, self.labels.abs()
        thr = 2.0 * self.tau**2 - 1.0
        sums = a.clone()  # j = i counts once, here; the tiles exclude it
        own = torch.arange(self.n, device=x.device)
        for i0, j0, blk in pair_tiles(x, rows=self.chunk, exclude=own, fill=-math.inf):
            near = (blk > thr).to(a.dtype)
            sums[i0 : i0 + blk.shape[0]] += near @ a[j0 : j0 + blk.shape[1]]
        best = float(sums.max())
        return self.c * best

    def lipschitz_upper_bound_rd(self) -> float:
        """An upper bound on the Lipschitz constant on all of R^d: c · min(Σ|y_i|, ‖X‖₂
        ‖y‖₂).

        Valid because the gradient is c Xᵀ(y ⊙ 1_A) for the active set A and
        ‖Xᵀ(y ⊙ 1_A)‖ ≤ min(Σ_{i∈A} |y_i|, ‖X‖₂ ‖y‖₂). For random data it grows
        like √n: far from the sphere the caps are no longer disjoint.
        """
        op = float(torch.linalg.matrix_norm(self.centres, ord=2))
        return self.c * min(
            float(self.labels.abs().sum()), op * float(self.labels.norm())
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The values at the rows of ``z`` (shape (m, d)), as a tensor of shape (m,), in
        chunks of rows.
        """
        z = _check_query(z, self.d, self.centres.dtype)
        if z.shape[0] == 0:
            return z.new_zeros(0)
        return torch.cat(
            [self.net(z[s : s + self.chunk]) for s in range(0, z.shape[0], self.chunk)]
        )

    def extra_repr(self) -> str:
        return (
            f"n={self.n}, d={self.d}, c={self.c:.4g}, tau={self.tau}, "
            f"lipschitz={self.lipschitz:.4g}"
        )


class ProjectedRBF(nn.Module):
    """The tight side of the universal law: n hat bumps in d' = P/n projected
    coordinates.

    Π x = √(d/d') (x₁, …, x_{d'}) keeps the first d' = ``d_proj`` coordinates,
    rescaled so that N(0, I_d/d) is mapped onto N(0, I_{d'}/d'); an
    :class:`RBFMemorizer` is built on the projected points Π x_i (radius
    ``radius``, by default half their minimum pairwise distance δ'), and

        f(x) = Σ_i y_i φ(‖Π x − Π x_i‖ / r),   φ(t) = max(0, 1 − t).

    Exact properties (proved in the universal-law chapter):

    * Interpolation: f(x_i) = RBF(Π x_i) = y_i.
    * Lip(f) = (max_i |y_i| / r) · √(d/d') exactly. Upper: Lip(g ∘ Π) ≤
      Lip(g) ‖Π‖_op and ‖Π‖_op = √(d/d'). Attained: for i with the largest
      |y_i|, any x with Π x = Π x_i and x' = x + r √(d'/d) e₁ have Π x' =
      Π x_i + r e₁ on the edge of bump i, so |f(x) − f(x')| = |y_i| over
      ‖x − x'‖ = r √(d'/d) (:meth:`attaining_pair`, which takes for x the lift
      of Π x_i: its first d' coordinates are those of x_i, the rest zero).

    With r of order one (true once d' ≳ log n for random data, the Kirszbraun chapter)
    this is ≈ √(d/d') = √(nd/P): the universal law is attained. For small d' the
    projected points crowd together and 1/r grows.

    ``n_parameters`` = n(d' + 1) + 1 (the bumps' centres, heights and r; the projection
    is fixed by d and d'); ``n_neurons`` = n. Projected points that coincide raise
    ``ValueError`` naming ``x``; ``d_proj`` outside [1, d] raises naming ``d_proj``.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        d_proj: int,
        radius: float | None = None,
        chunk: int = 1024,
    ) -> None:
        super().__init__()
        x = check_points("x", x, min_points=2, min_dim=1)
        self.n, self.d = x.shape
        self.d_proj: int = check_int("d_proj", d_proj, minimum=1)
        if self.d_proj > self.d:
            raise ValueError(f"d_proj must be <= d = {self.d}, got {self.d_proj}")
        #: ‖Π‖_op = √(d/d').
        self.scale: float = math.sqrt(self.d / self.d_proj)
        self.rbf = RBFMemorizer(self.project(x.detach()), y, radius=radius, chunk=chunk)
        self.radius: float = self.rbf.radius
        self.min_distance: float = self.rbf.min_distance
        #: The exact Lipschitz constant (max_i |y_i| / r) · √(d/d').
        self.lipschitz: float = self.rbf.lipschitz * self.scale
        self.n_parameters: int = self.n * (self.d_proj + 1) + 1
        self.n_neurons: int = self.n

    @property
    def lipschitz_constant(self) -> float:
        """The exact Lipschitz constant (max_i |y_i| / r) · √(d/d') (same as
        ``lipschitz``).
        """
        return self.lipschitz

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """Π z = √(d/d') z[:, :d'] for an (m, d) batch."""
        return self.scale * z[:, : self.d_proj]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """f(z) = RBF(Π z) at the rows of ``z`` (shape (m, d)), as a tensor of shape
        (m,).
        """
        z = _check_query(z, self.d, self.rbf.centres.dtype)
        return self.rbf(self.project(z))

    def attaining_pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Two points (x, x′), shape (1, d) each, with |f(x) − f(x′)| / ‖x − x′‖ =
        Lip(f) exactly.

        For i with the largest |y_i|, x is the lift of the stored centre Π x_i:
        its first d' coordinates are Π x_i / √(d/d') (those of x_i) and the
        rest are zero, so Π x = Π x_i but in general x ≠ x_i; x′ = x + r √(d'/d) e₁.
        """
        i = int(self.rbf.labels.abs().argmax())
        x = torch.zeros(
            1, self.d, dtype=self.rbf.centres.dtype, device=self.rbf.centres.device
        )
        x[0, : self.d_proj] = self.rbf.centres[i] / self.scale
        x2 = x.clone()
        x2[0, 0] += self.radius / self.scale
        return x, x2

    def extra_repr(self) -> str:
        return (
            f"n={self.n}, d={self.d}, d_proj={self.d_proj}, "
            f"radius={self.radius:.4g}, lipschitz={self.lipschitz:.4g}"
        )


__all__ += ["ProjectedRBF"]
