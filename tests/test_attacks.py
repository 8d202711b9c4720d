"""Tests of lawlib.attacks against exact answers (linear classifiers, hand-made
boxes)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lawlib.attacks import (
    AttackSummary,
    NearestNeighbourClassifier,
    certified_radius,
    fgsm_attack,
    margin,
    minimal_perturbation,
    nearest_other_class_distance,
    pgd_attack,
    success_at_radii,
    success_curve,
    summarize_attack,
)
from lawlib.data import make_generator
from lawlib.lipschitz import spectral_norm_product
from lawlib.models import mlp


@pytest.fixture(autouse=True, scope="module")
def _float64():
    """Exact comparisons below need float64; the default dtype is restored after."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def binary_linear(w: torch.Tensor, b: float) -> nn.Module:
    """Logits (0, ⟨w, x⟩ + b): class 1 iff ⟨w, x⟩ + b > 0."""
    lin = nn.Linear(w.shape[0], 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.stack([torch.zeros_like(w), w]))
        lin.bias.copy_(torch.tensor([0.0, b]))
    return lin.requires_grad_(False)


def linear(W: torch.Tensor, b: torch.Tensor) -> nn.Module:
    lin = nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        lin.weight.copy_(W)
        lin.bias.copy_(b)
    return lin.requires_grad_(False)


def random_binary(seed: int, m: int = 20, d: int = 7):
    g = make_generator(seed)
    w = torch.randn(d, generator=g)
    b = float(torch.randn((), generator=g))
    x = torch.randn(m, d, generator=g)
    model = binary_linear(w, b)
    y = model(x).argmax(1)
    return model, x, y, w, b


