"""Gradient attacks on classifiers: adversarial examples.

A *classifier* here is any callable ``model`` mapping a batch of inputs of
shape (m, d) to logits of shape (m, K), K ≥ 2 classes; it predicts
ŷ(x) = argmax_j f_j(x). (Put a network with dropout or batch norm in
``eval()`` mode first: the attacks treat the rows of a batch as independent.)

* :func:`margin` — the multi-class margin f_y(x) − max_{j≠y} f_j(x).
* :func:`pgd_attack` — projected gradient ascent on the negative margin
  inside the ball {‖δ‖ ≤ r} (L2 or L∞) intersected with the pixel box.
* :func:`fgsm_attack` — the fast gradient (sign) method: one PGD step.
* :func:`minimal_perturbation` — per example, the smallest radius at which
  PGD finds an adversarial example (bisection over the radius), with the
  norm of the smallest adversarial example found.
* :func:`nearest_other_class_distance`, :func:`success_curve`, :func:`success_at_radii`,
  :func:`summarize_attack` — how small "small" is, relative to the data.
* :func:`certified_radius` — the radius m / (√2 L) below which an
  L-Lipschitz classifier provably cannot be flipped.
* :class:`NearestNeighbourClassifier` — the 1-nearest-neighbour rule as a
  classifier with logits, a memorizer that is provably robust at its
  training points (radius D_i / 2).

Every found perturbation is an *upper* bound on the true smallest one (the
attack exhibits it); a certified radius is a *lower* bound. For a binary
linear score ⟨w, x⟩ + b (without the box) the true distance is
|⟨w, x⟩ + b| / ‖w‖₂; the attack finds it (unit tests), and the one-output
certificate m/L of the adversarial-examples chapter attains it. The multi-class
certificate
m/(√2 L) of :func:`certified_radius` meets the attack only for logits like
L(⟨u,x⟩, −⟨u,x⟩)/√2 (exercise 2 of the adversarial-examples chapter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from ._checks import (
    check_choice,
    check_generator,
    check_int,
    check_points,
    check_positive,
    check_tensor,
)
from .geometry import nearest
from .hardware import progress

__all__ = [
    "NORMS",
    "LOSSES",
    "AttackResult",
    "MinimalPerturbation",
    "AttackSummary",
    "margin",
    "pgd_attack",
    "fgsm_attack",
    "minimal_perturbation",
    "nearest_other_class_distance",
    "success_curve",
    "ATTACKS",
    "success_at_radii",
    "summarize_attack",
    "certified_radius",
    "NearestNeighbourClassifier",
]

Classifier = Callable[[torch.Tensor], torch.Tensor]

NORMS = ("l2", "linf")
LOSSES = ("margin", "ce")
_TINY = 1e-12


@dataclass
class AttackResult:
    """What an attack produced, one entry per example.

    ``x_adv``: the perturbed inputs (m, d); ``success``: whether the
    prediction on ``x_adv`` differs from the label (untargeted) or equals the
    target (targeted); ``norms``: ‖x_adv − x‖ in the attack's norm.
    """

    x_adv: torch.Tensor
    success: torch.Tensor
    norms: torch.Tensor

    @property
    def success_rate(self) -> float:
        """The fraction of examples the attack flipped."""
        return float(self.success.float().mean())


@dataclass
class MinimalPerturbation:
    """The smallest adversarial perturbations found, per example.

    ``norms``: ‖x_adv − x‖ of the smallest adversarial example found (``inf`` where none
    was found up to ``max_radius``; 0 for an example that is already misclassified);
    ``success``: whether one was found; ``x_adv``: that example (``x`` itself where none
    was found); ``radius``: the bisection's final upper end, the smallest radius at
    which the attack succeeded (``norms ≤ radius``); ``norm``: ``"l2"`` or ``"linf"``.
    """

    norms: torch.Tensor
    success: torch.Tensor
    x_adv: torch.Tensor
    radius: torch.Tensor
    norm: str

    @property
    def success_rate(self) -> float:
        """The fraction of examples flipped within ``max_radius``."""
        return float(self.success.float().mean())


@dataclass(frozen=True)
class AttackSummary:
    """How small the adversarial perturbations are (see :func:`summarize_attack`)."""

    n: int
    success_rate: float
    radius: float | None
    success_rate_at_radius: float | None
    median_norm: float
    median_relative_to_input: float
    median_relative_to_other_class: float


# ---------------------------------------------------------------------------
# validation helpers


def _check_norm(norm: str) -> str:
    return check_choice("norm", norm, NORMS)


def _check_box(box: tuple[float, float] | None) -> tuple[float, float] | None:
    if box is None:
        return None
    try:
        lo, hi = box
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(
            f"box must be None or a pair (low, high), got {box!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise ValueError(
            "box must be a pair (low, high) of finite numbers with low < high, got "
            f"{box!r}"
        )
    return lo, hi


def _logits(model: Classifier, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if (
        not isinstance(out, torch.Tensor)
        or out.ndim != 2
        or out.shape[0] != x.shape[0]
        or out.shape[1] < 2
    ):
        shape = (
            tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        )
        raise ValueError(
            "model must map (m, d) inputs to (m, classes) logits with classes >= 2, "
            f"got {shape}"
        )
    return out


def _check_classes(
    name: str, y, m: int, classes: int | None, device: torch.device
) -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        try:
            y = torch.as_tensor(y)
        except Exception:
            raise ValueError(
                f"{name} must be a tensor of class indices, got {type(y).__name__}"
            ) from None
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"{name} must have shape ({m},) (one class index per example), got "
            f"{tuple(y.shape)}"
        )
    if y.is_floating_point():
        if not bool(torch.isfinite(y).all()) or not bool((y == y.round()).all()):
            raise ValueError(f"{name} must hold integer class indices")
    if m and int(y.min()) < 0:
        raise ValueError(
            f"{name} must hold class indices >= 0, got minimum {int(y.min())}"
        )
    if m and classes is not None and int(y.max()) >= classes:
        raise ValueError(
            f"{name} must hold class indices in [0, {classes}), got values in "
            f"[{int(y.min())}, {int(y.max())}]"
        )
    return y.to(device=device, dtype=torch.long)


def _check_radius(radius, m: int, like: torch.Tensor) -> torch.Tensor:
    if isinstance(radius, torch.Tensor) and radius.ndim > 0:
        if radius.ndim != 1 or radius.shape[0] != m:
            raise ValueError(
                f"radius must be a number or have shape ({m},), got "
                f"{tuple(radius.shape)}"
            )
        r = radius.detach().to(device=like.device, dtype=like.dtype)
        if not bool(torch.isfinite(r).all()):
            raise ValueError("radius must be finite")
        if m and not bool((r > 0).all()):
            raise ValueError(f"radius must be > 0, got minimum {float(r.min())}")
        return r
    r = check_positive(
        "radius", radius.item() if isinstance(radius, torch.Tensor) else radius
    )
    return torch.full((m,), r, device=like.device, dtype=like.dtype)


def _check_inputs(
    model: Classifier, x, y, box
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[float, float] | None]:
    if not callable(model):
        raise ValueError(
            f"model must be callable (a torch module), got {type(model).__name__}"
        )
    x = check_points("x", x, min_points=1, min_dim=1)
    box = _check_box(box)
    if (
        box is not None
        and x.numel()
        and (float(x.min()) < box[0] or float(x.max()) > box[1])
    ):
        raise ValueError(
            f"x must lie in the box [{box[0]}, {box[1]}], got values in "
            f"[{float(x.min())}, {float(x.max())}]"
        )
    with torch.no_grad():
        logits = _logits(model, x)
    y = _check_classes("y", y, x.shape[0], logits.shape[1], x.device)
    return x, y, logits, box


# ---------------------------------------------------------------------------
# norms, projections, losses


def _norms(delta: torch.Tensor, norm: str) -> torch.Tensor:
    if norm == "l2":
        return torch.linalg.vector_norm(delta, ord=2, dim=1)
    return (
        delta.abs().amax(dim=1) if delta.shape[1] else delta.new_zeros(delta.shape[0])
    )


def _project(delta: torch.Tensor, radius: torch.Tensor, norm: str) -> torch.Tensor:
    """Euclidean projection onto the ball {‖δ‖ ≤ r} (row-wise radius)."""
    r = radius[:, None]
    if norm == "l2":
        n = torch.linalg.vector_norm(delta, dim=1, keepdim=True)
        return delta * torch.clamp(r / n.clamp_min(_TINY), max=1.0)
    return torch.maximum(torch.minimum(delta, r), -r)


def margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The multi-class margin m_i = f_y(x_i) − max_{j≠y_i} f_j(x_i) of (m, K) logits.

    Positive exactly when x_i is classified correctly (with no tie). For K = 2
    it is ±(f_1 − f_0), the signed output of a binary classifier.
    """
    logits = check_tensor("logits", logits, ndim=2)
    if logits.shape[1] < 2:
        raise ValueError(
            "logits must have at least 2 columns (classes), got shape "
            f"{tuple(logits.shape)}"
        )
    y = _check_classes("y", y, logits.shape[0], logits.shape[1], logits.device)
    return _margin(logits, y)


