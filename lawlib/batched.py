"""Many 2-layer ReLU networks trained at once, as one batched model.

The law of robustness is a statement about a whole sweep of sizes, so the universal-law
chapter trains dozens to hundreds of networks f_j(x) = Σ_{ℓ ∈ N_j} a_ℓ ReLU(BN_ℓ(⟨w_ℓ,
x⟩ + b_ℓ)), one per (width k_j, seed), on the same data. Training them one after another
wastes the machine on small matrix products and Python overhead. Here every neuron of
every network is a column of ONE weight matrix W ∈ R^{K×d}, K = Σ_j k_j, so a forward
pass of the whole sweep is a single product x Wᵀ ∈ R^{n×K} and the outputs are sums
f_j = Σ_{ℓ ∈ N_j} a_ℓ ReLU(·)_ℓ over each network's neurons (one batched product per run
of networks of equal width). No width is padded. Groups of networks are sized so that
their K×n work matrix stays in the CPU's cache, and batch norm is folded into the first
layer. The same engine trains the gradient-penalized networks of the frontier chapter
(``lams``: the penalty's gradient is added to each step, :meth:`_Group.add_penalty`).

Why this gives exactly the networks one would get one at a time:

* batch normalization normalizes each neuron over the data separately, so it
  acts column by column;
* the training loss is the sum of the networks' own losses, L = Σ_j L_j, and the
  networks share no parameter, so ∂L/∂θ_j = ∂L_j/∂θ_j;
* Adam acts coordinate by coordinate, and every network starts at step 0.

A network that memorizes leaves the batch (its parameters and Adam moments are
sliced out), so per-network early stopping also saves time.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ._checks import check_int, check_positive, check_tensor
from .data import make_generator, random_signs, sample_gaussian
from .hardware import progress as progress_bar
from .models import two_layer_relu
from .train import adam_update_, calibrate_batch_norm, memorizes

# calibrate_batch_norm and memorizes are re-exported for the universal-law chapter.

__all__ = [
    "gaussian_sign_data",
    "BatchedResult",
    "calibrate_batch_norm",
    "memorizes",
    "train_batched",
    "concat_records",
]

_BN_EPS = 1e-5  # torch.nn.BatchNorm1d's default ε


def gaussian_sign_data(
    n: int,
    d: int,
    seed: int,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The generic data of Bubeck–Li–Nagaraj (section 5): x_i ~ N(0, I_d/d) i.i.d., y_i
    uniform ±1 independent of x. Returns (x of shape (n, d), y of shape (n,))."""
    n = check_int("n", n, minimum=2)
    g = make_generator(seed, device)
    return sample_gaussian(n, d, g, dtype=dtype), random_signs(n, g, dtype=dtype)


def _cache_bytes() -> int:
    """Size of the CPU's last-level cache in bytes: from /sys (Linux), else
    ``os.sysconf``, else 8 MiB."""
    best = 0
    for index in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*"):
        try:
            with open(os.path.join(index, "type")) as fh:
                if fh.read().strip() == "Instruction":
                    continue
            with open(os.path.join(index, "size")) as fh:
                text = fh.read().strip().upper()
        except OSError:
            continue
        unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMGB")
        if digits.isdigit():
            best = max(best, int(digits) * unit)
    if best:
        return best
    for name in ("SC_LEVEL3_CACHE_SIZE", "SC_LEVEL2_CACHE_SIZE"):
        try:
            size = os.sysconf(name)
        except (ValueError, OSError):
            continue
        if size > 0:
            return int(size)
    return 8 << 20


# of the last-level cache, for a group's n×k work matrix (the rest: x, weights, other
# core)
_CACHE_FRACTION = 0.5