# ---------------------------------------------------------------------------
# exact answers on linear classifiers


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_minimal_l2_perturbation_of_binary_linear_classifier_is_distance_to_hyperplane(
    seed,
):
    model, x, y, w, b = random_binary(seed)
    exact = (x @ w + b).abs() / w.norm()
    R, k = 10.0, 20
    res = minimal_perturbation(
        model, x, y, norm="l2", box=None, max_radius=R, bisection_steps=k, steps=20
    )
    assert bool(res.success.all())
    tol = R / 2**k + 1e-9
    assert torch.all(res.norms >= exact - 1e-9)  # no attack beats the true distance
    assert torch.all(res.norms <= exact + tol)
    assert torch.all(res.norms <= res.radius + 1e-12)
    assert bool(
        (model(res.x_adv).argmax(1) != y).all()
    )  # the found points really are adversarial
    # the perturbation points along -sign(f) w: the shortest way across
    delta = res.x_adv - x
    cos = (delta @ w) / (delta.norm(dim=1) * w.norm())
    assert torch.allclose(cos.abs(), torch.ones_like(cos), atol=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_minimal_linf_perturbation_of_binary_linear_classifier_uses_dual_norm(seed):
    model, x, y, w, b = random_binary(seed)
    exact = (x @ w + b).abs() / w.abs().sum()  # ‖w‖₁, dual of ‖·‖_∞
    R, k = 5.0, 20
    res = minimal_perturbation(
        model, x, y, norm="linf", box=None, max_radius=R, bisection_steps=k, steps=10
    )
    assert bool(res.success.all())
    assert torch.all(res.norms >= exact - 1e-9)
    assert torch.all(res.norms <= exact + R / 2**k + 1e-9)


def test_targeted_minimal_perturbation_is_exact_on_multiclass_linear_classifier():
    g = make_generator(5)
    K, d, m = 4, 6, 15
    W, b = torch.randn(K, d, generator=g), torch.randn(K, generator=g)
    model = linear(W, b)
    x = torch.randn(m, d, generator=g)
    z = model(x)
    y = z.argmax(1)
    # distance to the complement of the polyhedron {class y wins}: min_j (z_y −
    # z_j)/‖w_y − w_j‖
    gaps = (z.gather(1, y[:, None]) - z) / (W[y][:, None, :] - W[None, :, :]).norm(
        dim=2
    )
    gaps[torch.arange(m), y] = math.inf
    exact = gaps.min(dim=1).values
    R, k = 10.0, 16
    res = minimal_perturbation(
        model,
        x,
        y,
        norm="l2",
        box=None,
        max_radius=R,
        bisection_steps=k,
        steps=30,
        targeted=True,
    )
    assert torch.all(res.norms >= exact - 1e-9)
    assert torch.all(res.norms <= exact + R / 2**k + 1e-9)
    untargeted = minimal_perturbation(
        model, x, y, norm="l2", box=None, max_radius=R, bisection_steps=k, steps=30
    )
    assert torch.all(
        untargeted.norms >= exact - 1e-9
    )  # a heuristic, but never below the truth


def test_box_constraint_by_hand():
    # f(x) = x1 + x2 − 0.75 at x = (0.05, 0.9) is 0.2. Unconstrained, L∞ needs 0.1 and
    # L2 needs 0.2/√2, but both would push x1 below 0. Inside [0, 1]²: x1 can drop
    # by 0.05 only, so L∞ needs t with 0.05 + t = 0.2 → 0.15, and L2 the point
    # (0, 0.75): ‖(0.05, 0.15)‖ = √0.025.
    model = binary_linear(torch.tensor([1.0, 1.0]), -0.75)
    x = torch.tensor([[0.05, 0.9]])
    y = torch.tensor([1])
    k = 16
    linf = minimal_perturbation(model, x, y, norm="linf", bisection_steps=k, steps=20)
    assert linf.norms.item() == pytest.approx(0.15, abs=1.0 / 2**k + 1e-9)
    l2 = minimal_perturbation(model, x, y, norm="l2", bisection_steps=k, steps=40)
    assert l2.norms.item() >= math.sqrt(0.025) - 1e-9
    assert l2.norms.item() == pytest.approx(math.sqrt(0.025), abs=1e-4)
    assert torch.allclose(l2.x_adv, torch.tensor([[0.0, 0.75]]), atol=1e-4)
    assert float(l2.x_adv.min()) >= 0.0 and float(linf.x_adv.min()) >= 0.0


def test_fgsm_linf_step_is_r_sign_w_and_flips_exactly_past_dual_norm_threshold():
    w = torch.tensor([2.0, -1.0, 0.5])
    model = binary_linear(w, 0.0)
    x = torch.tensor([[0.5, 0.5, 0.5]])  # f(x) = 0.75: class 1
    y = torch.tensor([1])
    # f(x − r sign w) = 0.75 − r ‖w‖₁ = 0.75 − 3.5 r: flips iff r > 0.75/3.5
    for r, flips in [(0.2, False), (0.22, True)]:
        res = fgsm_attack(model, x, y, r, norm="linf")
        assert torch.allclose(res.x_adv, x - r * w.sign())
        assert bool(res.success) is flips
        assert res.norms.item() == pytest.approx(r)
    l2 = fgsm_attack(model, x, y, 0.5, norm="l2")  # x − r w/‖w‖
    assert torch.allclose(l2.x_adv, x - 0.5 * w / w.norm())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    norm=st.sampled_from(["l2", "linf"]),
    radius=st.floats(1e-3, 5.0),
    steps=st.integers(1, 6),
    random_start=st.booleans(),
)
def test_pgd_never_leaves_the_ball_or_the_box(seed, norm, radius, steps, random_start):
    g = make_generator(seed)
    model = mlp(5, [8], 4, generator=g).double().requires_grad_(False)
    x = torch.rand(6, 5, generator=g)
    y = torch.randint(0, 4, (6,), generator=g)
    radii = radius * (0.5 + torch.rand(6, generator=g))  # one radius per example
    res = pgd_attack(
        model,
        x,
        y,
        radii,
        norm=norm,
        steps=steps,
        random_start=random_start,
        generator=g,
    )
    assert torch.all(res.norms <= radii * (1 + 1e-9))
    assert float(res.x_adv.min()) >= 0.0 and float(res.x_adv.max()) <= 1.0


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_stop_at_success_false_runs_every_step_to_the_far_side_of_the_ball(norm):
    # binary linear, no box: every ascent step moves by α along −sign(f) w/‖w‖ (L2) or
    # −sign(f) sign(w) (L∞). Stopping at success freezes the first iterate across the
    # boundary, t α with t = ⌈exact/α⌉; without stopping, 2.5 r of path > r reaches the
    # boundary of the ball: δ = −sign(f) r w/‖w‖₂ (L2), −sign(f) r sign(w) (L∞).
    model, x, y, w, b = random_binary(3, m=12, d=5)
    f = x @ w + b
    dual = w.norm() if norm == "l2" else w.abs().sum()
    exact = f.abs() / dual
    r, steps = float(exact.max()) * 1.5, 10
    alpha = 2.5 * r / steps
    stop = pgd_attack(model, x, y, r, norm=norm, steps=steps, box=None)
    assert bool(stop.success.all())
    expected_norm = torch.ceil(exact / alpha - 1e-12) * alpha
    assert torch.allclose(stop.norms, expected_norm, atol=1e-9)
    full = pgd_attack(
        model, x, y, r, norm=norm, steps=steps, box=None, stop_at_success=False
    )
    direction = w / w.norm() if norm == "l2" else w.sign()
    assert torch.allclose(full.x_adv, x - r * f.sign()[:, None] * direction, atol=1e-9)
    assert torch.allclose(full.norms, torch.full_like(full.norms, r))
    assert bool(full.success.all())
    # the last iterate has the smallest margin in the ball: f − sign(f) r ‖w‖_*
    assert torch.allclose(model(full.x_adv)[:, 1], f - f.sign() * r * dual, atol=1e-9)