def _margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    own = logits.gather(1, y[:, None])[:, 0]
    others = logits.scatter(1, y[:, None], float("-inf"))
    return own - others.amax(dim=1)


def _objective(
    logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, loss: str
) -> torch.Tensor:
    """Per-example quantity the attack *increases*."""
    if loss == "margin":
        return -_margin(logits, y) if target is None else _margin(logits, target)
    ce = torch.nn.functional.cross_entropy(
        logits, y if target is None else target, reduction="none"
    )
    return ce if target is None else -ce


def _succeeded(
    logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None
) -> torch.Tensor:
    pred = logits.argmax(dim=1)
    return pred != y if target is None else pred == target


# ---------------------------------------------------------------------------
# attacks


def _random_start(
    x: torch.Tensor, radius: torch.Tensor, norm: str, generator: torch.Generator
) -> torch.Tensor:
    m, d = x.shape
    dev = generator.device
    if (
        norm == "l2"
    ):  # uniform in the ball: direction uniform on the sphere, radius r·U^{1/d}
        u = torch.randn(m, d, generator=generator, device=dev, dtype=x.dtype)
        u = u / torch.linalg.vector_norm(u, dim=1, keepdim=True).clamp_min(_TINY)
        s = torch.rand(m, 1, generator=generator, device=dev, dtype=x.dtype) ** (
            1.0 / d
        )
        return u.to(x.device) * s.to(x.device) * radius[:, None]
    u = (
        torch.rand(m, d, generator=generator, device=dev, dtype=x.dtype) * 2 - 1
    )  # uniform in the cube
    return u.to(x.device) * radius[:, None]


