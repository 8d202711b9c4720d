"""Many 2-layer ReLU networks trained at once, as one batched model (chapter 5).

The law of robustness is a statement about a whole sweep of sizes, so chapter 5
trains dozens to hundreds of networks f_j(x) = Σ_{ℓ ∈ N_j} a_ℓ ReLU(BN_ℓ(⟨w_ℓ, x⟩ + b_ℓ)),
one per (width k_j, seed), on the same data. Training them one after another
wastes the machine on small matrix products and Python overhead. Here every
neuron of every network is a column of ONE weight matrix W ∈ R^{K×d},
K = Σ_j k_j, so a forward pass of the whole sweep is a single product
x Wᵀ ∈ R^{n×K} and the outputs are segment sums f = (a ⊙ ReLU(·)) S with a 0/1
matrix S ∈ R^{K×m} that says which network each neuron belongs to. No width is
padded.

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

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_int, check_positive, check_tensor
from .data import make_generator, random_signs, sample_gaussian
from .models import two_layer_relu
from .train import calibrate_batch_norm, memorizes  # noqa: F401  (re-exported for chapter 5)

BN_EPS = 1e-5  # torch.nn.BatchNorm1d's default ε
_BETAS = (0.9, 0.999)
_ADAM_EPS = 1e-8
_FIELDS = ("weight", "bias", "gamma", "beta", "a")


def gaussian_sign_data(
    n: int, d: int, seed: int, *, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor]:
    """The generic data of Bubeck–Li–Nagaraj (section 5): x_i ~ N(0, I_d/d) i.i.d., y_i uniform ±1
    independent of x (chapter 5). Returns (x of shape (n, d), y of shape (n,))."""
    n = check_int("n", n, minimum=2)
    g = make_generator(seed, device)
    return sample_gaussian(n, d, g, dtype=dtype), random_signs(n, g, dtype=dtype)


class _Group:
    """The networks that fit one data set ``x``: their neurons (columns), Adam moments, and owners.

    The forward and backward passes are written out (no autograd): for the n×K pre-activations this
    halves the memory traffic, which is what bounds the speed of a sweep on a CPU.
    """

    def __init__(self, nets: list[int], params: dict[str, torch.Tensor], owner: torch.Tensor,
                 x: torch.Tensor, y: torch.Tensor, batch_norm: bool) -> None:
        self.nets = nets  # indices (into the sweep) of the networks still training, in column order
        self.params = params
        self.owner = owner  # (K,) position in ``nets`` of each neuron's network
        self.m1 = {k: torch.zeros_like(v) for k, v in params.items()}
        self.m2 = {k: torch.zeros_like(v) for k, v in params.items()}
        self.x, self.y, self.batch_norm = x, y, batch_norm
        self.buffers: dict[str, torch.Tensor] = {}

    def keep(self, keep_nets: torch.Tensor) -> None:
        """Slice out the networks whose entry of the bool mask ``keep_nets`` is False."""
        cols = keep_nets[self.owner]
        new_pos = torch.cumsum(keep_nets.long(), 0) - 1
        self.owner = new_pos[self.owner[cols]]
        self.nets = [j for j, k in zip(self.nets, keep_nets.tolist()) if k]
        for store in (self.params, self.m1, self.m2):
            for k in store:
                store[k] = store[k][cols].clone()

    def _buffer(self, name: str) -> torch.Tensor:
        """A K×n work matrix, allocated once and reused (fresh n×K allocations cost as much as the arithmetic)."""
        k, n = self.params["a"].shape[0], self.x.shape[0]
        buf = self.buffers.get(name)
        if buf is None or buf.shape[0] < k:
            buf = self.buffers[name] = torch.empty(k, n, dtype=self.x.dtype, device=self.x.device)
        return buf[:k]

    def forward(self, eps: float) -> dict[str, torch.Tensor]:
        """Train-mode forward pass: per-network losses, memorization flags and what the backward pass needs.

        Neuron-major layout: the pre-activations are a K×n matrix, so every per-neuron statistic is a
        reduction along contiguous memory, and f = A r with the m×K matrix A[j, ℓ] = a_ℓ 1[ℓ ∈ N_j].
        """
        p, n = self.params, self.x.shape[0]
        pre = torch.addmm(p["bias"].unsqueeze(1), p["weight"], self.x.T, out=self._buffer("pre"))  # ⟨w_ℓ, x_i⟩ + b_ℓ
        f: dict[str, torch.Tensor] = {}
        if self.batch_norm:
            f["mean"] = pre.mean(1)
            f["centred"] = pre.sub_(f["mean"].unsqueeze(1))
            f["var"] = torch.linalg.vector_norm(pre, dim=1).square_().div_(n)  # biased, as in train mode
            f["inv_std"] = torch.rsqrt(f["var"] + BN_EPS)
            f["alpha"] = p["gamma"] * f["inv_std"]  # h = γ (pre − μ)/√(v + ε) + β = α (pre − μ) + β
            h = torch.addcmul(p["beta"].unsqueeze(1), pre, f["alpha"].unsqueeze(1), out=self._buffer("h"))
        else:
            h = pre
        f["r"] = h.clamp_(min=0)
        seg = torch.zeros(len(self.nets), h.shape[0], dtype=h.dtype, device=h.device)
        seg[self.owner, torch.arange(h.shape[0], device=h.device)] = p["a"]
        f["seg"] = seg
        out = seg @ f["r"]  # f_j(x_i) = Σ_{ℓ ∈ N_j} a_ℓ r_ℓi
        f["residual"] = out - self.y
        f["loss"] = f["residual"].square().mean(1)
        f["memorized"] = (torch.sign(out) == self.y).all(1) & (f["loss"] <= eps)
        return f

    def backward(self, f: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Gradients of Σ_j L_j, each network's loss L_j = (1/n) Σ_i (f_j(x_i) − y_i)², w.r.t. every parameter."""
        p, n = self.params, self.x.shape[0]
        k = p["a"].shape[0]
        dout = f["residual"] * (2.0 / n)  # ∂L_j/∂f_j(x_i)
        grads = {"a": (f["r"] @ dout.T)[torch.arange(k, device=dout.device), self.owner]}
        g = torch.mm(f["seg"].T, dout, out=self._buffer("g"))  # ∂/∂r_ℓi = a_ℓ ∂L_j/∂f_j(x_i)
        g.mul_(torch.sign(f["r"], out=self._buffer("mask")))  # ∂/∂h: the ReLU passes where r > 0
        if self.batch_norm:
            # With x̂ = (pre − μ)/√(v + ε):  ∂/∂β = Σ_i ∂/∂h,  ∂/∂γ = Σ_i x̂ ∂/∂h, and
            # ∂/∂pre = α (∂/∂h − mean_i ∂/∂h − x̂ · mean_i(x̂ ∂/∂h)),  α = γ/√(v + ε).
            centred, inv_std, alpha = f["centred"], f["inv_std"], f["alpha"]
            grads["beta"] = g.sum(1)
            g_centred = torch.mul(g, centred, out=self._buffer("mask")).sum(1)
            grads["gamma"] = g_centred * inv_std
            g.mul_(alpha.unsqueeze(1)).sub_((alpha * grads["beta"] / n).unsqueeze(1))
            g.addcmul_(centred, (alpha * inv_std.square() * g_centred / n).unsqueeze(1), value=-1)
        grads["bias"] = g.sum(1)
        grads["weight"] = g @ self.x
        return grads

    def adam_step(self, grads: dict[str, torch.Tensor], t: int, lr: float) -> None:
        """One Adam step (t = 1, 2, …), computed as ``torch.optim.Adam`` computes it."""
        beta1, beta2 = _BETAS
        c1, c2 = 1 - beta1**t, 1 - beta2**t
        for k, param in self.params.items():
            grad = grads[k]
            self.m1[k].lerp_(grad, 1 - beta1)
            self.m2[k].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            denom = (self.m2[k].sqrt() / c2**0.5).add_(_ADAM_EPS)
            param.addcdiv_(self.m1[k], denom, value=-lr / c1)