def _group_capacity(
    n: int, dtype: torch.dtype, device: torch.device | str = "cpu"
) -> int:
    """How many neurons one group may hold so that its k×n work matrix fits in the CPU's
    cache.

    On the CPU a training step is bound by memory traffic unless the pre-activations of
    a group stay in the last-level cache between the forward and the backward pass, so
    groups hold at most ``_CACHE_FRACTION`` of the cache (read from the system). On a
    GPU the limit is kernel launches, not cache, so there it is unbounded (one group per
    data set). A network wider than this is a group alone.
    """
    if torch.device(device).type != "cpu":
        return 1 << 62
    itemsize = torch.empty((), dtype=dtype).element_size()
    return max(1, int(_CACHE_FRACTION * _cache_bytes()) // (n * itemsize))


class _Data:
    """One data set as the groups use it: [x − x̄, 1] (n×(d+1)), x̄ and the covariance Σ
    = (1/n) Σ_i x̃_i x̃_iᵀ.

    With batch norm, a neuron's pre-activation over the batch is ⟨w, x_i⟩ + b, of mean
    ⟨w, x̄⟩ + b and (biased) variance wᵀΣw, so its normalized value α⟨w, x_i − x̄⟩ + β
    (α = γ/√(wᵀΣw + ε)) is ONE matrix product with the centred data: batch norm folds
    into the first layer. Without batch norm x̄ = 0.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_norm: bool) -> None:
        n = x.shape[0]
        self.mean = x.mean(0) if batch_norm else torch.zeros_like(x[0])
        centred = x - self.mean
        self.xa = torch.cat(
            [centred, torch.ones_like(x[:, :1])], 1
        ).contiguous()  # [x̃, 1]: the bias as a column
        self.cov = centred.T @ centred / n if batch_norm else None
        self.y = y


class _Group:
    """Networks that fit one data set, trained together: their neurons (rows), Adam
    moments and buffers.

    Parameters live in ONE k×(d+4) matrix P, row ℓ = [w_ℓ, b_ℓ, γ_ℓ, β_ℓ, a_ℓ]; each
    network's neurons are consecutive rows, so a network is a row range. A step is two
    matrix products with the data, one (k×(d+1))·((d+1)×n) forward and one
    (k×n)·(n×(d+1)) backward, with the k×n work matrix kept in one reused buffer that
    fits in cache (:func:`_group_capacity`); the forward and backward passes are written
    out (no autograd). Gradients (with x̃ = x − x̄, h = α⟨w, x̃⟩ + β, g_ℓi = a_ℓ 1[h_ℓi
    > 0] ∂L/∂f(x_i), G_ℓ = Σ_i g_ℓi x̃_i, s = √(wᵀΣw + ε)):  ∂β = Σ_i g_ℓi,  ∂γ = ⟨w,
    G⟩/s, ∂w = (γ/s)(G − (⟨w, G⟩/s²) Σw),  ∂b = 0 (batch norm removes b),  ∂a_ℓ = Σ_i
    r_ℓi ∂L/∂f(x_i).
    """

    def __init__(
        self,
        nets: list[int],
        widths: list[int],
        params: torch.Tensor,
        data: _Data,
        batch_norm: bool,
        lams: list[float] | None = None,
    ) -> None:
        # the networks still training, in row order, and their penalty weights λ_j
        self.nets, self.widths = list(nets), list(widths)
        self.lams = [0.0] * len(self.nets) if lams is None else list(lams)
        self.P = params
        self.m1, self.m2 = torch.zeros_like(params), torch.zeros_like(params)
        self.data, self.batch_norm = data, batch_norm
        self.buffers: dict[str, torch.Tensor] = {}
        self._bounds()

    def _bounds(self) -> None:
        ends = np.cumsum(self.widths).tolist()
        self.bounds = list(zip([0] + ends[:-1], ends))
        # runs of consecutive networks of equal width and both penalized or not, as
        # (first row, count, width, first position): a run is one batched product
        self.runs: list[tuple[int, int, int, int]] = []
        for pos, ((s, _), k, lam) in enumerate(
            zip(self.bounds, self.widths, self.lams)
        ):
            last = self.runs[-1] if self.runs else None
            if last and last[2] == k and (self.lams[last[3]] > 0) == (lam > 0):
                self.runs[-1] = (last[0], last[1] + 1, k, last[3])
            else:
                self.runs.append((s, 1, k, pos))
        # the penalized networks come first (train_batched sorts them so); per run, the
        # factors 2λ_j/T of the penalty's gradient without the 1/T
        self.penalized = sum(k for k, lam in zip(self.widths, self.lams) if lam > 0)
        self.run_lams = [
            2
            * torch.tensor(self.lams[pos : pos + c], dtype=self.P.dtype)
            .to(self.P.device)
            .view(c, 1, 1)
            for _, c, _, pos in self.runs
        ]

    def keep(self, keep_nets: list[bool]) -> None:
        """Slice out the networks whose entry of ``keep_nets`` is False."""
        rows = torch.cat(
            [torch.arange(s, e) for (s, e), k in zip(self.bounds, keep_nets) if k]
        ).to(self.P.device)
        self.nets = [j for j, k in zip(self.nets, keep_nets) if k]
        self.widths = [w for w, k in zip(self.widths, keep_nets) if k]
        self.lams = [v for v, k in zip(self.lams, keep_nets) if k]
        self.P, self.m1, self.m2 = self.P[rows], self.m1[rows], self.m2[rows]
        self._bounds()

    def _buffer(self, name: str, cols: int) -> torch.Tensor:
        """A k×cols work matrix, allocated once and reused (fresh large allocations cost
        page faults every step)."""
        k = self.P.shape[0]
        buf = self.buffers.get(name)
        if buf is None or buf.shape[0] < k or buf.shape[1] != cols:
            buf = self.buffers[name] = torch.empty(
                k, cols, dtype=self.P.dtype, device=self.P.device
            )
        return buf[:k]

    def forward(self, eps: float) -> dict[str, torch.Tensor]:
        """Train-mode forward pass: per-network outputs, losses, memorization flags, and
        what backward needs."""
        P, xa = self.P, self.data.xa
        n, d = xa.shape[0], xa.shape[1] - 1
        w = P[:, :d]
        f: dict[str, torch.Tensor] = {}
        v = self._buffer(
            "v", d + 1
        )  # the folded first layer [α w, β] (or [w, b] without batch norm)
        if self.batch_norm:
            f["cov_w"] = cw = torch.mm(
                w, self.data.cov, out=self._buffer("cov_w", d)
            )  # Σw, row by row
            f["var"] = torch.mul(cw, w, out=self._buffer("tmp_d", d)).sum(
                1
            )  # wᵀΣw: the batch variance
            f["inv_std"] = torch.rsqrt(f["var"] + _BN_EPS)
            f["alpha"] = P[:, d + 1] * f["inv_std"]
            torch.mul(w, f["alpha"].unsqueeze(1), out=v[:, :d])
            v[:, d] = P[:, d + 2]
        else:
            v.copy_(P[:, : d + 1])
        f["v"] = v
        r = torch.mm(v, xa.T, out=self._buffer("work", n)).clamp_(
            min=0
        )  # r_ℓi = ReLU(h_ℓi), k×n
        f["r"] = r
        a = P[:, d + 3]
        out = torch.empty(len(self.nets), n, dtype=P.dtype, device=P.device)
        for s, c, k, pos in self.runs:  # f_j(x_i) = Σ_{ℓ ∈ N_j} a_ℓ r_ℓi
            rows = slice(s, s + c * k)
            ar, rr = a[rows].view(c, 1, k), r[rows].view(c, k, n)
            torch.bmm(ar, rr, out=out[pos : pos + c].view(c, 1, n))
        f["residual"] = out - self.data.y
        f["loss"] = f["residual"].square().mean(1)
        f["memorized"] = (torch.sign(out) == self.data.y).all(1) & (f["loss"] <= eps)
        return f

    def backward(self, f: dict[str, torch.Tensor]) -> torch.Tensor:
        """The gradient of Σ_j L_j, L_j = (1/n) Σ_i (f_j(x_i) − y_i)², as a k×(d+4)
        matrix laid out like P.

        Overwrites the work matrix (r becomes 1[h > 0] ∂L/∂f).
        """
        P, xa = self.P, self.data.xa
        n, d = xa.shape[0], xa.shape[1] - 1
        dout = f["residual"].mul_(2.0 / n)  # ∂L_j/∂f_j(x_i)
        work = f["r"].sign_()  # 1[h > 0]
        for s, c, k, pos in self.runs:
            work[s : s + c * k].view(c, k, n).mul_(dout[pos : pos + c].view(c, 1, n))
        gu = torch.mm(
            work, xa, out=self._buffer("gu", d + 1)
        )  # Σ_i 1[h_ℓi > 0] ∂L/∂f(x_i) [x̃_i, 1]
        a = P[:, d + 3]
        grad = self._buffer("grad", d + 4)
        # ∂a_ℓ = Σ_i r_ℓi ∂L/∂f(x_i) = ⟨[α w, β]_ℓ, gu_ℓ⟩ since r_ℓi = 1[h_ℓi > 0] ⟨[α
        # w, β]_ℓ, [x̃_i, 1]⟩
        grad[:, d + 3] = torch.mul(f["v"], gu, out=self._buffer("tmp_d1", d + 1)).sum(1)
        g = gu.mul_(a.unsqueeze(1))  # [G, ∂β] = a_ℓ gu_ℓ
        if self.batch_norm:
            inv_std, cw = f["inv_std"], f["cov_w"]
            wg = torch.mul(P[:, :d], g[:, :d], out=self._buffer("tmp_d", d)).sum(
                1
            )  # ⟨w, G⟩
            grad[:, d + 1] = wg * inv_std  # ∂γ
            grad[:, d + 2] = g[:, d]  # ∂β
            grad[:, d] = 0  # ∂b: batch norm subtracts the mean, so b has no effect
            torch.addcmul(
                g[:, :d],
                cw,
                (wg * inv_std.square()).unsqueeze(1),
                value=-1,
                out=grad[:, :d],
            )
            grad[:, :d].mul_(f["alpha"].unsqueeze(1))  # ∂w = α (G − ⟨w, G⟩/s² Σw)
        else:
            grad[:, : d + 1] = g  # [∂w, ∂b]
            grad[:, d + 1 : d + 3] = 0
        return grad

    def add_penalty(self, grad: torch.Tensor, za: torch.Tensor) -> None:
        """Add λ_j ∂R_j/∂θ to ``grad``, R_j = (1/T) Σ_t ‖∇f_j(z_t)‖², at za = [z, 1].

        Without batch norm, ∇f(z_t) = G_t = Σ_ℓ a_ℓ m_ℓt w_ℓ with
        m_ℓt = 1[⟨w_ℓ, z_t⟩ + b_ℓ > 0], and with H_ℓ = (2/T) Σ_t m_ℓt G_t:

            ∂R/∂w_ℓ = a_ℓ H_ℓ,   ∂R/∂a_ℓ = ⟨w_ℓ, H_ℓ⟩,   ∂R/∂b_ℓ = 0

        (derived in :mod:`lawlib.chapters.frontier`). One product for the pattern m,
        then two batched products per run of networks of equal width.
        """
        P, (t, d), kp = self.P, (za.shape[0], za.shape[1] - 1), self.penalized
        if kp == 0:
            return
        mask = torch.mm(P[:kp, : d + 1], za.T, out=self._buffer("mask", t)[:kp])
        mask.gt_(0)
        am = torch.mul(mask, P[:kp, d + 3 : d + 4], out=self._buffer("am", t)[:kp])
        h = self._buffer("h", d)[:kp]
        for (s, c, k, pos), lams in zip(self.runs, self.run_lams):
            if self.lams[pos] == 0:
                break
            rows = slice(s, s + c * k)
            g = torch.bmm(
                am[rows].view(c, k, t).transpose(1, 2), P[rows, :d].view(c, k, d)
            )
            g.mul_(lams / t)  # λ_j (2/T) G_t, (c, T, d)
            torch.bmm(mask[rows].view(c, k, t), g, out=h[rows].view(c, k, d))
        w, a = P[:kp, :d], P[:kp, d + 3 : d + 4]
        grad[:kp, d + 3] += torch.mul(w, h, out=self._buffer("tmp_d", d)[:kp]).sum(1)
        grad[:kp, :d].addcmul_(h, a)

    def adam_step(self, grad: torch.Tensor, t: int, lr: float) -> None:
        """One Adam step (t = 1, 2, …) on every parameter
        (:func:`lawlib.train.adam_update_`)."""
        denom = self._buffer("denom", grad.shape[1])
        adam_update_(self.P, grad, self.m1, self.m2, t, lr, denom=denom)

    def weights(self, pos: int, f: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Network ``pos``'s parameters (and, with batch norm, its full-batch
        statistics) as a dict of copies."""
        s, e = self.bounds[pos]
        d = self.data.xa.shape[1] - 1
        p = self.P[s:e]
        out = {
            "weight": p[:, :d].clone(),
            "bias": p[:, d].clone(),
            "a": p[:, d + 3].clone(),
        }
        if self.batch_norm:
            out.update(
                gamma=p[:, d + 1].clone(),
                beta=p[:, d + 2].clone(),
                mean=out["weight"] @ self.data.mean + out["bias"],
                var=f["var"][s:e].clone(),
            )
        return out


def _hidden(
    x: torch.Tensor, p: dict[str, torch.Tensor], batch_norm: bool
) -> torch.Tensor:
    """Eval-mode hidden pre-activations (after batch norm with the stored statistics,
    before the ReLU)."""
    pre = torch.addmm(p["bias"], x, p["weight"].T)
    if not batch_norm:
        return pre
    return (pre - p["mean"]) * (p["gamma"] / torch.sqrt(p["var"] + _BN_EPS)) + p["beta"]


@dataclass
class BatchedResult:
    """A trained sweep: per-network outcome arrays (in the order the networks were
    given) and the weights."""

    widths: np.ndarray
    seeds: np.ndarray
    datasets: np.ndarray
    memorized: np.ndarray
    steps: np.ndarray
    final_loss: np.ndarray
    n_parameters: np.ndarray
    batch_norm: bool
    d: int
    _weights: list[dict[str, torch.Tensor]] = field(repr=False, default_factory=list)

    def network(self, j: int) -> nn.Sequential:
        """A standalone eval-mode copy of network ``j``: Linear(d, k) → [BatchNorm1d(k)]
        → ReLU → Linear(k, 1) → Flatten."""
        j = check_int("j", j, minimum=0)
        if j >= len(self._weights):
            raise ValueError(
                f"j must be < {len(self._weights)} (the number of networks), got {j}"
            )
        w = self._weights[j]
        k = int(self.widths[j])
        net = two_layer_relu(self.d, k, batch_norm=self.batch_norm).to(
            device=w["weight"].device, dtype=w["weight"].dtype
        )
        with torch.no_grad():
            net[0].weight.copy_(w["weight"])
            net[0].bias.copy_(w["bias"])
            if self.batch_norm:
                bn = net[1]
                bn.weight.copy_(w["gamma"])
                bn.bias.copy_(w["beta"])
                bn.running_mean.copy_(w["mean"])
                bn.running_var.copy_(w["var"])
            net[-2].weight.copy_(w["a"].unsqueeze(0))
        return net.eval()

    def _stacked(self) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        keys = list(self._weights[0])
        cat = {k: torch.cat([w[k] for w in self._weights]) for k in keys}
        owner = torch.repeat_interleave(
            torch.arange(len(self._weights), device=cat["a"].device),
            torch.as_tensor(self.widths, device=cat["a"].device),
        )
        return cat, owner

    def _check_points(self, name: str, z: torch.Tensor) -> torch.Tensor:
        z = check_tensor(name, z, ndim=2)
        if z.shape[1] != self.d:
            raise ValueError(
                f"{name} must have {self.d} columns (the dimension d), got {z.shape[1]}"
            )
        return z.to(self._weights[0]["weight"])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """f_j(x_t) for every network j and point t, shape (m, T), in one pass."""
        x = self._check_points("x", x)
        p, owner = self._stacked()
        with torch.no_grad():
            out = torch.zeros(
                x.shape[0], len(self._weights), dtype=x.dtype, device=x.device
            )
            return out.index_add_(
                1, owner, torch.relu(_hidden(x, p, self.batch_norm)) * p["a"]
            ).T

    def gradient_norms(self, z: torch.Tensor) -> torch.Tensor:
        """‖∇f_j(z_t)‖ for every network j and point t, shape (m, T), exact.

        For the eval-mode network, ∇f_j(z) = Σ_{ℓ∈N_j} a_ℓ s_ℓ 1[BN_ℓ(⟨w_ℓ, z⟩ + b_ℓ) >
        0] w_ℓ with s_ℓ = γ_ℓ/√(v_ℓ + ε) (s_ℓ = 1 without batch norm): one
        (T×k_j)·(k_j×d) product per network.
        """
        z = self._check_points("z", z)
        out = torch.empty(
            len(self._weights), z.shape[0], dtype=z.dtype, device=z.device
        )
        with torch.no_grad():
            for j, w in enumerate(self._weights):
                h = _hidden(z, w, self.batch_norm)
                scale = w["a"] * (
                    w["gamma"] / torch.sqrt(w["var"] + _BN_EPS)
                    if self.batch_norm
                    else 1
                )
                out[j] = torch.linalg.vector_norm(
                    ((h > 0) * scale) @ w["weight"], dim=1
                )
        return out

    def max_gradient(self, z: torch.Tensor) -> np.ndarray:
        """The maximum random gradient max_t ‖∇f_j(z_t)‖ of each network (the proxy of
        Bubeck–Li–Nagaraj)."""
        return self.gradient_norms(z).max(1).values.cpu().numpy()


def _check_sweep(x, y, widths, seeds, datasets):
    x = check_tensor("x", x)
    if x.ndim == 2:
        x = x.unsqueeze(0)
    if x.ndim != 3 or x.shape[1] < 2:
        raise ValueError(
            f"x must have shape (n, d) or (s, n, d) with n >= 2, got {tuple(x.shape)}"
        )
    y = check_tensor("y", y).to(x)
    if y.ndim == 1:
        y = y.unsqueeze(0)
    if y.shape != x.shape[:2]:
        raise ValueError(
            f"y must have shape {tuple(x.shape[:2])} (one label per point of each "
            f"data set), got {tuple(y.shape)}"
        )
    widths = [check_int(f"widths[{i}]", k, minimum=1) for i, k in enumerate(widths)]
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if len(widths) == 0:
        raise ValueError("widths must list at least one network")
    if len(seeds) != len(widths):
        raise ValueError(
            f"seeds must have one entry per network ({len(widths)}), got {len(seeds)}"
        )
    datasets = (
        [0] * len(widths)
        if datasets is None
        else [check_int(f"datasets[{i}]", s, minimum=0) for i, s in enumerate(datasets)]
    )
    if len(datasets) != len(widths):
        raise ValueError(
            f"datasets must have one entry per network ({len(widths)}), got "
            f"{len(datasets)}"
        )
    if max(datasets) >= x.shape[0]:
        raise ValueError(
            f"datasets must index the {x.shape[0]} data set(s) in x, got "
            f"{max(datasets)}"
        )
    return x, y, widths, seeds, datasets


def train_batched(
    x: torch.Tensor,
    y: torch.Tensor,
    widths: Sequence[int],
    seeds: Sequence[int],
    *,
    datasets: Sequence[int] | None = None,
    batch_norm: bool = True,
    steps: int = 2000,
    lr: float = 1e-2,
    eps: float = 0.02,
    progress: bool = True,
    lams: Sequence[float] | None = None,
    penalty_points: Callable[[], torch.Tensor] | None = None,
) -> BatchedResult:
    """Train m = len(widths) 2-layer ReLU networks at once, full batch, with Adam on the
    square loss.

    Network j has ``widths[j]`` neurons, is initialised exactly like
    ``two_layer_relu(d, widths[j], batch_norm=batch_norm,
    generator=make_generator(seeds[j]))`` and fits data set ``datasets[j]``: ``x`` is
    (n, d) (one data set) or (s, n, d), ``y`` is (n,) or (s, n). Each network minimizes
    L_j = (1/n) Σ_i (f_j(x_i) − y_i)² with Adam (:func:`lawlib.train.adam_update_`,
    rate ``lr``) and stops, without a further step, as soon as it memorizes: sign
    f_j(x_i) = y_i for all i and L_j ≤ ``eps`` (:func:`memorizes`). At most ``steps``
    Adam steps. With ``batch_norm`` the networks train with batch statistics, and the
    returned networks use the final full-batch statistics (so they equal the trained
    functions on the training data; :func:`calibrate_batch_norm`).

    With ``lams`` (one λ_j ≥ 0 per network, without batch norm only) network j
    minimizes L_j + λ_j (1/T) Σ_t ‖∇f_j(z_t)‖² instead, the T points z drawn by
    ``penalty_points()`` afresh at every step and shared by all networks (the trainer
    of :func:`lawlib.chapters.frontier.train_penalized`); the stopping rule reads the
    data loss.

    The result gives the same networks as training each one alone with
    ``torch.optim.Adam`` (tested). ``progress``: ``False`` hides the bar, otherwise
    ``LAWLIB_PROGRESS`` decides (:func:`lawlib.hardware.progress`).
    """
    x, y, widths, seeds, datasets = _check_sweep(x, y, widths, seeds, datasets)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    eps = check_positive("eps", eps)
    m, d = len(widths), x.shape[2]
    device, dtype = x.device, x.dtype
    if lams is not None:
        lams = [
            check_positive(f"lams[{i}]", v, allow_zero=True) for i, v in enumerate(lams)
        ]
        if len(lams) != m:
            raise ValueError(
                f"lams must have one entry per network ({m}), got {len(lams)}"
            )
        if batch_norm:
            raise ValueError(
                "lams needs batch_norm=False (the penalty is written for it)"
            )
        if penalty_points is None:
            raise ValueError("penalty_points must be given with lams")
    penalized = lams is not None and any(v > 0 for v in lams)

    groups: list[_Group] = []
    cap = _group_capacity(x.shape[1], dtype, device)
    for s in sorted(set(datasets)):
        data = _Data(x[s], y[s], batch_norm)
        nets = sorted(  # penalized first, by width: equal widths are contiguous
            (j for j in range(m) if datasets[j] == s),
            key=lambda j: (lams[j] == 0, widths[j], lams[j]) if lams else widths[j],
        )
        packs: list[list[int]] = [[]]
        for j in nets:  # narrowest first, packed into groups of at most ``cap`` neurons
            if packs[-1] and sum(widths[i] for i in packs[-1]) + widths[j] > cap:
                packs.append([])
            packs[-1].append(j)
        for pack in packs:
            params = torch.cat(
                [_initial_rows(d, widths[j], seeds[j], batch_norm) for j in pack]
            )
            groups.append(
                _Group(
                    pack,
                    [widths[j] for j in pack],
                    params.to(device=device, dtype=dtype),
                    data,
                    batch_norm,
                    [lams[j] for j in pack] if lams else None,
                )
            )

    done_steps = np.zeros(m, dtype=np.int64)
    final_loss = np.full(m, np.nan)
    memorized = np.zeros(m, dtype=bool)
    weights: list[dict[str, torch.Tensor]] = [{} for _ in range(m)]

    def freeze(g: _Group, stop: list[bool], f: dict[str, torch.Tensor]) -> None:
        """Record the weights (and batch statistics) of the networks in ``stop``."""
        loss, mem = f["loss"].tolist(), f["memorized"].tolist()
        for pos, j in enumerate(g.nets):
            if stop[pos]:
                weights[j] = g.weights(pos, f)
                final_loss[j], memorized[j] = loss[pos], mem[pos]

    with torch.no_grad():
        bar = progress_bar(
            range(steps),
            total=steps,
            desc=f"training {m} networks",
            enabled=None if progress else False,
        )
        for t in bar:
            za = None
            if penalized:  # one draw per step, shared by every network
                z = penalty_points()
                za = torch.cat([z, torch.ones_like(z[:, :1])], 1)
            for g in list(groups):
                f = g.forward(eps)
                if bool(f["memorized"].any()):  # leave the batch without a further step
                    stop = f["memorized"].tolist()
                    freeze(g, stop, f)
                    if all(stop):
                        groups.remove(g)
                        continue
                    g.keep([not s for s in stop])
                    f = g.forward(eps)
                grad = g.backward(f)
                if za is not None:
                    g.add_penalty(grad, za)
                g.adam_step(grad, t + 1, lr)
                done_steps[g.nets] += 1
            if not groups:
                break
        for g in groups:  # networks that used every step: record their final weights
            f = g.forward(eps)
            freeze(g, [True] * len(g.nets), f)

    per_net = np.array([k * (d + 1) + k + (2 * k if batch_norm else 0) for k in widths])
    return BatchedResult(
        widths=np.array(widths),
        seeds=np.array(seeds),
        datasets=np.array(datasets),
        memorized=memorized,
        steps=done_steps,
        final_loss=final_loss,
        n_parameters=per_net,
        batch_norm=batch_norm,
        d=d,
        _weights=weights,  # type: ignore[arg-type]
    )


def _initial_rows(d: int, k: int, seed: int, batch_norm: bool) -> torch.Tensor:
    """Network ``two_layer_relu(d, k, generator=make_generator(seed))`` as rows [w, b,
    γ, β, a]."""
    net = two_layer_relu(d, k, batch_norm=batch_norm, generator=make_generator(seed))
    one, zero = torch.ones(k, 1), torch.zeros(k, 1)
    first, last = net[0], net[-2]
    return torch.cat(
        [first.weight, first.bias[:, None], one, zero, last.weight[0][:, None]], 1
    ).detach()


def concat_records(records: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate records (dicts of equal-length arrays, one row per network) key by
    key: the sweeps of several cells as one table."""
    records = list(records)
    if not records:
        raise ValueError("records must hold at least one experiment's output")
    keys = list(records[0])
    for i, r in enumerate(records):
        if list(r) != keys:
            raise ValueError(f"records[{i}] must have the keys {keys}, got {list(r)}")
    return {k: np.concatenate([r[k] for r in records]) for k in keys}