def test_stop_at_success_by_hand():
    # class 1 iff x1 > 0.5, x1 = 0.45 with label 0, r = 0.2, 4 steps of α = 2.5 r / 4 =
    # 0.125
    # along +e1: 0.45 → 0.575 (flipped: the stopping attack freezes here) → 0.65 (the
    # projection onto the ball keeps x1 − 0.45 ≤ 0.2) → 0.65 → 0.65.
    model = binary_linear(torch.tensor([1.0, 0.0]), -0.5)
    x, y = torch.tensor([[0.45, 0.5]]), torch.tensor([0])
    stop = pgd_attack(model, x, y, 0.2, steps=4, box=None)
    assert torch.allclose(stop.x_adv, torch.tensor([[0.575, 0.5]]))
    full = pgd_attack(model, x, y, 0.2, steps=4, box=None, stop_at_success=False)
    assert torch.allclose(full.x_adv, torch.tensor([[0.65, 0.5]]))
    assert bool(stop.success) and bool(full.success)
    assert full.norms.item() == pytest.approx(0.2)
    with pytest.raises(ValueError, match="stop_at_success"):
        pgd_attack(model, x, y, 0.2, stop_at_success="no")


@pytest.mark.parametrize("norm", ["l2", "linf"])
@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_success_at_radii_on_binary_linear_classifier(norm, attack):
    # without the box both attacks are exact on a binary linear score: x_i is flipped at
    # radius r iff |f(x_i)|/‖w‖_* < r; labels already wrong count at every radius, r = 0
    # included
    model, x, _, w, b = random_binary(4, m=40, d=6)
    f = x @ w + b
    y = (f > 0).long()
    y[:3] = 1 - y[:3]  # three examples misclassified from the start
    dual = w.norm() if norm == "l2" else w.abs().sum()
    exact = f.abs() / dual
    radii = torch.tensor([0.0, 0.1, 0.3, 0.7, 1.5, 4.0])
    rates = success_at_radii(model, x, y, radii, attack=attack, norm=norm, box=None)
    wrong = torch.arange(40) < 3
    expected = ((exact[None, :] < radii[:, None]) | wrong[None, :]).double().mean(dim=1)
    assert rates.tolist() == pytest.approx(expected.tolist())
    assert rates[0].item() == pytest.approx(3 / 40)
    one = [
        fgsm_attack(model, x, y, r, norm=norm, box=None).success_rate
        for r in radii[1:].tolist()
    ]
    if attack == "fgsm":
        assert rates[1:].tolist() == pytest.approx(one)


def test_success_at_radii_fgsm_can_miss_where_pgd_hits():
    # the box example of chapter 0, exercise 3(b): g = x1 + x2 − 0.75 at (0.05, 0.9), L2
    # radius just above √0.025: one clipped step stops at g ≈ 0.038 > 0, PGD gets across
    model = binary_linear(torch.tensor([1.0, 1.0]), -0.75)
    x, y = torch.tensor([[0.05, 0.9]]), torch.tensor([1])
    r = [math.sqrt(0.025) + 0.01]
    assert success_at_radii(model, x, y, r, attack="fgsm").item() == 0.0
    assert success_at_radii(model, x, y, r, attack="pgd", steps=40).item() == 1.0