def _pgd(
    model: Classifier,
    x: torch.Tensor,
    y: torch.Tensor,
    radius: torch.Tensor,
    norm: str,
    steps: int,
    step_size: torch.Tensor,
    box: tuple[float, float] | None,
    target: torch.Tensor | None,
    loss: str,
    delta0: torch.Tensor | None,
    stop_at_success: bool = True,
) -> AttackResult:
    """The PGD loop on validated input.

    With ``stop_at_success`` each example is frozen at its first success; without, every
    example takes all ``steps`` steps and the last iterate is returned.
    """
    delta = torch.zeros_like(x) if delta0 is None else delta0.clone()
    if box is not None:
        delta = (x + delta).clamp(*box) - x
    done = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    best = delta.clone()
    for t in range(steps + 1):
        delta.requires_grad_(True)
        logits = model(x + delta)
        if stop_at_success:
            ok = _succeeded(logits.detach(), y, target)
            new = ok & ~done
            best[new] = delta.detach()[new]
            done |= ok
        if t == steps or bool(done.all()):
            break
        (grad,) = torch.autograd.grad(_objective(logits, y, target, loss).sum(), delta)
        delta = delta.detach()
        if norm == "l2":
            g = grad / torch.linalg.vector_norm(grad, dim=1, keepdim=True).clamp_min(
                _TINY
            )
        else:
            g = grad.sign()
        step = step_size[:, None] * g * (~done)[:, None]
        delta = _project(delta + step, radius, norm)
        if box is not None:  # clamping keeps |δ_k| no larger, so δ stays in the ball
            delta = (x + delta).clamp(*box) - x
    delta = delta.detach()
    best = torch.where(done[:, None], best, delta)
    x_adv = x + best
    if box is not None:
        x_adv = x_adv.clamp(*box)
    with torch.no_grad():
        success = _succeeded(model(x_adv), y, target)
    return AttackResult(x_adv.detach(), success, _norms(x_adv - x, norm))


