"""Baum's construction: a 2-layer ReLU network with 4⌈n/d⌉ neurons that interpolates.

Mere memorization is cheap. Split the n points into groups of d (the last
group may be smaller). Through the points of group m passes a hyperplane
H_m = {x : h_m(x) = 0}, h_m(x) = ⟨u_m, x⟩ − β_m with ‖u_m‖ = 1 (the signed
distance to H_m), and on H_m an affine function A_m(x) = ⟨v_m, x⟩ + α_m takes
the group's labels, A_m(x_i) = y_i (v_m ⊥ u_m, the least-norm choice; v_m is
the *affine slope*). With the clipped ramp φ_ε(t) = ReLU(t + ε) − ReLU(t − ε)
(0 for t ≤ −ε, t + ε on [−ε, ε], 2ε for t ≥ ε), four ReLUs make the slab
function, a difference of two ramps *tilted* by η > 0,

    s_m(x) = [φ_ε(h_m(x) + η A_m(x)) − φ_ε(h_m(x))] / η
           = [ReLU(h + ε + ηA) − ReLU(h + ε) − ReLU(h − ε + ηA) + ReLU(h − ε)] / η.

Two exact facts make it work:

* **On the slab's core**, |h| ≤ ε − η|A|, both ramps are in their linear part
  and s_m(x) = [(h + ηA + ε) − (h + ε)] / η = A_m(x). On the group's own points
  (h = 0, and η|y_i| ≤ ε) it is exactly y_i.
* **Outside the slab**, |h| ≥ ε + η|A|, both ramps are saturated at the same
  value (0 below, 2ε above), so s_m(x) = 0 exactly.

Along the normal through a point of the hyperplane (A is constant there, as
v_m ⊥ u_m), s_m is a trapezoid of height A: zero, a ramp of slope 1/η, a
plateau at A, a ramp back down, zero. Hence the network

    f(x) = Σ_m s_m(x)   (output bias c = 0)

interpolates as soon as every *other* data point x_j satisfies
|h_m(x_j)| ≥ ε_m + η_m|A_m(x_j)|. We take η_m = ε_m / (2Y_m), Y_m = max_{i∈m} |y_i|
(so the group's points sit well inside the plateau); the slab half-width ε_m
is then admissible iff ε_m ≤ E_m = min_{j∉m} |h_m(x_j)| / (1 + |A_m(x_j)|/(2Y_m)),
which is > 0 in general position. By default ε_m = E_m / 2.

The price: on the ramp where φ_ε(h + ηA) is linear (and φ_ε(h) is not),
‖∇s_m‖ = ‖u_m/η_m + v_m‖ = √(1/η_m² + ‖v_m‖²); the other ramp has slope
1/η_m = 2Y_m/ε_m. And E_m is at most the distance D_m of the nearest other
point to H_m, which is tiny (about √(π/2)/((n − d)√d) on average for random
points on the sphere), so Lip(f) is huge: ~10⁵ for a typical slab and ~10⁶
for the steepest at n = 1000, d = 50.

Network: k = 4⌈n/d⌉ neurons, P = k(d + 1) + k + 1 parameters (≈ 4n). Built in
float64 because the four units of a slab cancel numbers of size ~1/η_m: the
interpolation error is rounding, ~1e-16 · Σ_m 1/η_m (about 1e-10 at n = 1000,
d = 50). The module casts its input to float64 and returns float64.

Notation: m indexes groups (G of them); slab m is s_m. The buffers are named
for the quantities above (``affine_slopes`` v_m, ``etas`` η_m, …).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from ._checks import (
    check_generator,
    check_labels,
    check_points,
    check_positive,
    check_tensor,
)
from .device import float64_device

__all__ = ["BaumNetwork", "baum_network"]

#: Relative tolerance below which a group's points count as affinely dependent.
DEGENERACY_RTOL = 1e-10


class BaumNetwork(nn.Sequential):
    """The network of :func:`baum_network`: ``Linear(d, k) → ReLU → Linear(k, 1) →
    Flatten``.

    A plain chain, so :func:`lawlib.spectral_norm_product` and
    :func:`lawlib.count_parameters` apply. Its input is cast to the weights'
    dtype (float64) and device; the output has one entry per row of the input.

    Buffers (one row per group m; k = 4 · n_groups):

    * ``normals`` u_m (G, d) and ``offsets`` β_m (G,): the hyperplanes h_m(x) =
      ⟨u_m, x⟩ − β_m;
    * ``affine_slopes`` v_m (G, d) and ``intercepts`` α_m (G,): the affine functions
      A_m(x) = ⟨v_m, x⟩ + α_m;
    * ``slab_widths`` ε_m (the slab half-width) and ``etas`` η_m = ε_m / (2Y_m) (G,),
      the tilts;
    * ``label_max`` Y_m = max_{i∈m} |y_i| (G,);
    * ``separations`` D_m = min distance of another data point to H_m (G,);
    * ``max_slab_widths`` E_m, the largest ε_m that keeps every other data point
      out of slab m (G,), so interpolation holds when ``slab_widths`` ≤ E_m;
    * ``group_index`` (n,): the group of each data point, and ``anchors`` (G, d),
      ``anchor_labels`` (G,): the point of each group with the largest |label|.
    """

    def __init__(
        self, first: nn.Linear, second: nn.Linear, buffers: dict[str, torch.Tensor]
    ) -> None:
        super().__init__(first, nn.ReLU(), second, nn.Flatten(0))
        for name, value in buffers.items():
            self.register_buffer(name, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self[0].weight
        return super().forward(torch.as_tensor(x).to(device=w.device, dtype=w.dtype))

    @property
    def n_groups(self) -> int:
        """G = ⌈n/d⌉, the number of groups (slabs)."""
        return int(self.normals.shape[0])

    @property
    def n_neurons(self) -> int:
        """k = 4 G hidden ReLUs."""
        return int(self[0].out_features)

    @property
    def n_parameters(self) -> int:
        """P = k(d + 1) + k + 1: first-layer weights and biases, output weights and
        bias.
        """
        return sum(p.numel() for p in self.parameters())

    @property
    def slab_width(self) -> float:
        """The thinnest slab half-width, min_m ε_m."""
        return float(self.slab_widths.min())

    @property
    def ramp_slopes(self) -> torch.Tensor:
        """‖∇s_m‖ on the ramp of slab m where φ_ε(h_m + η_m A_m) is linear:
        √(1/η_m² + ‖v_m‖²), shape (G,).

        (The other ramp, where only φ_ε(h_m) is linear, has slope 1/η_m.)
        Lip(f) ≥ the maximum over the slabs.
        """
        return torch.sqrt(
            self.etas.reciprocal() ** 2 + (self.affine_slopes**2).sum(dim=1)
        )

    def group_values(self, x: torch.Tensor) -> torch.Tensor:
        """The contribution s_m(x) of every slab, shape (len(x), G), without autograd;
        f(x) = its row sums.
        """
        first, second = self[0], self[2]
        x = (
            torch.as_tensor(x)
            .detach()
            .to(device=first.weight.device, dtype=first.weight.dtype)
        )
        with torch.no_grad():
            hidden = torch.relu(x @ first.weight.T + first.bias) * second.weight[0]
            return hidden.reshape(x.shape[0], -1, 4).sum(dim=2)

    def slab_points(self) -> torch.Tensor:
        """One point on a ramp of each slab whose anchor label is nonzero, shape
        (G', d).

        From the anchor p (a data point of the group, label y ≠ 0) step along
        the normal to p − sign(y)(ε + η|y|/2) u: there φ_ε(h + ηA) is in its
        linear part and φ_ε(h) is saturated, so ∇s_m = (u + ηv)/η exactly and
        ‖∇f‖ = ``ramp_slopes`` (when no other slab overlaps, as in general position).
        """
        keep = self.anchor_labels != 0
        s = torch.sign(self.anchor_labels) * (
            self.slab_widths + self.etas * self.anchor_labels.abs() / 2
        )
        return (self.anchors - s[:, None] * self.normals)[keep]


def _hyperplanes_full(groups: torch.Tensor, yg: torch.Tensor, first_index: int):
    """Batched hyperplanes and affine fits for full groups: (B, d, d) points, (B, d)
    labels.
    """
    diffs = groups[:, 1:] - groups[:, :1]  # (B, d-1, d)
    u_svd, s, vh = torch.linalg.svd(diffs, full_matrices=True)
    scale = s[:, :1].clamp_min(torch.finfo(groups.dtype).tiny)
    bad = (s[:, -1:] <= DEGENERACY_RTOL * scale).squeeze(1) | (s[:, 0] == 0)
    if bool(bad.any()):
        g = int(bad.nonzero()[0, 0]) + first_index
        raise ValueError(
            f"x: group {g} is degenerate: its points do not span a hyperplane "
            "(duplicate or affinely dependent points); Baum's construction needs "
            "points in general position"
        )
    normals = vh[:, -1]  # (B, d), unit, orthogonal to every difference
    dy = (yg[:, 1:] - yg[:, :1]).unsqueeze(2)  # (B, d-1, 1)
    # least-norm v with ⟨v, x_i − x_0⟩ = y_i − y_0: v = D⁺ dy = V_r S⁻¹ Uᵀ dy (v ⊥ u)
    slopes = (
        vh[:, :-1].transpose(1, 2) @ ((u_svd.transpose(1, 2) @ dy) / s.unsqueeze(2))
    ).squeeze(2)
    return normals, slopes


def _hyperplane_partial(
    pts: torch.Tensor,
    yg: torch.Tensor,
    x: torch.Tensor,
    others: torch.Tensor,
    g: int,
    generator: torch.Generator,
    tries: int,
):
    """A hyperplane through r < d points avoiding the other points, and the affine fit
    on it.
    """
    r, d = pts.shape
    diffs = pts[1:] - pts[:1]
    if r > 1:
        u_svd, s, vh = torch.linalg.svd(diffs, full_matrices=True)
        if (
            float(s[-1])
            <= DEGENERACY_RTOL * max(float(s[0]), torch.finfo(x.dtype).tiny)
            or float(s[0]) == 0
        ):
            raise ValueError(
                f"x: group {g} is degenerate: its points do not span a hyperplane "
                "(duplicate or affinely dependent points); Baum's construction needs "
                "points in general position"
            )
        null = vh[
            r - 1 :
        ]  # (d-m+1, d), orthonormal basis of directions orthogonal to the group
        slope = vh[: r - 1].T @ ((u_svd.T @ (yg[1:] - yg[0])) / s)
    else:
        null = torch.eye(d, dtype=x.dtype, device=x.device)
        slope = torch.zeros(d, dtype=x.dtype, device=x.device)
    coef = torch.randn(
        tries,
        null.shape[0],
        generator=generator,
        dtype=x.dtype,
        device=generator.device,
    ).to(x.device)
    cand = coef @ null
    cand = cand / cand.norm(dim=1, keepdim=True)
    offsets = cand @ pts[0]
    if bool(others.any()):
        dist = (x[others] @ cand.T - offsets).abs().min(dim=0).values
    else:
        dist = torch.ones(tries, dtype=x.dtype, device=x.device)
    best = int(dist.argmax())
    return cand[best], slope


_TRIES = 16  # random hyperplanes tried for a last, partial group
_CHUNK = 256  # groups handled at a time


def baum_network(
    x: torch.Tensor,
    y: torch.Tensor,
    slab_width: float | Sequence[float] | torch.Tensor | None = None,
    *,
    generator: torch.Generator | None = None,
) -> BaumNetwork:
    """Baum's interpolating 2-layer ReLU network with 4⌈n/d⌉ neurons.

    f(x) = Σ_m [ReLU(h_m + ε_m + η_m A_m) − ReLU(h_m + ε_m) − ReLU(h_m − ε_m + η_m
    A_m) + ReLU(h_m − ε_m)] / η_m, with h_m(x) = ⟨u_m, x⟩ − β_m the signed distance to
    the hyperplane through group m (points m·d, …, m·d + d − 1 in the given order) and
    A_m the affine function with A_m(x_i) = y_i on the group
    (see the module docstring for why f(x_i) = y_i exactly). For a last group of r < d
    points the hyperplane is the best (largest distance to the other points) of
    16 random hyperplanes through them, drawn from ``generator``
    (default: a CPU generator seeded with 0). 256 groups are handled at a time, so
    memory stays O(256 · n).

    ``slab_width`` is the slab half-width ε: ``None`` takes ε_m = E_m / 2 per
    group, half the largest width that keeps every other data point out of
    the slab (``max_slab_widths``), which guarantees interpolation; a number
    or one number per group is used as given (ε_m > E_m may break
    interpolation, which the widget of Baum's chapter shows). The tilt is
    η_m = ε_m / (2 max_{i∈m} |y_i|), so the ramps have slope at least
    1/η_m = 2 max_{i∈m} |y_i| / ε_m.

    Parameters: k = 4⌈n/d⌉ neurons, P = k(d + 1) + k + 1. Raises ``ValueError``
    naming the argument for bad input (n < 2, d < 2, NaN, labels of the wrong
    length, a non-positive slab width) and naming ``x`` when a group is
    degenerate (duplicate or affinely dependent points) or another data
    point lies on a group's hyperplane. Works on the device of ``x``, in
    float64 (on Apple's MPS, which has no float64, on the CPU).
    """
    x = check_points("x", x, min_points=2, min_dim=2)
    n, d = x.shape
    y = check_labels("y", y, n)
    tries, chunk = _TRIES, _CHUNK
    check_generator("generator", generator)
    device = float64_device(
        x.device
    )  # MPS has no float64: the construction runs on the CPU there
    x = x.detach().to(device=device, dtype=torch.float64)
    y = y.detach().to(device=device, dtype=torch.float64)
    if generator is None:
        generator = torch.Generator(device="cpu").manual_seed(0)

    n_full, rest = divmod(n, d)
    n_groups = n_full + (rest > 0)
    group_index = torch.arange(n, device=device) // d
    normals = torch.empty(n_groups, d, dtype=x.dtype, device=device)
    slopes = torch.empty(n_groups, d, dtype=x.dtype, device=device)
    svd_chunk = max(
        1, min(chunk, (1 << 24) // (d * d))
    )  # keeps the batched SVD's (B, d, d) factors ~128 MB
    for start in range(0, n_full, svd_chunk):
        stop = min(start + svd_chunk, n_full)
        pts = x[start * d : stop * d].reshape(stop - start, d, d)
        normals[start:stop], slopes[start:stop] = _hyperplanes_full(
            pts, y[start * d : stop * d].reshape(-1, d), start
        )
    if rest:
        others = group_index != n_full
        normals[-1], slopes[-1] = _hyperplane_partial(
            x[n_full * d :], y[n_full * d :], x, others, n_full, generator, tries
        )

    first_points = x[::d][:n_groups]
    offsets = (normals * first_points).sum(dim=1)
    intercepts = y[::d][:n_groups] - (slopes * first_points).sum(dim=1)

    # D_m (distance of the nearest other point) and E_m (the widest admissible slab),
    # chunked over groups
    label_max = torch.cat(
        [y.abs(), torch.zeros(n_groups * d - n, dtype=x.dtype, device=device)]
    )
    label_max = label_max.reshape(n_groups, d).max(dim=1).values  # Y_m
    separations = torch.empty(n_groups, dtype=x.dtype, device=device)
    max_widths = torch.empty(n_groups, dtype=x.dtype, device=device)
    for start in range(0, n_groups, chunk):
        stop = min(start + chunk, n_groups)
        own = group_index[:, None] == torch.arange(start, stop, device=device)[None, :]
        h = (
            (x @ normals[start:stop].T - offsets[start:stop])
            .abs()
            .masked_fill(own, math.inf)
        )
        a = (x @ slopes[start:stop].T + intercepts[start:stop]).abs()
        ratio = a / (2 * label_max[start:stop]).clamp_min(torch.finfo(x.dtype).tiny)
        separations[start:stop] = h.min(dim=0).values
        max_widths[start:stop] = (h / (1 + ratio)).min(dim=0).values
    scale = float(x.abs().max())
    on_plane = separations <= 1e-12 * max(scale, 1.0)
    if bool(on_plane.any()):
        g = int(on_plane.nonzero()[0, 0])
        raise ValueError(
            f"x: a data point lies on the hyperplane of group {g}: the points are not "
            "in general position"
        )
    # a single group has no other point to avoid: any width works, take the data's scale
    max_widths = torch.where(
        torch.isinf(max_widths),
        torch.full_like(max_widths, max(scale, 1.0)),
        max_widths,
    )

    if slab_width is None:
        widths = max_widths / 2
    elif isinstance(slab_width, (int, float)) and not isinstance(slab_width, bool):
        widths = torch.full(
            (n_groups,),
            check_positive("slab_width", slab_width),
            dtype=x.dtype,
            device=device,
        )
    else:
        widths = check_tensor("slab_width", slab_width, ndim=1).to(
            device=device, dtype=x.dtype
        )
        if widths.shape[0] != n_groups:
            raise ValueError(
                "slab_width must be a number or have one entry per group "
                f"({n_groups}), got {widths.shape[0]}"
            )
        if bool((widths <= 0).any()):
            raise ValueError("slab_width must be > 0")
    epsilons = widths
    etas = torch.where(
        label_max > 0,
        epsilons / (2 * label_max.clamp_min(torch.finfo(x.dtype).tiny)),
        epsilons,
    )

    # the four units of each group, in the order +(h+ε+ηA) −(h+ε) −(h−ε+ηA) +(h−ε), all
    # divided by η
    steep = normals / etas[:, None]
    w_first = torch.stack(
        [steep + slopes, steep, steep + slopes, steep], dim=1
    ).reshape(4 * n_groups, d)
    b_plus = (epsilons - offsets) / etas
    b_minus = (-epsilons - offsets) / etas
    b_first = torch.stack(
        [b_plus + intercepts, b_plus, b_minus + intercepts, b_minus], dim=1
    ).reshape(-1)
    signs = torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=x.dtype, device=device).repeat(
        n_groups
    )

    first = nn.Linear(d, 4 * n_groups, dtype=x.dtype, device=device)
    second = nn.Linear(4 * n_groups, 1, dtype=x.dtype, device=device)
    with torch.no_grad():
        first.weight.copy_(w_first)
        first.bias.copy_(b_first)
        second.weight.copy_(signs[None, :])
        second.bias.zero_()

    # anchors: the point of each group with the largest |label| (for slab_points)
    y_pad = torch.cat(
        [y.abs(), torch.full((n_groups * d - n,), -1.0, dtype=x.dtype, device=device)]
    )
    best = (
        y_pad.reshape(n_groups, d).argmax(dim=1)
        + torch.arange(n_groups, device=device) * d
    )
    buffers = dict(
        normals=normals,
        offsets=offsets,
        affine_slopes=slopes,
        intercepts=intercepts,
        slab_widths=widths,
        etas=etas,
        separations=separations,
        max_slab_widths=max_widths,
        label_max=label_max,
        group_index=group_index,
        anchors=x[best].clone(),
        anchor_labels=y[best].clone(),
    )
    return BaumNetwork(first, second, buffers).eval()