def test_targeted_pgd_reaches_target_on_linear_classifier():
    W = torch.eye(3)
    model = linear(W, torch.zeros(3))
    x = torch.tensor([[0.9, 0.2, 0.1]])
    # to make class 2 win from (0.9, 0.2, 0.1): x3 − x1 > 0 and x3 − x2 > 0; L2-closest
    # is δ = (−0.4, 0, 0.4)
    res = minimal_perturbation(
        model,
        x,
        torch.tensor([0]),
        norm="l2",
        bisection_steps=16,
        steps=20,
        targeted=True,
    )
    assert res.norms.item() >= 0.7 / math.sqrt(2) - 1e-12
    assert res.norms.item() == pytest.approx(
        0.7 / math.sqrt(2), abs=math.sqrt(3) / 2**16
    )  # to class 1 (0.7/√2), not 2 (0.8/√2)
    hit = pgd_attack(model, x, torch.tensor([0]), 0.6, target=torch.tensor([2]))
    assert hit.x_adv.argmax(1).item() == 2
    miss = pgd_attack(
        model, x, torch.tensor([0]), 0.5, target=torch.tensor([2])
    )  # 0.8/√2 ≈ 0.566 > 0.5
    assert not bool(miss.success)


def test_already_misclassified_and_unreachable_examples():
    model = binary_linear(torch.tensor([1.0, 0.0]), -0.5)  # class 1 iff x1 > 0.5
    x = torch.tensor([[0.9, 0.5], [0.2, 0.5], [0.52, 0.5]])
    y = torch.tensor([1, 1, 1])  # the second is already wrong
    res = minimal_perturbation(
        model, x, y, norm="l2", max_radius=0.1, bisection_steps=16, steps=10
    )
    assert res.success.tolist() == [False, True, True]
    assert math.isinf(res.norms[0].item()) and res.norms[1].item() == 0.0
    assert 0.02 - 1e-12 <= res.norms[2].item() <= 0.02 + 0.1 / 2**16
    assert torch.equal(res.x_adv[0], x[0]) and torch.equal(res.x_adv[1], x[1])


# ---------------------------------------------------------------------------
# margins and the certified radius


def test_margin_by_hand():
    logits = torch.tensor([[3.0, 1.0, 2.0], [3.0, 1.0, 2.0], [0.0, 0.0, -1.0]])
    assert margin(logits, torch.tensor([0, 1, 0])).tolist() == [1.0, -2.0, 0.0]


def test_certified_radius_by_hand_and_sqrt2_is_attained():
    assert certified_radius(
        torch.tensor([math.sqrt(2), -1.0]), 1.0
    ).tolist() == pytest.approx([1.0, 0.0])
    # f(x) = L (⟨u,x⟩/√2, −⟨u,x⟩/√2) has Lip = L (ℓ2 → ℓ2) and flips exactly at distance
    # ⟨u, x⟩ = m/(√2 L)
    L, u = 3.0, torch.tensor([0.6, 0.8])
    W = L * torch.stack([u, -u]) / math.sqrt(2)
    model = linear(W, torch.zeros(2))
    assert spectral_norm_product(nn.Sequential(model)) == pytest.approx(L)
    x = torch.tensor([[0.5, 0.25]])
    y = torch.tensor([0])
    cert = certified_radius(margin(model(x), y), L)
    exact = float(x @ u)
    assert cert.item() == pytest.approx(exact)
    found = minimal_perturbation(
        model, x, y, norm="l2", box=None, max_radius=2.0, bisection_steps=18, steps=10
    )
    assert found.norms.item() == pytest.approx(exact, abs=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_found_perturbations_never_beat_the_certificate(seed):
    g = make_generator(seed)
    model = mlp(8, [32, 32], 5, generator=g).double().requires_grad_(False)
    x = torch.rand(40, 8, generator=g)
    y = model(x).argmax(1)
    res = minimal_perturbation(model, x, y, norm="l2", bisection_steps=10, steps=20)
    cert = certified_radius(margin(model(x), y), spectral_norm_product(model))
    assert torch.all(res.norms >= cert - 1e-12)


# ---------------------------------------------------------------------------
# how small is small


def test_nearest_other_class_distance_by_hand():
    x_ref = torch.tensor([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    y_ref = torch.tensor([0, 1, 1, 0])
    x = torch.tensor([[0.0, 0.0], [2.0, 1.0]])
    y = torch.tensor([0, 1])
    l2 = nearest_other_class_distance(x, y, x_ref, y_ref, chunk=1)
    assert l2.tolist() == pytest.approx(
        [1.0, math.sqrt(5)]
    )  # (2, 1) is √5 from both (0, 0) and (0, 2)
    linf = nearest_other_class_distance(x, y, x_ref, y_ref, norm="linf")
    assert linf.tolist() == pytest.approx([1.0, 2.0])


def test_success_curve_and_summary_by_hand():
    norms = torch.tensor([0.1, 0.5, math.inf, 0.3])
    assert success_curve(norms, [0.0, 0.1, 0.3, 1.0]).tolist() == [0.0, 0.25, 0.5, 0.75]
    x = torch.tensor(
        [[1.0, 0.0], [0.0, 2.0], [3.0, 4.0], [0.0, 1.0]]
    )  # ‖x‖ = 1, 2, 5, 1
    dist = torch.tensor([1.0, 1.0, 1.0, 0.5])
    s = summarize_attack(norms, x, dist, radius=0.3)
    assert isinstance(s, AttackSummary)
    assert s.n == 4 and s.success_rate == 0.75 and s.success_rate_at_radius == 0.5
    assert s.median_norm == pytest.approx(0.3)  # lower median of (0.1, 0.3, 0.5, inf)
    assert s.median_relative_to_input == pytest.approx(0.25)  # (0.1, 0.25, 0.3, inf)
    assert s.median_relative_to_other_class == pytest.approx(
        0.5
    )  # (0.1, 0.5, 0.6, inf)


def test_nearest_neighbour_logits_by_hand():
    knn = NearestNeighbourClassifier(
        torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]]),
        torch.tensor([0, 1, 0]),
        classes=3,
    )
    logits = knn(torch.tensor([[4.0, 3.0], [0.0, 0.0]]))
    assert logits.tolist() == [
        [-4.0, -3.0, -math.inf],
        [0.0, -4.0, -math.inf],
    ]  # (4, 3): 5 and 4 from class 0, 3 from class 1