def pgd_attack(
    model: Classifier,
    x: torch.Tensor,
    y: torch.Tensor,
    radius: float | torch.Tensor,
    *,
    norm: str = "l2",
    steps: int = 40,
    step_size: float | None = None,
    random_start: bool = False,
    generator: torch.Generator | None = None,
    box: tuple[float, float] | None = (0.0, 1.0),
    target: torch.Tensor | None = None,
    loss: str = "margin",
    stop_at_success: bool = True,
) -> AttackResult:
    """Projected gradient descent (PGD) attack of Madry et al. (2018) in the L2 or L∞
    ball.

    Starting from δ₀ = 0 (or uniform in the ball with ``random_start``), it
    takes ``steps`` ascent steps on the per-example objective ℓ (by default
    the negative margin max_{j≠y} f_j(x + δ) − f_y(x + δ); with ``target`` t
    the margin of t, f_t − max_{j≠t} f_j; ``loss="ce"`` uses the cross-entropy),

        L2:  δ ← Π(δ + α ∇ℓ / ‖∇ℓ‖₂),      L∞:  δ ← Π(δ + α sign(∇ℓ)),

    where Π projects onto the ball {‖δ‖ ≤ r} (rescaling for L2, clipping each coordinate
    to [−r, r] for L∞) and then clips x + δ to ``box`` (pixels stay in [0, 1]; clipping
    only shrinks |δ_k|, so the iterate stays in the ball). For L∞ this is exactly the
    Euclidean projection onto ball ∩ box (a product of intervals); for L2 it is a
    feasible point of ball ∩ box, not the exact Euclidean projection onto it. The
    default step is α = 2.5 r / steps. With ``stop_at_success`` (the default) each
    example is frozen at its first iterate that is misclassified (or reaches the
    target), so the attack reports an adversarial example whenever it met one, and the
    point returned lies just across the decision boundary. With
    ``stop_at_success=False`` every example takes all ``steps`` steps and the last
    iterate is returned (it keeps lowering the margin past the boundary, but ``success``
    then refers to that last iterate only).

    ``radius`` is a number or one radius per example (shape (m,)).
    Returns an :class:`AttackResult`; every ``x_adv`` satisfies
    ‖x_adv − x‖ ≤ r and lies in ``box``.
    """
    norm = _check_norm(norm)
    loss = check_choice("loss", loss, LOSSES)
    steps = check_int("steps", steps, minimum=1)
    if not isinstance(stop_at_success, bool):
        raise ValueError(
            f"stop_at_success must be True or False, got {stop_at_success!r}"
        )
    check_generator("generator", generator)
    x, y, logits, box = _check_inputs(model, x, y, box)
    r = _check_radius(radius, x.shape[0], x)
    if step_size is None:
        alpha = 2.5 * r / steps
    else:
        alpha = torch.full_like(r, check_positive("step_size", step_size))
    if target is not None:
        target = _check_classes("target", target, x.shape[0], logits.shape[1], x.device)
        if bool((target == y).any()):
            raise ValueError("target must differ from y for every example")
    delta0 = None
    if random_start:
        if generator is None:
            raise ValueError(
                "generator must be a torch.Generator when random_start=True "
                "(explicit seeding)"
            )
        delta0 = _random_start(x, r, norm, generator)
    return _pgd(
        model,
        x,
        y,
        r,
        norm,
        steps,
        alpha,
        box,
        target,
        loss,
        delta0,
        bool(stop_at_success),
    )