def _hidden(x: torch.Tensor, p: dict[str, torch.Tensor], batch_norm: bool) -> torch.Tensor:
    """Eval-mode hidden pre-activations (after batch norm with the stored statistics, before the ReLU)."""
    pre = torch.addmm(p["bias"], x, p["weight"].T)
    if not batch_norm:
        return pre
    return (pre - p["mean"]) * (p["gamma"] / torch.sqrt(p["var"] + BN_EPS)) + p["beta"]


@dataclass
class BatchedResult:
    """A trained sweep: per-network outcome arrays (in the order the networks were given) and the weights."""

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
        """A standalone eval-mode copy of network ``j``: Linear(d, k) → [BatchNorm1d(k)] → ReLU → Linear(k, 1) → Flatten."""
        j = check_int("j", j, minimum=0)
        if j >= len(self._weights):
            raise ValueError(f"j must be < {len(self._weights)} (the number of networks), got {j}")
        w = self._weights[j]
        k = int(self.widths[j])
        net = two_layer_relu(self.d, k, batch_norm=self.batch_norm).to(device=w["weight"].device, dtype=w["weight"].dtype)
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
            torch.arange(len(self._weights), device=cat["a"].device), torch.as_tensor(self.widths, device=cat["a"].device)
        )
        return cat, owner

    def _check_points(self, name: str, z: torch.Tensor) -> torch.Tensor:
        z = check_tensor(name, z, ndim=2)
        if z.shape[1] != self.d:
            raise ValueError(f"{name} must have {self.d} columns (the dimension d), got {z.shape[1]}")
        return z.to(self._weights[0]["weight"])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """f_j(x_t) for every network j and point t, shape (m, T), in one batched pass."""
        x = self._check_points("x", x)
        p, owner = self._stacked()
        with torch.no_grad():
            out = torch.zeros(x.shape[0], len(self._weights), dtype=x.dtype, device=x.device)
            return out.index_add_(1, owner, torch.relu(_hidden(x, p, self.batch_norm)) * p["a"]).T

    def gradient_norms(self, z: torch.Tensor) -> torch.Tensor:
        """‖∇f_j(z_t)‖ for every network j and point t, shape (m, T), exact.

        For the eval-mode network, ∇f_j(z) = Σ_{ℓ∈N_j} a_ℓ s_ℓ 1[BN_ℓ(⟨w_ℓ, z⟩ + b_ℓ) > 0] w_ℓ with
        s_ℓ = γ_ℓ/√(v_ℓ + ε) (s_ℓ = 1 without batch norm): one (T×k_j)·(k_j×d) product per network.
        """
        z = self._check_points("z", z)
        out = torch.empty(len(self._weights), z.shape[0], dtype=z.dtype, device=z.device)
        with torch.no_grad():
            for j, w in enumerate(self._weights):
                h = _hidden(z, w, self.batch_norm)
                scale = w["a"] * (w["gamma"] / torch.sqrt(w["var"] + BN_EPS) if self.batch_norm else 1)
                out[j] = torch.linalg.vector_norm(((h > 0) * scale) @ w["weight"], dim=1)
        return out

    def max_gradient(self, z: torch.Tensor) -> np.ndarray:
        """The maximum random gradient max_t ‖∇f_j(z_t)‖ of each network (the proxy of Bubeck–Li–Nagaraj)."""
        return self.gradient_norms(z).max(1).values.cpu().numpy()