@pytest.mark.parametrize("seed", [0, 1])
def test_nearest_neighbour_rule_is_robust_at_half_the_other_class_distance(seed):
    g = make_generator(seed)
    x = torch.rand(30, 4, generator=g)
    y = torch.randint(0, 3, (30,), generator=g)
    knn = NearestNeighbourClassifier(x, y)
    assert torch.equal(knn(x).argmax(1), y)  # memorizes (distinct points)
    D = nearest_other_class_distance(x, y, x, y)
    assert torch.allclose(margin(knn(x), y), D)  # margin at x_i is D_i
    res = minimal_perturbation(
        knn, x[:8], y[:8], norm="l2", bisection_steps=14, steps=30
    )
    assert torch.all(res.norms >= D[:8] / 2 - 1e-9)  # the proposition of chapter 0
    # towards the nearest point of another class the midpoint is reached, unless the box
    # stops it first
    assert torch.all(res.norms <= D[:8] + math.sqrt(4) / 2**14)


# ---------------------------------------------------------------------------
# bad input


def _small():
    model = binary_linear(torch.tensor([1.0, 1.0]), -1.0)
    return model, torch.full((3, 2), 0.25), torch.zeros(3, dtype=torch.long)


@settings(max_examples=20, deadline=None)
@given(radius=st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf)))
def test_bad_radius_raises(radius):
    model, x, y = _small()
    with pytest.raises(ValueError, match="radius"):
        pgd_attack(model, x, y, radius)
    with pytest.raises(ValueError, match="radius"):
        pgd_attack(model, x, y, torch.tensor([0.1, radius, 0.1]))


@settings(max_examples=20, deadline=None)
@given(steps=st.integers(max_value=0), bis=st.integers(max_value=0))
def test_bad_steps_raise(steps, bis):
    model, x, y = _small()
    with pytest.raises(ValueError, match="steps"):
        pgd_attack(model, x, y, 0.1, steps=steps)
    with pytest.raises(ValueError, match="bisection_steps"):
        minimal_perturbation(model, x, y, bisection_steps=bis)


@settings(max_examples=20, deadline=None)
@given(
    rows=st.integers(1, 4),
    cols=st.integers(1, 4),
    bad=st.sampled_from([math.nan, math.inf]),
)
def test_nan_or_wrong_shape_in_x_raises(rows, cols, bad):
    model, _, _ = _small()
    x = torch.full((rows, cols), 0.5)
    x[0, 0] = bad
    with pytest.raises(ValueError, match="x"):
        pgd_attack(model, x, torch.zeros(rows, dtype=torch.long), 0.1)
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        pgd_attack(
            model, torch.full((rows,), 0.5), torch.zeros(rows, dtype=torch.long), 0.1
        )