def fgsm_attack(
    model: Classifier,
    x: torch.Tensor,
    y: torch.Tensor,
    radius: float | torch.Tensor,
    *,
    norm: str = "linf",
    box: tuple[float, float] | None = (0.0, 1.0),
    loss: str = "margin",
) -> AttackResult:
    """The fast gradient sign method of Goodfellow et al. (2015): one full step.

    x_adv = clip_box(x + r sign(∇ℓ)) for L∞ and clip_box(x + r ∇ℓ/‖∇ℓ‖₂) for
    L2 (the "fast gradient method"), ∇ℓ taken at x: :func:`pgd_attack` with
    ``steps=1`` (step 2.5 r, projected back onto the ball, which gives
    exactly the step of length r), without random start.
    """
    return pgd_attack(
        model, x, y, radius, norm=norm, steps=1, step_size=None, box=box, loss=loss
    )


def minimal_perturbation(
    model: Classifier,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    norm: str = "l2",
    max_radius: float | None = None,
    steps: int = 40,
    bisection_steps: int = 12,
    targeted: bool = False,
    box: tuple[float, float] | None = (0.0, 1.0),
    loss: str = "margin",
) -> MinimalPerturbation:
    """The smallest perturbation, per example, with which PGD flips the prediction.

    Bisection over the radius: start from [lo, hi] = [0, R] with R = ``max_radius``; at
    r = (lo + hi)/2 run :func:`pgd_attack` (``steps`` steps); if it flips the example
    set hi = r, else lo = r; repeat ``bisection_steps`` times, so hi − lo = R /
    2^{bisection_steps}. The result's ``norms`` is the norm ‖x_adv − x‖ of the smallest
    adversarial example found (≤ the final hi), an *upper* bound on the true minimal
    perturbation

        ρ(x) = inf { ‖δ‖ : argmax_j f_j(x + δ) ≠ y, x + δ ∈ box }.

    A failure of PGD at radius r proves nothing (and success need not be
    monotone in r), so the bisection's lower end is *not* a lower bound on
    ρ(x); lower bounds come from certificates (:func:`certified_radius`).

    With ``targeted=True`` every other class t is attacked separately (targeted margin
    f_t − max_{j≠t} f_j) and the smallest result kept: K − 1 times the work, and exact
    on a multi-class *linear* classifier, where the targeted margin is concave so PGD
    finds its maximum over the ball. Untargeted PGD is exact, up to the bisection
    tolerance, on a binary linear classifier without the box, where ρ(x) = |⟨w, x⟩ + b|
    / ‖w‖_* (‖·‖_* the dual norm: ‖w‖₂ for L2, ‖w‖₁ for L∞).

    ``max_radius`` defaults to the diameter of the box in the chosen norm
    ((high − low)·√d for L2, high − low for L∞), within which every point of
    the box is reachable; it must be given when ``box`` is None. Examples
    already misclassified get norm 0; examples not flipped within
    ``max_radius`` get norm ``inf`` and ``success`` False.
    """
    norm = _check_norm(norm)
    loss = check_choice("loss", loss, LOSSES)
    steps = check_int("steps", steps, minimum=1)
    bisection_steps = check_int("bisection_steps", bisection_steps, minimum=1)
    x, y, logits, box = _check_inputs(model, x, y, box)
    m, d = x.shape
    if max_radius is None:
        if box is None:
            raise ValueError("max_radius must be given when box is None")
        width = box[1] - box[0]
        max_radius = width * math.sqrt(d) if norm == "l2" else width
    max_radius = check_positive("max_radius", max_radius)
    classes = logits.shape[1]

    if targeted:
        others = torch.arange(classes, device=x.device)[None, :].expand(m, classes)
        keep = others != y[:, None]
        target = others[
            keep
        ]  # (m (K−1),) every class but the label, example by example
        owner = torch.arange(m, device=x.device)[:, None].expand(m, classes)[keep]
        xs, ys = x[owner], y[owner]
    else:
        target, owner, xs, ys = None, torch.arange(m, device=x.device), x, y

    def attack(rows: torch.Tensor, r: torch.Tensor) -> AttackResult:
        t = None if target is None else target[rows]
        return _pgd(
            model,
            xs[rows],
            ys[rows],
            r,
            norm,
            steps,
            2.5 * r / steps,
            box,
            t,
            loss,
            None,
        )

    rows_all = torch.arange(xs.shape[0], device=x.device)
    hi = torch.full((xs.shape[0],), max_radius, device=x.device, dtype=x.dtype)
    lo = torch.zeros_like(hi)
    first = attack(rows_all, hi)
    found = first.success.clone()
    best_norm = torch.where(found, first.norms, torch.full_like(hi, math.inf))
    best_x = torch.where(found[:, None], first.x_adv, xs)
    active = rows_all[found & (best_norm > 0)]
    for _ in progress(
        range(bisection_steps), total=bisection_steps, desc="PGD + bisection"
    ):
        if active.numel() == 0:
            break
        mid = (lo[active] + hi[active]) / 2
        res = attack(active, mid)
        s = res.success
        hi[active] = torch.where(s, mid, hi[active])
        lo[active] = torch.where(s, lo[active], mid)
        better = s & (res.norms < best_norm[active])
        idx = active[better]
        best_norm[idx] = res.norms[better]
        best_x[idx] = res.x_adv[better]

    # examples misclassified to begin with: zero perturbation
    with torch.no_grad():
        wrong = _succeeded(logits, y, None)
    if targeted:  # keep, for each example, its best target
        per = best_norm.reshape(m, classes - 1)
        best, arg = per.min(dim=1)
        pick = torch.arange(m, device=x.device) * (classes - 1) + arg
        norms, x_adv, radius = best, best_x[pick], hi[pick]
    else:
        norms, x_adv, radius = best_norm, best_x, hi
    norms = torch.where(wrong, torch.zeros_like(norms), norms)
    x_adv = torch.where(wrong[:, None], x, x_adv)
    radius = torch.where(wrong, torch.zeros_like(radius), radius)
    success = torch.isfinite(norms)
    radius = torch.where(success, radius, torch.full_like(radius, math.inf))
    return MinimalPerturbation(norms, success, x_adv, radius, norm)