def _check_sweep(x, y, widths, seeds, datasets):
    x = check_tensor("x", x)
    if x.ndim == 2:
        x = x.unsqueeze(0)
    if x.ndim != 3 or x.shape[1] < 2:
        raise ValueError(f"x must have shape (n, d) or (s, n, d) with n >= 2, got {tuple(x.shape)}")
    y = check_tensor("y", y).to(x)
    if y.ndim == 1:
        y = y.unsqueeze(0)
    if y.shape != x.shape[:2]:
        raise ValueError(f"y must have shape {tuple(x.shape[:2])} (one label per point of each data set), got {tuple(y.shape)}")
    widths = [check_int(f"widths[{i}]", k, minimum=1) for i, k in enumerate(widths)]
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if len(widths) == 0:
        raise ValueError("widths must list at least one network")
    if len(seeds) != len(widths):
        raise ValueError(f"seeds must have one entry per network ({len(widths)}), got {len(seeds)}")
    datasets = [0] * len(widths) if datasets is None else [check_int(f"datasets[{i}]", s, minimum=0) for i, s in enumerate(datasets)]
    if len(datasets) != len(widths):
        raise ValueError(f"datasets must have one entry per network ({len(widths)}), got {len(datasets)}")
    if max(datasets) >= x.shape[0]:
        raise ValueError(f"datasets must index the {x.shape[0]} data set(s) in x, got {max(datasets)}")
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
) -> BatchedResult:
    """Train m = len(widths) 2-layer ReLU networks at once, full batch, with Adam on the square loss (chapter 5).

    Network j has ``widths[j]`` neurons, is initialised exactly like
    ``two_layer_relu(d, widths[j], batch_norm=batch_norm, generator=make_generator(seeds[j]))``
    and fits data set ``datasets[j]``: ``x`` is (n, d) (one data set) or (s, n, d), ``y`` is (n,) or (s, n).
    Each network minimizes L_j = (1/n) Σ_i (f_j(x_i) − y_i)² with Adam (β = (0.9, 0.999), ε = 10⁻⁸, rate
    ``lr``) and stops, without a further step, as soon as it memorizes: sign f_j(x_i) = y_i for all i and
    L_j ≤ ``eps`` (:func:`memorizes`). At most ``steps`` Adam steps. With ``batch_norm`` the networks train
    with batch statistics, and the returned networks use the final full-batch statistics (so they equal the
    trained functions on the training data; :func:`calibrate_batch_norm`).

    The result gives the same networks as training each one alone with ``torch.optim.Adam`` (tested).
    """
    x, y, widths, seeds, datasets = _check_sweep(x, y, widths, seeds, datasets)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    eps = check_positive("eps", eps)
    m, d = len(widths), x.shape[2]
    device, dtype = x.device, x.dtype

    groups: list[_Group] = []
    for s in sorted(set(datasets)):
        nets = [j for j in range(m) if datasets[j] == s]
        parts: dict[str, list[torch.Tensor]] = {k: [] for k in _FIELDS}
        for j in nets:
            net = two_layer_relu(d, widths[j], batch_norm=batch_norm, generator=make_generator(seeds[j]))
            parts["weight"].append(net[0].weight.detach())
            parts["bias"].append(net[0].bias.detach())
            parts["gamma"].append(torch.ones(widths[j]))
            parts["beta"].append(torch.zeros(widths[j]))
            parts["a"].append(net[-2].weight.detach()[0])
        params = {k: torch.cat(v).to(device=device, dtype=dtype) for k, v in parts.items()}
        if not batch_norm:
            del params["gamma"], params["beta"]
        sizes = torch.tensor([widths[j] for j in nets], device=device)
        owner = torch.repeat_interleave(torch.arange(len(nets), device=device), sizes)
        groups.append(_Group(nets, params, owner, x[s], y[s], batch_norm))

    done_steps = np.zeros(m, dtype=np.int64)
    final_loss = np.full(m, np.nan)
    memorized = np.zeros(m, dtype=bool)
    weights: list[dict[str, torch.Tensor]] = [{} for _ in range(m)]

    def freeze(g: _Group, stop: torch.Tensor, f: dict[str, torch.Tensor]) -> None:
        """Record the current weights (and full-batch BN statistics) of the networks flagged in ``stop``."""
        for pos in torch.nonzero(stop).flatten().tolist():
            j, cols = g.nets[pos], g.owner == pos
            weights[j] = {k: v[cols].clone() for k, v in g.params.items()}
            if batch_norm:
                weights[j]["mean"], weights[j]["var"] = f["mean"][cols].clone(), f["var"][cols].clone()
            final_loss[j], memorized[j] = float(f["loss"][pos]), bool(f["memorized"][pos])

    bar = tqdm(range(steps), disable=not progress, desc=f"training {m} networks")
    with torch.no_grad():
        for t in bar:
            for g in list(groups):
                f = g.forward(eps)
                if bool(f["memorized"].any()):  # memorized: leave the batch without a further step
                    freeze(g, f["memorized"], f)
                    if bool(f["memorized"].all()):
                        groups.remove(g)
                        continue
                    g.keep(~f["memorized"])
                    f = g.forward(eps)
                g.adam_step(g.backward(f), t + 1, lr)
                done_steps[g.nets] += 1
            if not groups:
                break
            bar.set_postfix(training=sum(len(g.nets) for g in groups))
        for g in groups:  # networks that used every step: record their final weights
            f = g.forward(eps)
            freeze(g, torch.ones(len(g.nets), dtype=torch.bool), f)

    per_net = np.array([k * (d + 1) + k + (2 * k if batch_norm else 0) for k in widths])
    return BatchedResult(
        widths=np.array(widths), seeds=np.array(seeds), datasets=np.array(datasets), memorized=memorized,
        steps=done_steps, final_loss=final_loss, n_parameters=per_net, batch_norm=batch_norm, d=d,
        _weights=weights,  # type: ignore[arg-type]
    )