@settings(max_examples=20, deadline=None)
@given(length=st.integers(0, 6).filter(lambda n: n != 3))
def test_labels_of_wrong_length_raise(length):
    model, x, _ = _small()
    with pytest.raises(ValueError, match="y must have shape"):
        pgd_attack(model, x, torch.zeros(length, dtype=torch.long), 0.1)
    with pytest.raises(ValueError, match="y must have shape"):
        nearest_other_class_distance(
            x, torch.zeros(length, dtype=torch.long), x, torch.arange(3)
        )


@settings(max_examples=20, deadline=None)
@given(
    bad=st.floats(max_value=-1e-6, allow_infinity=False),
    name=st.sampled_from(["pgd", "FGSM"]),
)
def test_success_at_radii_bad_input_raises(bad, name):
    model, x, y = _small()
    with pytest.raises(ValueError, match="radii"):
        success_at_radii(model, x, y, [0.1, bad], attack=name)
    with pytest.raises(ValueError, match="radii"):
        success_at_radii(model, x, y, [[0.1]], attack=name)
    with pytest.raises(ValueError, match="radii"):
        success_at_radii(model, x, y, [], attack=name)
    with pytest.raises(ValueError, match="attack"):
        success_at_radii(model, x, y, [0.1], attack="cw")
    with pytest.raises(ValueError, match="steps"):
        success_at_radii(model, x, y, [0.1], attack=name, steps=0)


def test_other_bad_input_raises():
    model, x, y = _small()
    with pytest.raises(ValueError, match="y must hold class indices"):
        pgd_attack(model, x, torch.tensor([0, 1, 2]), 0.1)
    with pytest.raises(ValueError, match="y must hold integer"):
        pgd_attack(model, x, torch.tensor([0.0, 0.5, 1.0]), 0.1)
    with pytest.raises(ValueError, match="norm"):
        pgd_attack(model, x, y, 0.1, norm="l1")
    with pytest.raises(ValueError, match="loss"):
        pgd_attack(model, x, y, 0.1, loss="hinge")
    with pytest.raises(ValueError, match="box"):
        pgd_attack(model, x, y, 0.1, box=(1.0, 0.0))
    with pytest.raises(ValueError, match="x must lie in the box"):
        pgd_attack(model, x + 2.0, y, 0.1)
    with pytest.raises(ValueError, match="step_size"):
        pgd_attack(model, x, y, 0.1, step_size=-1.0)
    with pytest.raises(ValueError, match="generator"):
        pgd_attack(model, x, y, 0.1, random_start=True)
    with pytest.raises(ValueError, match="target"):
        pgd_attack(model, x, y, 0.1, target=y)
    with pytest.raises(ValueError, match="radius must be a number or have shape"):
        pgd_attack(model, x, y, torch.ones(2))
    with pytest.raises(ValueError, match="model must map"):
        pgd_attack(lambda z: z.sum(dim=1), x, y, 0.1)
    with pytest.raises(ValueError, match="model must be callable"):
        pgd_attack("net", x, y, 0.1)
    with pytest.raises(ValueError, match="max_radius"):
        minimal_perturbation(model, x, y, box=None)
    with pytest.raises(ValueError, match="max_radius"):
        minimal_perturbation(model, x, y, max_radius=0.0)
    with pytest.raises(ValueError, match="x_ref"):
        nearest_other_class_distance(x, y, torch.zeros(3, 5), y)
    with pytest.raises(ValueError, match="norms"):
        success_curve(torch.tensor([0.1, math.nan]), [0.1])
    with pytest.raises(ValueError, match="radii"):
        success_curve(torch.tensor([0.1]), [-0.1])
    with pytest.raises(ValueError, match="other_class_distance"):
        summarize_attack(torch.ones(3), x, torch.zeros(3))
    with pytest.raises(ValueError, match="lipschitz"):
        certified_radius(torch.ones(3), 0.0)
    with pytest.raises(ValueError, match="logits"):
        margin(torch.ones(3, 1), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="y_ref must have shape"):
        NearestNeighbourClassifier(x, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="classes"):
        NearestNeighbourClassifier(x, torch.tensor([0, 1, 2]), classes=2)
    with pytest.raises(ValueError, match="x_ref"):
        NearestNeighbourClassifier(torch.full((3, 2), math.nan), y)
