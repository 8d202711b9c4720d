"""The weight-bounded chapter: deep ReLU networks with per-layer weight-norm bounds,
and Rademacher complexity.

The class of the weight-bounded chapter is

    F_{D, M} = { x ↦ W_D ReLU(W_{D−1} ReLU(⋯ ReLU(W_1 x))) : ‖W_j‖ ≤ M for every j },

bias-free ReLU networks of depth D (D weight matrices; D = 1 is a linear
function) whose layers each have norm at most M, the norm being the Frobenius
norm ‖W‖_F (the class of Golowich–Rakhlin–Shamir's bound) or the spectral
norm ‖W‖₂ (the class whose Lipschitz constant is at most M^D).

* :class:`ConstrainedMLP` — G such networks of the same shape held as one
  batched module (weights of shape (G, out, in)), so that many data sets,
  seeds or sign vectors are fitted at once; :meth:`ConstrainedMLP.network`
  extracts one as a plain ``nn.Sequential`` for :func:`lawlib.spectral_norm_product`
  and the gradient-based Lipschitz estimators.
* :func:`project_weight_norm` — the Euclidean projection onto {‖W‖ ≤ M}, applied
  after every optimizer step: for the Frobenius ball it rescales W by
  min(1, M/‖W‖_F); for the spectral ball it clips the singular values at M
  (W = U min(S, M) Vᵀ), which is the nearest point of the ball in Frobenius distance.
* :func:`train_constrained` — projected full-batch Adam on the square loss,
  stopping each network as soon as it fits *below the noise level*,
  (1/n) Σ (f(x_i) − y_i)² ≤ σ² − ε (the memorization-model chapter's partial
  memorization), and keeping the weights at that moment.
* :func:`smallest_fitting_depth` — tries D = 1, 2, … and reports, for each data
  set, the first depth at which a constrained network fits below the noise level.

Empirical Rademacher complexity: exact for small classes, estimated by optimisation
for networks.

For a sample S = (x_1, …, x_n) and a class F of real functions, the empirical
Rademacher complexity is

    R̂_S(F) = E_σ sup_{f ∈ F} (1/n) Σ_i σ_i f(x_i),

σ_1, …, σ_n i.i.d. uniform signs: how well the class correlates with pure
noise on S (the normalisation of Golowich–Rakhlin–Shamir, without absolute
values).

* :func:`finite_class_rademacher` — a finite class given by its values on S:
  exact (all 2ⁿ sign vectors) for small n, Monte Carlo otherwise.
* :func:`linear_class_rademacher` — {x ↦ ⟨w, x⟩ : ‖w‖ ≤ W}, where the supremum
  is explicit: R̂ = (W/n) E‖Σ σ_i x_i‖.
* :func:`estimate_rademacher` — the norm-constrained deep ReLU classes of
  :class:`ConstrainedMLP` above, by maximising (1/n) Σ σ_i f(x_i) over the class
  with projected Adam for each of several sign draws. Optimisation finds a
  member of the class, not the supremum, so this is a **lower estimate**
  (up to the Monte Carlo error of averaging over finitely many draws).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import nn

from .._checks import (
    check_choice,
    check_generator,
    check_int,
    check_points,
    check_positive,
    check_tensor,
)
from ..hardware import progress
from ..models import uniform_weights
from ..train import Adam

__all__ = [
    "ConstrainedFit",
    "ConstrainedMLP",
    "DepthSearch",
    "NORMS",
    "project_weight_norm",
    "smallest_fitting_depth",
    "train_constrained",
    "weight_norms",
    "RademacherEstimate",
    "estimate_rademacher",
    "finite_class_rademacher",
    "linear_class_rademacher",
]

NORMS = ("frobenius", "spectral")


def check_norm(norm: str) -> str:
    return check_choice("norm", norm, NORMS)


def weight_norms(weight: torch.Tensor, norm: str = "frobenius") -> torch.Tensor:
    """‖W‖ of a weight matrix, or of each matrix of a stack of shape (…, out, in).

    ``norm`` is ``"frobenius"`` (‖W‖_F = (Σ W_ab²)^{1/2}) or ``"spectral"``
    (‖W‖₂, the largest singular value).
    """
    w = check_tensor("weight", weight)
    if w.ndim < 2:
        raise ValueError(
            "weight must have at least 2 dimension(s) (…, out, in), got shape "
            f"{tuple(w.shape)}"
        )
    norm = check_norm(norm)
    w = w.detach()
    if norm == "frobenius":
        return torch.linalg.matrix_norm(w, ord="fro")
    return torch.linalg.matrix_norm(w, ord=2)


def project_weight_norm(
    weight: torch.Tensor, max_norm: float, norm: str = "frobenius"
) -> torch.Tensor:
    """Project W (or every matrix of a stack (…, out, in)) onto the ball {‖W‖ ≤ M}, **in
    place**.

    Frobenius: W ← W · min(1, M/‖W‖_F). Spectral: W = U diag(S) Vᵀ ← U diag(min(S, M))
    Vᵀ. Both are the Euclidean (Frobenius-distance) projection onto the ball; a matrix
    already inside it is returned unchanged (up to rounding for the spectral case, where
    only matrices with ‖W‖₂ > M are recomputed). Returns ``weight``.
    """
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
        raise ValueError(
            f"weight must be a floating torch.Tensor, got {type(weight).__name__}"
        )
    if weight.ndim < 2:
        raise ValueError(
            "weight must have at least 2 dimension(s) (…, out, in), got shape "
            f"{tuple(weight.shape)}"
        )
    if weight.numel() and not bool(torch.isfinite(weight).all()):
        raise ValueError("weight contains NaN or infinite values")
    max_norm = check_positive("max_norm", max_norm)
    norm = check_norm(norm)
    with torch.no_grad():
        if norm == "frobenius":
            current = torch.linalg.matrix_norm(weight, ord="fro")
            scale = (max_norm / current.clamp_min(1e-300)).clamp(max=1.0)
            weight.mul_(scale[..., None, None])
        else:
            current = torch.linalg.matrix_norm(weight, ord=2)
            over = current > max_norm
            if bool(over.any()):
                if weight.ndim == 2:
                    u, s, vh = torch.linalg.svd(weight, full_matrices=False)
                    weight.copy_((u * s.clamp(max=max_norm)[None, :]) @ vh)
                else:
                    flat = weight.reshape(-1, *weight.shape[-2:])
                    idx = over.reshape(-1).nonzero().squeeze(1)
                    u, s, vh = torch.linalg.svd(flat[idx], full_matrices=False)
                    flat[idx] = (u * s.clamp(max=max_norm)[:, None, :]) @ vh
                    weight.copy_(flat.reshape(weight.shape))
    return weight


@contextlib.contextmanager
def one_cpu_thread(device: torch.device):
    """Run torch's CPU kernels on one thread inside the block (restoring the setting
    after).

    The training loops of this module launch many tiny batched products; on a
    CPU, splitting each over several threads costs more in synchronisation
    than it gains (about 8× more CPU time on a busy two-core machine).
    """
    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def layer_sizes(d: int, width: int | Sequence[int], depth: int) -> list[int]:
    """The layer sizes d → w_1 → … → w_{D−1} → 1."""
    d = check_int("d", d, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    if isinstance(width, (str, bytes, bool)):
        raise ValueError(
            f"width must be an integer or a sequence of {depth - 1} hidden widths, "
            f"got {width!r}"
        )
    if isinstance(width, Sequence) or hasattr(width, "__iter__"):
        hidden = list(width)
        if len(hidden) != depth - 1:
            raise ValueError(
                f"width must list depth - 1 = {depth - 1} hidden widths, got "
                f"{len(hidden)}"
            )
        hidden = [check_int(f"width[{i}]", w, minimum=1) for i, w in enumerate(hidden)]
    else:
        w = check_int("width", width, minimum=1)
        hidden = [w] * (depth - 1)
    return [d, *hidden, 1]


class ConstrainedMLP(nn.Module):
    """G bias-free ReLU networks x ↦ W_D ReLU(⋯ ReLU(W_1 x)) of depth D with ‖W_j‖ ≤ M,
    held as one module.

    ``weights[j]`` has shape (G, size_{j+1}, size_j) for the layer sizes
    d → width → … → width → 1 (``width`` may also list the D − 1 hidden widths).
    The weights are drawn like PyTorch's default initialisation
    (uniform on ±1/√fan_in, from ``generator``) and then projected onto the
    constraint set. ``forward`` maps x of shape (m, d) (shared by all
    networks) or (G, m, d) (one input set per network) to values of shape (G, m).
    Call :meth:`project_` after every optimizer step to stay in the class.
    """

    def __init__(
        self,
        d: int,
        width: int | Sequence[int],
        depth: int,
        max_norm: float,
        norm: str = "frobenius",
        n_networks: int = 1,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.sizes = layer_sizes(d, width, depth)
        self.depth = len(self.sizes) - 1
        self.max_norm = check_positive("max_norm", max_norm)
        self.norm = check_norm(norm)
        self.n_networks = check_int("n_networks", n_networks, minimum=1)
        check_generator("generator", generator)
        if device is None:
            device = generator.device if generator is not None else "cpu"
        if generator is None:
            generator = torch.Generator(device=device).manual_seed(0)
        params = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            shape = (self.n_networks, fan_out, fan_in)
            w = uniform_weights(shape, fan_in, generator, dtype)
            params.append(nn.Parameter(w.to(device)))
        self.weights = nn.ParameterList(params)
        self.project_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            h = x.unsqueeze(0).expand(self.n_networks, *x.shape)
        elif x.ndim == 3 and x.shape[0] == self.n_networks:
            h = x
        else:
            raise ValueError(
                f"x must have shape (m, {self.sizes[0]}) or ({self.n_networks}, m, "
                f"{self.sizes[0]}), got {tuple(x.shape)}"
            )
        if h.shape[-1] != self.sizes[0]:
            raise ValueError(
                f"x must have {self.sizes[0]} columns (the input dimension d), got "
                f"{h.shape[-1]}"
            )
        for j, w in enumerate(self.weights):
            h = torch.bmm(h, w.transpose(1, 2))
            if j < self.depth - 1:
                h = torch.relu(h)
        return h.squeeze(-1)

    def project_(self) -> "ConstrainedMLP":
        """Project every layer of every network onto {‖W_j‖ ≤ M} (in place)."""
        for w in self.weights:
            project_weight_norm(w.data, self.max_norm, self.norm)
        return self

    def layer_norms(self, norm: str | None = None) -> torch.Tensor:
        """The norms ‖W_j‖ of every layer of every network, shape (G, D) (``norm``
        defaults to the constraint's)."""
        norm = self.norm if norm is None else norm
        return torch.stack([weight_norms(w, norm) for w in self.weights], dim=1)

    def network(self, g: int = 0) -> nn.Sequential:
        """Network ``g`` as a plain ``nn.Sequential`` of bias-free ``nn.Linear`` and
        ``nn.ReLU`` (a copy, in eval mode)."""
        g = check_int("g", g, minimum=0)
        if g >= self.n_networks:
            raise ValueError(f"g must be < n_networks = {self.n_networks}, got {g}")
        layers: list[nn.Module] = []
        for j, w in enumerate(self.weights):
            lin = nn.Linear(
                w.shape[2], w.shape[1], bias=False, device=w.device, dtype=w.dtype
            )
            with torch.no_grad():
                lin.weight.copy_(w[g])
            layers.append(lin)
            if j < self.depth - 1:
                layers.append(nn.ReLU())
        layers.append(nn.Flatten(0))
        return nn.Sequential(*layers).eval()

    def select(self, index: torch.Tensor | Sequence[int]) -> "ConstrainedMLP":
        """A new module holding copies of the networks listed in ``index``."""
        idx = torch.as_tensor(index, dtype=torch.long).reshape(-1)
        if idx.numel() == 0 or int(idx.min()) < 0 or int(idx.max()) >= self.n_networks:
            raise ValueError(
                f"index must list networks in 0..{self.n_networks - 1}, got "
                f"{idx.tolist()}"
            )
        new = ConstrainedMLP.__new__(ConstrainedMLP)
        nn.Module.__init__(new)
        new.sizes, new.depth, new.max_norm, new.norm = (
            list(self.sizes),
            self.depth,
            self.max_norm,
            self.norm,
        )
        new.n_networks = int(idx.numel())
        new.weights = nn.ParameterList(
            [nn.Parameter(w.detach()[idx.to(w.device)].clone()) for w in self.weights]
        )
        return new

    def extra_repr(self) -> str:
        return (
            f"n_networks={self.n_networks}, sizes={self.sizes}, "
            f"{self.norm} norm <= {self.max_norm:g} per layer"
        )


@dataclass
class ConstrainedFit:
    """What :func:`train_constrained` did, per network (tensors of shape (G,)).

    ``fitted``: whether the network reached (1/n) Σ (f(x_i) − y_i)² ≤ σ² − ε;
    ``steps``: the Adam steps taken before it did (or in all, if it did not);
    ``mse``: its mean squared error with the returned weights;
    ``model``: the networks, with the weights they had when they first fitted.
    """

    model: ConstrainedMLP
    fitted: torch.Tensor
    steps: torch.Tensor
    mse: torch.Tensor
    target: float
    losses: list[torch.Tensor] = field(default_factory=list, repr=False)


def _check_batched_data(x, y, mask, n_networks: int | None):
    x = check_tensor("x", x)
    if x.ndim == 2:
        x = x.unsqueeze(0)
    if x.ndim != 3 or x.shape[1] < 1 or x.shape[2] < 1:
        raise ValueError(f"x must have shape (n, d) or (G, n, d), got {tuple(x.shape)}")
    y = check_tensor("y", y)
    if y.ndim == 1:
        y = y.unsqueeze(0)
    if y.ndim != 2:
        raise ValueError(f"y must have shape (n,) or (G, n), got {tuple(y.shape)}")
    if mask is not None:
        mask = check_tensor("mask", mask)
        if mask.ndim == 1:
            mask = mask.unsqueeze(0)
        if mask.ndim != 2:
            raise ValueError(
                f"mask must have shape (n,) or (G, n), got {tuple(mask.shape)}"
            )
    G = (
        max(x.shape[0], y.shape[0], 1 if mask is None else mask.shape[0])
        if n_networks is None
        else n_networks
    )
    if x.shape[0] not in (1, G) or y.shape[0] not in (1, G):
        raise ValueError(
            f"x and y must hold 1 or {G} data sets, got {x.shape[0]} and {y.shape[0]}"
        )
    if y.shape[1] != x.shape[1]:
        raise ValueError(
            f"y must have one label per point: length {x.shape[1]}, got {y.shape[1]}"
        )
    x = x.expand(G, *x.shape[1:])
    y = y.expand(G, y.shape[1]).to(device=x.device, dtype=x.dtype)
    if mask is None:
        mask = torch.ones(G, x.shape[1], dtype=x.dtype, device=x.device)
    else:
        if mask.shape[1] != x.shape[1] or mask.shape[0] not in (1, G):
            raise ValueError(
                f"mask must have shape (n,) or (G, n) = ({G}, {x.shape[1]}), got "
                f"{tuple(mask.shape)}"
            )
        if not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError(
                "mask must hold 0/1 (or booleans): 1 for a real point, 0 for padding"
            )
        mask = mask.expand(G, x.shape[1]).to(device=x.device, dtype=x.dtype)
        if bool((mask.sum(1) < 1).any()):
            raise ValueError("mask must keep at least one point of every data set")
    return x, y, mask


def _fit_loop(
    model, opt, x, y, mask, counts, target, steps, fitted, fit_step, best, result_losses
) -> None:
    """The loop of :func:`train_constrained` (updates ``fitted``, ``fit_step``, ``best``
    and ``result_losses`` in place)."""
    for t in range(steps + 1):
        opt.zero_grad()
        out = model(x)
        per = (mask * (out - y) ** 2).sum(1) / counts
        result_losses.append(per.detach())
        newly = (per.detach() <= target) & ~fitted
        if bool(newly.any()):
            for b, w in zip(best, model.weights):
                b[newly] = w.detach()[newly]
            fit_step[newly] = t
            fitted |= newly
        if bool(fitted.all()) or t == steps:
            break
        per.sum().backward()
        opt.step()
        model.project_()


def train_constrained(
    model: ConstrainedMLP,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epsilon: float,
    sigma: float = 1.0,
    steps: int = 2000,
    lr: float = 1e-2,
    mask: torch.Tensor | None = None,
) -> ConstrainedFit:
    """Projected full-batch Adam on the square loss, network by network, until each fits
    below the noise level.

    Network g sees the points x[g] (shape (G, n, d), or (n, d) shared) with
    labels y[g]; ``mask[g, i] = 0`` marks padding, so data sets of different
    sizes n_g share one tensor. Its loss is (1/n_g) Σ_i mask·(f_g(x_i) − y_i)².
    After every Adam step each layer is projected back onto {‖W_j‖ ≤ M}
    (:func:`project_weight_norm`). Network g *fits* once its loss is at most
    σ² − ε; its weights at that moment are kept (the optimizer moves on for
    the others) and the loop stops when all have fitted or after ``steps``
    steps. ``model`` is modified in place and returned in the result.
    """
    if not isinstance(model, ConstrainedMLP):
        raise ValueError(f"model must be a ConstrainedMLP, got {type(model).__name__}")
    x, y, mask = _check_batched_data(x, y, mask, model.n_networks)
    if x.shape[2] != model.sizes[0]:
        raise ValueError(
            f"x must have {model.sizes[0]} columns (the model's input dimension), got"
            f" {x.shape[2]}"
        )
    sigma = check_positive("sigma", sigma)
    epsilon = check_positive("epsilon", epsilon)
    if epsilon > sigma**2:
        raise ValueError(
            f"epsilon must be at most sigma**2 = {sigma**2}, got {epsilon}"
        )
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    target = sigma**2 - epsilon
    G = model.n_networks
    counts = mask.sum(1)
    fitted = torch.zeros(G, dtype=torch.bool, device=x.device)
    fit_step = torch.full((G,), steps, dtype=torch.long, device=x.device)
    best = [w.detach().clone() for w in model.weights]
    opt = Adam(model.parameters(), lr, per_matrix=True)
    result_losses: list[torch.Tensor] = []
    model.train()
    with one_cpu_thread(x.device):
        _fit_loop(
            model,
            opt,
            x,
            y,
            mask,
            counts,
            target,
            steps,
            fitted,
            fit_step,
            best,
            result_losses,
        )
    with torch.no_grad():
        for b, w in zip(best, model.weights):
            w.copy_(torch.where(fitted[:, None, None], b, w))
        final = (mask * (model(x) - y) ** 2).sum(1) / counts
    model.eval()
    return ConstrainedFit(
        model=model,
        fitted=fitted.cpu(),
        steps=fit_step.cpu(),
        mse=final.cpu(),
        target=target,
        losses=result_losses,
    )


@dataclass
class DepthSearch:
    """The result of :func:`smallest_fitting_depth`.

    ``depth[g]``: the smallest depth tried at which data set g was fitted below
    the noise level (``None`` if none of ``depths`` did); ``networks[g]``: that
    network as an ``nn.Sequential`` (or ``None``); ``mse[g]``, ``steps[g]``: its
    training error and the Adam steps it took; ``tried[g]``: the depths tried on it.
    """

    depth: list[int | None]
    networks: list[nn.Sequential | None]
    mse: list[float | None]
    steps: list[int | None]
    tried: list[list[int]]
    max_norm: float
    norm: str


def smallest_fitting_depth(
    x: torch.Tensor,
    y: torch.Tensor,
    depths: Sequence[int],
    width: int,
    max_norm: float,
    *,
    norm: str = "frobenius",
    epsilon: float,
    sigma: float = 1.0,
    steps: int = 2000,
    lr: float = 1e-2,
    restarts: int = 1,
    mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> DepthSearch:
    """For each data set, the smallest depth D in ``depths`` at which a network of
    :class:`ConstrainedMLP` fits it below the noise level.

    The depths are tried in increasing order; at each one, only the data sets
    not fitted yet are trained (``restarts`` independent initialisations each,
    all in one batched run of :func:`train_constrained`); a data set counts as
    fitted at depth D when one of its restarts reaches (1/n) Σ (f − y)² ≤ σ² − ε.
    Because training may fail where a fitting network exists, the result is
    an upper bound on the true smallest depth of the class (given ``steps``).
    """
    x, y, mask = _check_batched_data(x, y, mask, None)
    ds = (
        sorted({check_int("depths", D, minimum=1) for D in depths})
        if hasattr(depths, "__iter__")
        else None
    )
    if not ds:
        raise ValueError(
            f"depths must be a non-empty sequence of depths >= 1, got {depths!r}"
        )
    width = check_int("width", width, minimum=1)
    max_norm = check_positive("max_norm", max_norm)
    norm = check_norm(norm)
    restarts = check_int("restarts", restarts, minimum=1)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator(device=x.device).manual_seed(0)
    G = x.shape[0]
    found: list[int | None] = [None] * G
    nets: list[nn.Sequential | None] = [None] * G
    mses: list[float | None] = [None] * G
    nsteps: list[int | None] = [None] * G
    tried: list[list[int]] = [[] for _ in range(G)]
    for D in progress(ds, total=len(ds), desc="depths tried"):
        todo = [g for g in range(G) if found[g] is None]
        if not todo:
            break
        rows = torch.tensor(todo, device=x.device).repeat_interleave(restarts)
        model = ConstrainedMLP(
            x.shape[2],
            width,
            D,
            max_norm,
            norm,
            n_networks=len(rows),
            generator=generator,
            device=x.device,
            dtype=x.dtype,
        )
        fit = train_constrained(
            model,
            x[rows],
            y[rows],
            epsilon=epsilon,
            sigma=sigma,
            steps=steps,
            lr=lr,
            mask=mask[rows],
        )
        for k, g in enumerate(todo):
            tried[g].append(D)
            block = slice(k * restarts, (k + 1) * restarts)
            ok = fit.fitted[block]
            if bool(ok.any()):
                r = k * restarts + int(torch.nonzero(ok)[0])
                found[g], nets[g] = D, fit.model.network(r)
                mses[g], nsteps[g] = float(fit.mse[r]), int(fit.steps[r])
    return DepthSearch(found, nets, mses, nsteps, tried, max_norm, norm)


#: Largest n for which the expectation over all 2ⁿ sign vectors is computed exactly.
_EXACT_MAX_N = 16


@dataclass(frozen=True)
class RademacherEstimate:
    """An estimate ``value`` of R̂_S(F) with its Monte Carlo ``std_error`` (0 when
    exact).

    ``values[k]`` is sup (or, for :func:`estimate_rademacher`, the best value
    found) of (1/n) Σ σ_i f(x_i) for the sign vector ``signs[k]``; ``exact``
    says whether the expectation was computed over all 2ⁿ sign vectors.
    """

    value: float
    std_error: float
    values: torch.Tensor
    signs: torch.Tensor
    exact: bool


def _signs(
    n: int, n_draws: int | None, generator: torch.Generator | None, device, dtype
) -> tuple[torch.Tensor, bool]:
    if n_draws is None:
        if n > _EXACT_MAX_N:
            raise ValueError(
                f"n_draws must be given when n > {_EXACT_MAX_N} (exact enumeration "
                "needs 2^n sign vectors)"
            )
        signs = torch.tensor(
            list(itertools.product((-1.0, 1.0), repeat=n)), device=device, dtype=dtype
        )
        return signs, True
    n_draws = check_int("n_draws", n_draws, minimum=1)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    s = torch.randint(0, 2, (n_draws, n), generator=generator, device=generator.device)
    return (2 * s - 1).to(device=device, dtype=dtype), False


def _summary(
    values: torch.Tensor, signs: torch.Tensor, exact: bool
) -> RademacherEstimate:
    k = values.shape[0]
    se = 0.0 if exact or k < 2 else float(values.std() / math.sqrt(k))
    return RademacherEstimate(float(values.mean()), se, values, signs, exact)


def finite_class_rademacher(
    values: torch.Tensor,
    n_draws: int | None = None,
    generator: torch.Generator | None = None,
) -> RademacherEstimate:
    """R̂_S(F) = E_σ max_k (1/n) Σ_i σ_i v_{k,i} for a finite class whose values on S
    are the rows of ``values`` (K, n).

    With ``n_draws=None`` the expectation runs over all 2ⁿ sign vectors
    (exact; n ≤ 16); otherwise it is the mean over ``n_draws`` random sign
    vectors. the weight-bounded chapter uses it to check that a class realising every
    labelling has R̂ = 1.
    """
    v = check_tensor("values", values, ndim=2, min_rows=1)
    n = v.shape[1]
    if n < 1:
        raise ValueError(
            "values must have at least 1 column (one per sample point), got shape "
            f"{tuple(v.shape)}"
        )
    signs, exact = _signs(n, n_draws, generator, v.device, v.dtype)
    per = (
        torch.cat([(chunk @ v.T).max(dim=1).values for chunk in signs.split(4096)]) / n
    )
    return _summary(per, signs, exact)


def linear_class_rademacher(
    x: torch.Tensor,
    radius: float = 1.0,
    n_draws: int | None = None,
    generator: torch.Generator | None = None,
) -> RademacherEstimate:
    """R̂_S of the linear class {x ↦ ⟨w, x⟩ : ‖w‖ ≤ W}: (W/n) E_σ ‖Σ_i σ_i x_i‖.

    The supremum is explicit (Cauchy–Schwarz, attained at w = W u/‖u‖ with
    u = Σ σ_i x_i). Exact over all sign vectors when ``n_draws`` is None
    (n ≤ 16), else Monte Carlo. By Jensen it is at most (W/n) (Σ ‖x_i‖²)^{1/2}.
    """
    x = check_points("x", x, min_points=1)
    radius = check_positive("radius", radius)
    signs, exact = _signs(x.shape[0], n_draws, generator, x.device, x.dtype)
    per = (
        torch.cat([(chunk @ x).norm(dim=1) for chunk in signs.split(4096)])
        * radius
        / x.shape[0]
    )
    return _summary(per, signs, exact)


def estimate_rademacher(
    x: torch.Tensor,
    depth: int,
    width: int | Sequence[int],
    max_norm: float,
    *,
    norm: str = "frobenius",
    n_draws: int = 16,
    steps: int = 300,
    lr: float = 0.02,
    restarts: int = 1,
    generator: torch.Generator | None = None,
) -> RademacherEstimate:
    """A lower estimate of R̂_S(F_{D,M}) for bias-free depth-D ReLU networks with ‖W_j‖
    ≤ M per layer.

    For each of ``n_draws`` sign vectors σ (from ``generator``), projected Adam
    maximises (1/n) Σ σ_i f(x_i) over the class (``restarts`` initialisations
    per draw, all trained as one :class:`lawlib.ConstrainedMLP`); the best value
    reached by any iterate is kept, and 0 (the zero network belongs to the
    class) if nothing better was found. Every iterate is a member of the class,
    so each per-draw value is at most the supremum and the mean is a lower
    estimate of R̂_S: optimisation error makes it too small, the finite number
    of draws adds a Monte Carlo error of about ``std_error``.

    By positive homogeneity of ReLU, scaling every layer by M scales f by M^D,
    so R̂_S(F_{D,M}) = M^D R̂_S(F_{D,1}) exactly: the optimisation runs in the
    class with M = 1 and its values are multiplied by M^D.
    """
    x = check_points("x", x, min_points=1)
    sizes = layer_sizes(x.shape[1], width, depth)
    max_norm = check_positive("max_norm", max_norm)
    norm = check_norm(norm)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive("lr", lr)
    restarts = check_int("restarts", restarts, minimum=1)
    check_generator("generator", generator)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    n = x.shape[0]
    signs, _ = _signs(n, n_draws, generator, x.device, x.dtype)
    k = signs.shape[0]
    model = ConstrainedMLP(
        x.shape[1],
        sizes[1:-1],
        len(sizes) - 1,
        1.0,
        norm,
        n_networks=k * restarts,
        generator=generator,
        device=x.device,
        dtype=x.dtype,
    )
    s = signs.repeat_interleave(restarts, dim=0)
    best = torch.zeros(k * restarts, device=x.device, dtype=x.dtype)
    opt = Adam(model.parameters(), lr, per_matrix=True)
    with one_cpu_thread(x.device):
        for t in range(steps + 1):
            opt.zero_grad()
            corr = (model(x) * s).mean(dim=1)
            best = torch.maximum(best, corr.detach())
            if t == steps:
                break
            (-corr.sum()).backward()
            opt.step()
            model.project_()
    per = best.view(k, restarts).max(dim=1).values * max_norm ** len(model.weights)
    return _summary(per, signs, False)