def max_gradient_experiment(
    n: int,
    d: int,
    widths: Sequence[int],
    seeds: Sequence[int],
    *,
    steps: int,
    lr: float = 1e-2,
    eps: float = 0.02,
    n_fresh: int = 1000,
    batch_norm: bool = True,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """One cell of the Bubeck–Li–Nagaraj experiments (section 5; chapter 5).

    For each seed s a data set x ~ N(0, I_d/d), y = ±1 (:func:`gaussian_sign_data` with seed s); every width
    k in ``widths`` is trained on every data set (initialisation seed 10⁶·(s + 1) + i for the i-th width),
    all in one :func:`train_batched` call; then the maximum random gradient max_t ‖∇f(z_t)‖ over ``n_fresh``
    fresh points z_t ~ N(0, I_d/d) (seed 2³¹ + s). Returns a dict of numpy arrays, one entry per network:
    n, d, k, seed, n_parameters, memorized, steps, final_loss, max_gradient.
    """
    n = check_int("n", n, minimum=2)
    d = check_int("d", d, minimum=2)
    n_fresh = check_int("n_fresh", n_fresh, minimum=1)
    widths = [check_int(f"widths[{i}]", k, minimum=1) for i, k in enumerate(widths)]
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if not widths or not seeds:
        raise ValueError("widths and seeds must each list at least one value")
    data = [gaussian_sign_data(n, d, s, device=device) for s in seeds]
    x = torch.stack([a for a, _ in data])
    y = torch.stack([b for _, b in data])
    net_w = [k for _ in seeds for k in widths]
    net_seed = [10**6 * (s + 1) + i for s in seeds for i in range(len(widths))]
    net_data = [si for si in range(len(seeds)) for _ in widths]
    res = train_batched(x, y, net_w, net_seed, datasets=net_data, batch_norm=batch_norm, steps=steps, lr=lr, eps=eps,
                        progress=progress)
    grads = np.empty(len(net_w))
    for si, s in enumerate(seeds):
        z = sample_gaussian(n_fresh, d, make_generator(2**31 + s, device))
        sel = [j for j in range(len(net_w)) if net_data[j] == si]
        sub = BatchedResult(res.widths[sel], res.seeds[sel], res.datasets[sel], res.memorized[sel], res.steps[sel],
                            res.final_loss[sel], res.n_parameters[sel], batch_norm, d, [res._weights[j] for j in sel])
        grads[sel] = sub.max_gradient(z)
    m = len(net_w)
    return dict(n=np.full(m, n), d=np.full(m, d), k=res.widths, seed=np.array([s for s in seeds for _ in widths]),
                n_parameters=res.n_parameters, memorized=res.memorized, steps=res.steps, final_loss=res.final_loss,
                max_gradient=grads)


def concat_records(records: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate the outputs of several :func:`max_gradient_experiment` calls key by key (chapter 5)."""
    records = list(records)
    if not records:
        raise ValueError("records must hold at least one experiment's output")
    keys = list(records[0])
    for i, r in enumerate(records):
        if list(r) != keys:
            raise ValueError(f"records[{i}] must have the keys {keys}, got {list(r)}")
    return {k: np.concatenate([r[k] for r in records]) for k in keys}