# ---------------------------------------------------------------------------
# how small is small


def nearest_other_class_distance(
    x: torch.Tensor,
    y: torch.Tensor,
    x_ref: torch.Tensor,
    y_ref: torch.Tensor,
    *,
    norm: str = "l2",
    chunk: int = 1024,
) -> torch.Tensor:
    """D_i = min { ‖x_i − x'_j‖ : y'_j ≠ y_i }: distance to the nearest reference point
    of another class.

    The natural unit for a perturbation of x_i: moving x_i by D_i (or by D_i/2
    towards the midpoint) reaches a genuine image of another class. Per class,
    :func:`lawlib.geometry.nearest` (p = 2 or ∞, tiles of ``chunk`` rows).
    """
    norm = _check_norm(norm)
    chunk = check_int("chunk", chunk, minimum=1)
    x = check_points("x", x, min_points=1)
    x_ref = check_points("x_ref", x_ref, min_points=1)
    if x_ref.shape[1] != x.shape[1]:
        raise ValueError(
            f"x_ref must have {x.shape[1]} columns like x, got {x_ref.shape[1]}"
        )
    y = _check_classes("y", y, x.shape[0], None, x.device)
    y_ref = _check_classes("y_ref", y_ref, x_ref.shape[0], None, x.device)
    x_ref = x_ref.to(x.device, x.dtype)
    p = 2.0 if norm == "l2" else math.inf
    out = torch.full((x.shape[0],), math.inf, dtype=x.dtype, device=x.device)
    for c in torch.unique(y):
        rows, refs = y == c, y_ref != c
        if bool(refs.any()):
            found = nearest(x[rows], x_ref[refs], 1, p=p, chunk=chunk)
            out[rows] = found.distances[:, 0]
    return out


def success_curve(
    norms: torch.Tensor, radii: Sequence[float] | torch.Tensor
) -> torch.Tensor:
    """S(r) = (1/m) #{i : ρ_i ≤ r} for each r in ``radii``: the attack's success rate at
    radius r.

    ``norms`` are per-example smallest perturbations ρ_i (``inf`` where the
    attack failed), e.g. :attr:`MinimalPerturbation.norms`; an adversarial
    example of norm ρ_i ≤ r lies in the ball of radius r.
    """
    norms = torch.as_tensor(norms)
    if norms.ndim != 1 or norms.shape[0] < 1:
        raise ValueError(
            f"norms must have shape (m,) with m >= 1, got {tuple(norms.shape)}"
        )
    norms = norms.to(
        torch.get_default_dtype() if not norms.is_floating_point() else norms.dtype
    )
    if bool(torch.isnan(norms).any()) or bool((norms < 0).any()):
        raise ValueError("norms must be >= 0 (inf allowed for failures), without NaN")
    radii = check_tensor("radii", radii, ndim=1).to(norms.device, norms.dtype)
    if radii.shape[0] < 1:
        raise ValueError("radii must hold at least one radius")
    if bool((radii < 0).any()):
        raise ValueError("radii must be >= 0")
    return (norms[None, :] <= radii[:, None]).to(norms.dtype).mean(dim=1)


ATTACKS = ("fgsm", "pgd")


def success_at_radii(
    model: Classifier,
    x: torch.Tensor,
    y: torch.Tensor,
    radii: Sequence[float] | torch.Tensor,
    *,
    attack: str = "fgsm",
    norm: str = "l2",
    steps: int = 40,
    box: tuple[float, float] | None = (0.0, 1.0),
    loss: str = "margin",
) -> torch.Tensor:
    """S_A(r) = (1/m) #{i : the attack A at radius r flips x_i}, one attack per radius
    r.

    ``attack`` is ``"fgsm"`` (:func:`fgsm_attack`, one step) or ``"pgd"``
    (:func:`pgd_attack` with ``steps`` steps). Unlike :func:`success_curve`, which reads
    the bisected smallest perturbations, each radius gets its own fixed-radius attack.
    At r = 0 no perturbation is allowed, and S_A(0) is the share of examples already
    misclassified. Returns a tensor of shape (len(radii),) on the device of ``x``.
    """
    attack = check_choice("attack", attack, ATTACKS)
    norm = _check_norm(norm)
    steps = check_int("steps", steps, minimum=1)
    x, y, logits, box = _check_inputs(model, x, y, box)
    radii = check_tensor("radii", radii, ndim=1)
    if radii.shape[0] < 1:
        raise ValueError("radii must hold at least one radius")
    if bool((radii < 0).any()):
        raise ValueError("radii must be >= 0")
    radii = radii.to(x.device, x.dtype)
    wrong = _succeeded(logits, y, None).to(x.dtype)
    rates = wrong.mean().repeat(radii.shape[0])
    pos = radii > 0
    if bool(pos.any()):  # one batched attack: every example at every positive radius
        m, k = x.shape[0], int(pos.sum())
        r = radii[pos].repeat_interleave(m)
        s = 1 if attack == "fgsm" else steps
        res = _pgd(
            model,
            x.repeat(k, 1),
            y.repeat(k),
            r,
            norm,
            s,
            2.5 * r / s,
            box,
            None,
            loss,
            None,
        )
        rates[pos] = res.success.to(x.dtype).reshape(k, m).mean(dim=1)
    return rates


def summarize_attack(
    norms: torch.Tensor,
    x: torch.Tensor,
    other_class_distance: torch.Tensor,
    *,
    radius: float | None = None,
    norm: str = "l2",
) -> AttackSummary:
    """Success rate and the median smallest perturbation, absolute and relative.

    With ρ_i the smallest perturbation of example i (``inf`` if not found),
    ‖x_i‖ its norm and D_i its distance to the nearest point of another class
    (:func:`nearest_other_class_distance`):

    * success rate: (1/m) #{i : ρ_i < ∞}, and at ``radius`` r: S(r) = (1/m) #{i : ρ_i ≤
      r};
    * median ρ_i, median ρ_i / ‖x_i‖, median ρ_i / D_i (failures count as ∞,
      so a median is finite only if more than half the examples were flipped).
    """
    norm = _check_norm(norm)
    norms = torch.as_tensor(norms)
    x = check_points("x", x, min_points=1)
    m = x.shape[0]
    if norms.ndim != 1 or norms.shape[0] != m:
        raise ValueError(f"norms must have shape ({m},), got {tuple(norms.shape)}")
    if bool(torch.isnan(norms).any()) or bool((norms < 0).any()):
        raise ValueError("norms must be >= 0 (inf allowed for failures), without NaN")
    dist = check_tensor("other_class_distance", other_class_distance, ndim=1)
    if dist.shape[0] != m:
        raise ValueError(
            f"other_class_distance must have shape ({m},), got {tuple(dist.shape)}"
        )
    if bool((dist <= 0).any()):
        raise ValueError("other_class_distance must be > 0")
    norms = norms.to(x.device, x.dtype)
    dist = dist.to(x.device, x.dtype)
    size = _norms(x, norm)
    if bool((size <= 0).any()):
        raise ValueError(
            "x must have no zero row (the relative size ρ/‖x‖ is undefined)"
        )
    rate_r = None
    if radius is not None:
        radius = check_positive("radius", radius)
        rate_r = float((norms <= radius).float().mean())
    # lower median: an actual sample value (torch.median); inf when half or more failed
    return AttackSummary(
        n=m,
        success_rate=float(torch.isfinite(norms).float().mean()),
        radius=radius,
        success_rate_at_radius=rate_r,
        median_norm=float(norms.median()),
        median_relative_to_input=float((norms / size).median()),
        median_relative_to_other_class=float((norms / dist).median()),
    )


def certified_radius(margins: torch.Tensor, lipschitz: float) -> torch.Tensor:
    """ρ_cert = max(m, 0) / (√2 L): no perturbation with ‖δ‖₂ < ρ_cert changes the
    prediction.

    ``margins`` are m(x) = f_y(x) − max_{j≠y} f_j(x) (:func:`margin`) and
    ``lipschitz`` an upper bound L on the Lipschitz constant of the logit map
    f : (R^d, ‖·‖₂) → (R^K, ‖·‖₂), e.g. :func:`lawlib.spectral_norm_product`.
    Proof: each f_y − f_j = ⟨e_y − e_j, f⟩ is √2 L-Lipschitz, so it
    stays > 0 while √2 L ‖δ‖ < m. The √2 is attained by a linear map.
    """
    margins = check_tensor("margins", margins, ndim=1)
    lipschitz = check_positive("lipschitz", lipschitz)
    return margins.clamp_min(0) / (math.sqrt(2.0) * lipschitz)


class NearestNeighbourClassifier(nn.Module):
    """The 1-nearest-neighbour rule with logits f_c(x) = −min { ‖x − x_i‖₂ : y_i = c }.

    It predicts the class of the nearest reference point, so it memorizes its reference
    set perfectly (as long as no point appears twice with two labels), and it is robust
    there: at a reference point x_i the margin is f_{y_i}(x_i) − max_{c≠y_i} f_c(x_i) =
    0 − (−D_i) = D_i, each f_c is 1-Lipschitz, so f_{y_i} − f_c is 2-Lipschitz and no
    perturbation with ‖δ‖₂ < D_i / 2 changes the prediction (D_i as in
    :func:`nearest_other_class_distance`). Its "parameters" are the n·d coordinates of
    the stored points, plus n labels. The nearest point of each class comes from
    :func:`lawlib.geometry.nearest`; its distance is measured from the difference
    (exact, and differentiable in x for the attacks).
    """

    def __init__(
        self, x_ref: torch.Tensor, y_ref: torch.Tensor, classes: int | None = None
    ):
        super().__init__()
        x_ref = check_points("x_ref", x_ref, min_points=1)
        y_ref = _check_classes("y_ref", y_ref, x_ref.shape[0], None, x_ref.device)
        k = (
            int(y_ref.max()) + 1
            if classes is None
            else check_int("classes", classes, minimum=2)
        )
        if k < 2 or int(y_ref.max()) >= k:
            raise ValueError(
                f"classes must be >= 2 and exceed every label, got {k} for labels up "
                f"to {int(y_ref.max())}"
            )
        self.register_buffer("x_ref", x_ref.detach().clone())
        self.register_buffer("y_ref", y_ref.clone())
        self.classes = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (m, K): minus the distance from each row of ``x`` to the nearest
        reference point of each class.
        """
        ref = self.x_ref.to(x.dtype)
        cols = []
        for c in range(self.classes):
            mask = self.y_ref == c
            if bool(mask.any()):
                cols.append(-nearest(x, ref[mask], 1).distances[:, 0])
            else:
                cols.append(torch.full_like(x[:, 0], -math.inf))
        return torch.stack(cols, dim=1)
