"""What each experiment costs, and how long a chapter takes on this device.

Every block of :data:`lawlib.scale.PRESETS` has an entry in :data:`COSTS`: a
function of the block's sizes that returns, per experiment, a :class:`Cost`:

* ``flops`` — the dominant matrix products: for training, forward (2 per
  multiply-add), backward (4) and Adam (≈ 16 per parameter), per step, times
  the step budget and the number of networks; for distances, attacks and
  constructions, the products of their kernels;
* ``elements`` — element-wise work that no matrix product hides (random draws,
  sorts, pairwise differences), in element operations;
* ``launches`` — sequential steps (one optimizer or attack step each), which on
  small problems cost their Python and kernel-launch latency whatever their size;
* ``memory`` — the peak bytes of the experiment's own tensors (the interpreter
  and PyTorch add about 0.4 GB to a process on top of this).

A step budget is an upper bound: training stops as soon as a network memorizes.
Where the budget is far above the steps the networks take, the cost counts
:func:`expected_steps` instead: the budget, capped at the number of steps the
networks took when the chapter was run at the quick scale (stated at each use);
a larger problem may need more, so the time at larger scales is an estimate.

The time on a device is ``flops / (R · efficiency) + elements / E + launches · latency``
plus a fixed start-up per chapter, where ``R`` is the sustained matrix-product rate
measured by :func:`lawlib.hardware.matmul_throughput` (a quarter of a second).
``efficiency``, ``E`` (as a fraction of ``R``) and ``latency`` are constants per kind of
device (:data:`PROFILE_CONSTANTS`), calibrated on the book's chapters at the quick scale
on two CPU cores (``benchmarks/cost_model.py``); the GPU constants are stated
assumptions for a T4 until a chapter has been timed on one.

    # the same from Python: prints, returns chapter -> seconds
    lawlib.plan("colab", "t4")
    # this device, the scale setup() would choose
    python -m lawlib.plan
    # every experiment's flops, memory and time at full scale
    python -m lawlib.plan --scale full
    # planned for a free Colab GPU (nominal T4)
    python -m lawlib.plan --scale colab --device t4
"""

from __future__ import annotations

import argparse
import math
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import torch

from .scale import PRESETS, SCALE_NAMES, Scale, get_scale

__all__ = [
    "Cost",
    "DeviceProfile",
    "COSTS",
    "CHAPTERS",
    "T4",
    "device_profile",
    "experiment_costs",
    "chapter_seconds",
    "blocks_without_cost",
    "plan",
    "choose_scale",
    "format_seconds",
]

F32 = 4  # bytes per float32 number
F64 = 8
RANDOM = (
    8  # element operations per random number drawn (Box-Muller/Philox and the copy)
)


@dataclass(frozen=True)
class Cost:
    """The cost of one experiment: matrix-product flops, element-wise work, sequential
    steps, peak bytes.
    """

    flops: float = 0.0
    elements: float = 0.0
    launches: float = 0.0
    memory: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        """Run one after the other: work adds up, the peak memory is the larger one."""
        return Cost(
            self.flops + other.flops,
            self.elements + other.elements,
            self.launches + other.launches,
            max(self.memory, other.memory),
        )

    def __mul__(self, k: float) -> Cost:
        """``k`` repetitions in sequence (the same peak memory)."""
        return Cost(self.flops * k, self.elements * k, self.launches * k, self.memory)

    __rmul__ = __mul__


def total(costs) -> Cost:
    out = Cost()
    for c in costs:
        out = out + c
    return out


# --------------------------------------------------------------------------------------
# Building blocks (hand-checkable: tests/test_device_scale.py counts them for small
# sizes)


def train(
    n: int, macs: float, params: float, steps: int, nets: int = 1, act: float = 0.0
) -> Cost:
    """Full-batch training: per step and network 6·n·macs (forward 2, backward 4) +
    16·params (Adam).

    ``macs`` are the multiply-adds of one forward pass on one point, ``act`` its hidden
    units. Memory: the activations and their gradients at the peak of the backward pass,
    4·n·act numbers, and the weights with their gradient and Adam's two moments,
    4·params (within a factor 3 of the measured peak: the tests).
    """
    flops = steps * nets * (6.0 * n * macs + 16.0 * params)
    elements = steps * nets * (4.0 * n * act + 10.0 * params)
    memory = F32 * nets * (4.0 * n * act + 4.0 * params)
    return Cost(flops, elements, steps, memory)


def gradients(
    m: int, macs: float, act: float = 0.0, nets: int = 1, dtype_bytes: int = F32
) -> Cost:
    """Input gradients at ``m`` points: forward and backward, 6·m·macs per network
    (float64 counted twice).
    """
    w = 2.0 if dtype_bytes == F64 else 1.0
    return Cost(
        w * 6.0 * m * macs * nets,
        4.0 * m * act * nets,
        1,
        dtype_bytes * 3.0 * m * max(act, 1) * nets,
    )


def ascent(
    starts: int, steps: int, macs: float, act: float = 0.0, dtype_bytes: int = F32
) -> Cost:
    """Gradient ascent on ‖∇f‖ (double backward): about 12·macs per start and step."""
    w = 2.0 if dtype_bytes == F64 else 1.0
    return Cost(
        w * 12.0 * starts * steps * macs,
        8.0 * starts * steps * act,
        steps,
        dtype_bytes * 6.0 * starts * max(act, 1),
    )


def distances(
    n: int, m: int, d: int, chunk: int | None = None, dtype_bytes: int = F32
) -> Cost:
    """All n·m distances through the Gram trick: 2·n·m·d flops, a few element operations
    per entry.
    """
    w = 2.0 if dtype_bytes == F64 else 1.0
    rows = n if chunk is None else min(n, chunk)
    return Cost(
        w * 2.0 * n * m * d,
        4.0 * n * m,
        math.ceil(n / rows),
        dtype_bytes * (3.0 * rows * m + (n + m) * d),
    )


def draws(count: float, dtype_bytes: int = F32) -> Cost:
    """Drawing ``count`` random numbers (and keeping them)."""
    return Cost(0.0, RANDOM * count, 1, dtype_bytes * count)


def attack(
    points: int, macs: float, steps: int, bisection: int = 1, act: float = 0.0
) -> Cost:
    """PGD (``steps`` gradient steps) at ``bisection`` radii for ``points`` inputs:
    6·macs per point and step.
    """
    k = steps * bisection
    return Cost(
        6.0 * points * macs * k,
        6.0 * points * act * k,
        k,
        F32 * 4.0 * points * max(act, 1),
    )


def mlp_macs(sizes) -> float:
    return float(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))


def two_layer(d: int, k: int) -> tuple[float, float, float]:
    """(macs, parameters, hidden units) of a 2-layer ReLU network of width k on R^d
    (with an output bias).
    """
    return d * k + k, d * k + 2 * k + 1, float(k)


def expected_steps(
    budget: int, measured: int, lr: float = 1e-2, measured_lr: float = 1e-2
) -> int:
    """The steps a sweep that stops on memorization takes:
    ``min(budget, measured · measured_lr / lr)``.

    ``measured`` is the cost-weighted number of steps observed at the quick scale, with
    learning rate ``measured_lr``; a smaller learning rate is assumed to need
    proportionally more steps (an assumption until the larger scales have been timed).
    """
    return int(min(budget, math.ceil(measured * max(1.0, measured_lr / lr))))


def _get(s: SimpleNamespace, key: str, default):
    return getattr(s, key, default)


# --------------------------------------------------------------------------------------
# One function per block of PRESETS: sizes -> {experiment: Cost}. Read each chapter's
# cells to change them.


def _intro(s: SimpleNamespace) -> dict[str, Cost]:
    n_train, n_test, d, C = (
        1348,
        449,
        64,
        10,
    )  # scikit-learn's 1797 digits, a quarter held out
    h = s.hidden
    macs, params, act = d * h + h * C, d * h + h + h * C + C, 2.0 * h + C
    na = min(s.n_attack, n_test)
    mp = attack(na, macs, s.attack_steps, s.bisection_steps, act)
    # the nearest-neighbour classifier: distances to the whole training set without the
    # Gram trick (exact differences), element-wise, forward and backward: about
    # 4·n_train·d element operations per point and step
    k_steps = s.attack_steps * s.bisection_steps
    knn = Cost(
        0.0,
        4.0 * s.n_knn * n_train * d * k_steps,
        k_steps,
        F32 * 3.0 * s.n_knn * n_train * d,
    )
    return {
        "train the digits network (true labels)": train(
            n_train, macs, params, s.epochs, act=act
        ),
        "train on shuffled labels": train(
            n_train, macs, params, s.random_epochs, act=act
        ),
        "smallest perturbations, network (4 attacks)": mp * 4,
        "smallest perturbations, nearest neighbour": knn,
        "fixed-radius attacks and the widget grid": attack(
            na, macs, 1, 2 * s.n_radii, act
        )
        + attack(6 * (s.widget_radii - 1), macs, s.attack_steps, 1, act),
        "distances to the other classes": distances(na, n_train, d) * 4,
    }


def _memorization(s: SimpleNamespace) -> dict[str, Cost]:
    n, dims, pairs = s.n, s.dims, s.n_pairs
    circle = sum(20 * m for m in (20, 50, 100, 200, 500, 1000))

    # memory: the points (and their normalization), 24 bytes of indices and 16 of
    # results a pair, and the gathered rows in blocks of at most 8 MB (two of them)
    def pair_memory(d: int) -> float:
        return F32 * 2.0 * n * d + 40.0 * pairs + 16e6

    inner = total(
        draws(n * d) + Cost(0, 3.0 * pairs * d + 40.0 * pairs, 4, pair_memory(d))
        for d in dims
    )
    gauss = total(
        draws(n * d) + Cost(0, 3.0 * pairs * d, 3, pair_memory(d))
        for d in (10, 100, 1000)
    )
    floor_n = (25, 50, 100, 200, 500, 1000, 2000, 5000)
    return {
        "inner products and distances against the exact law": inner,
        "Gaussian points: norms and inner products": gauss,
        "the noise floor, simulated against chi-squared": draws(
            s.n_trials * sum(floor_n)
        )
        + Cost(0, 2e3 * circle, 10),
    }


def _kirszbraun(s: SimpleNamespace) -> dict[str, Cost]:
    caps = total(
        draws(2.0 * s.n_cap_pairs * d)
        + Cost(
            0,
            s.n_cap_pairs * (d + 30.0),
            math.ceil(s.n_cap_pairs / 1e5),
            F32 * 3 * min(s.n_cap_pairs, 100_000) * d,
        )
        for d in s.cap_dims
    )
    mins = total(distances(n, n, d, chunk=1024) for d in s.dims for n in s.ns)
    hist = total(
        Cost(0, 1.5 * s.n_hist**2 * d + 30.0 * s.n_hist**2, 3, F64 * 2.0 * s.n_hist**2)
        for d in s.dims_hist
    )
    nm, dm = s.n_mc, s.d_mc
    mcshane = (
        distances(nm, nm, dm) * 2
        + distances(s.n_fresh, nm, dm) * 3
        + ascent(s.n_starts, s.ascent_steps, nm * dm, nm)
    )
    lip_n = total(distances(n, n, dm, chunk=1024) * 2 for n in s.ns_lip)
    return {
        "the cap bound against random pairs": caps,
        "minimum pairwise distances": mins,
        "histograms of all pairwise distances": hist,
        "McShane's extension and its Lipschitz estimators": mcshane,
        "McShane's constant against n": lip_n,
    }


def _baum_construction(n: int, d: int) -> Cost:
    groups = math.ceil(n / d)
    # per group: a d x d solve in float64 and the distances of every point to the
    # group's hyperplane; the separations: all pairwise distances (float64)
    return Cost(
        2.0 * (groups * (2.0 * d**3 + 2.0 * n * d)) + 2 * 2.0 * n * n * d,
        10.0 * n * n,
        3 * groups,
        F64 * (3.0 * min(n, 4096) * n + 4 * n * d),
    )


def _baum_steps(s: SimpleNamespace, n: int) -> int:
    """Adam steps until a Baum-width network (k = 4⌈n/d⌉) fits n random signs to the
    tolerance: about 100 + n/40 in the runs at quick and full scale (n = 100…8000,
    d = 20 and 50, learning rate 10⁻²: 92–130 steps up to n = 2000, 163–183 at 4000,
    277–295 at 8000), against a budget of 3000–20000 steps."""
    return expected_steps(s.train_steps, 100 + n // 40, s.train_lr)


def _baum(s: SimpleNamespace) -> dict[str, Cost]:
    n, d = s.n, s.d
    k = 4 * math.ceil(n / d)
    macs, params, act = two_layer(d, k)
    evaluate = gradients(
        n + s.n_fresh + 2 * k, macs, act, dtype_bytes=F64
    ) * 3 + ascent(s.ascent_starts, s.ascent_steps, macs, act, dtype_bytes=F64)
    trained = (
        train(n, macs, params, _baum_steps(s, n), act=act)
        + gradients(s.n_fresh, macs, act)
        + ascent(s.ascent_starts, s.ascent_steps, macs, act)
        + distances(n, n, d) * 2
    )
    sweep = Cost()
    for m in s.sweep_ns:
        km = 4 * math.ceil(m / s.sweep_d)
        mm, pm, am = two_layer(s.sweep_d, km)
        sweep = (
            sweep
            + (
                _baum_construction(m, s.sweep_d)
                + train(m, mm, pm, _baum_steps(s, m), act=am)
                + gradients(s.n_fresh, mm, am)
                + distances(m, m, s.sweep_d) * 2
            )
            * s.sweep_seeds
        )
    return {
        "Baum's network: construction and Lipschitz estimates": _baum_construction(n, d)
        + evaluate,
        "a trained network of the same width": trained,
        "Lipschitz constant against n (Baum and trained)": sweep,
        "the admissible slab width (21 constructions)": _baum_construction(
            s.width_n, s.width_d
        )
        * 22,
    }


def _rbf(s: SimpleNamespace) -> dict[str, Cost]:
    n, d = s.n_table, s.d_table
    m = 20_000
    rbf = (
        distances(n, n, d) * 2
        + distances(s.n_fresh + s.n_starts * s.ascent_steps, n, d) * 3
        + distances(2 * m, n, d, chunk=4096, dtype_bytes=F64)
        + draws(4 * m * d, F64)
    )
    npp = (
        distances(s.n_starts * s.ascent_steps + 2000, n, d) * 4 + distances(n, n, d) * 2
    )
    against_n = total(
        distances(m_, m_, s.d, chunk=4096) * 4 + _baum_construction(m_, s.d)
        for m_ in s.ns
    )
    trained = Cost()
    # Adam steps to the tolerance at the quick scale (lr 10⁻²): 127 at k = 4⌈n/d⌉, 79 at
    # k = n; at colab (lr 5·10⁻³) 168 and 83, at full (3·10⁻³) 283 and 89, which the
    # learning-rate rule of expected_steps over-counts (423, 264); budgets 3000–20000.
    for k, measured in ((4 * math.ceil(n / d), 130), (n, 80)):
        macs, params, act = two_layer(d, k)
        steps = expected_steps(s.train_steps, measured, s.train_lr)
        trained = trained + (
            train(n, macs, params, steps, act=act)
            + gradients(s.n_fresh, macs, act)
            + ascent(s.n_starts, s.ascent_steps, macs, act)
        )
    table = (
        distances(n, n, d) * 4
        + _baum_construction(n, d)
        + gradients(n, 4 * n, 4 * n / d, dtype_bytes=F64)
    )
    return {
        "the RBF memorizer and its Lipschitz checks": rbf,
        "the neuron-per-point memorizer": npp,
        "memorizers against n": against_n,
        "trained 2-layer networks (k = 4n/d and k = n)": trained,
        "the comparison table (McShane, Baum)": table,
    }


def _max_gradient_cell(
    n: int,
    d: int,
    widths,
    seeds: int,
    steps: int,
    n_fresh: int,
    work_steps: int | None = None,
) -> Cost:
    """The max-gradient sweep of one cell (n, d): every width on every data set,
    trained at once by lawlib.train_batched; then fresh gradients.

    ``steps`` is the budget: the batch runs that many sequential steps when its
    narrowest network fails to memorize, and that network is charged all of them.
    Every other width stops at its memorization step (``work_steps``, default
    ``steps``) and drops out of the batch.
    """
    c = Cost()
    mem = 0.0
    for k in widths:
        macs, params, act = two_layer(d, k)
        taken = steps if work_steps is None or k == min(widths) else work_steps
        c = (
            c
            + Cost(
                taken * seeds * (6.0 * n * macs + 16.0 * params),
                taken * seeds * (12.0 * n * k + 10.0 * params),
                0,
                0,
            )
            + gradients(n_fresh, macs, act, nets=seeds)
        )
        mem += F32 * seeds * (6.0 * n * k + 4.0 * params)
    return c + Cost(0, 0, steps, mem + F32 * seeds * n * d)


def _universal(s: SimpleNamespace) -> dict[str, Cost]:
    iso = total(
        draws(s.iso_samples * d) * 2
        + Cost(
            2 * 2.0 * 2 * s.iso_samples * d * min(d, 16),
            10.0 * s.iso_samples * d,
            12,
            F64 * 3 * s.iso_samples * d,
        )
        for d in s.iso_dims
    )
    seeds1 = len(s.exp1_seeds)
    # measured: the networks of a cell stop after 17 Adam steps at the quick scale and
    # 36 at the colab scale (lr halved), weighted by their cost; only the narrowest
    # often fails and runs to the budget
    work1 = expected_steps(s.steps, 20, s.lr)
    exp1 = total(
        _max_gradient_cell(
            n,
            d,
            [k for k in s.exp1_widths if k <= n],
            seeds1,
            s.steps,
            s.n_fresh,
            work1,
        )
        for n, d in s.exp1_cells
    )
    n_a, d_a = s.exp1_cells[-1]
    widths_a = sorted(
        {
            round(v)
            for v in _geomspace(max(20, min(s.exp1_widths)), n_a, s.ascent_networks)
        }
    )
    asc = _max_gradient_cell(n_a, d_a, widths_a, 1, s.steps, s.n_fresh, work1)
    for k in widths_a:
        macs, _, act = two_layer(d_a, k)
        asc = (
            asc
            + ascent(s.ascent_starts, s.ascent_steps, macs, act)
            + gradients(s.n_fresh, macs, act)
        )
    n2 = s.exp2_n
    seeds2 = len(s.exp2_seeds)
    exp2 = Cost()
    for d in s.exp2_dims:
        widths = sorted({n2, max(1, 10 * n2 // d)})
        macs, _, act = two_layer(d, n2)
        # measured at quick scale: every network memorized, median 38 Adam steps
        # (the k = n ones in about 20)
        steps2 = expected_steps(_get(s, "exp2_steps", s.steps), 40, s.lr)
        exp2 = exp2 + _max_gradient_cell(n2, d, widths, seeds2, steps2, s.n_fresh)
        exp2 = exp2 + gradients(s.n_fresh, macs, act)
    # the ablation: six variants of one network of width k = n, trained one at a time
    # with torch.optim.Adam
    n_b, d_b = _get(s, "ablation_n", n2), _get(s, "ablation_d", s.exp2_dims[-1])
    macs_b, params_b, act_b = two_layer(d_b, n_b)
    # measured at quick scale: 16 to 63 steps per variant (26 on average)
    steps_b = expected_steps(_get(s, "ablation_steps", s.steps), 30, s.lr)
    ablation = (
        train(n_b, macs_b, params_b, steps_b, act=act_b)
        + gradients(s.n_fresh, macs_b, act_b)
    ) * 6
    n_r, d_r = s.rbf_n, s.rbf_d
    dps = sorted({2**j for j in range(int(math.log2(d_r)) + 1)} | {d_r})
    proj = total(
        Cost(2 * 2.0 * n_r * d_r * dp, 0, 4, 0)
        + distances(n_r, n_r, dp, dtype_bytes=F64) * 3
        for dp in dps
    )
    rad = total(
        distances(20_000 + s.rad_n, s.rad_functions, d, chunk=20_000)
        + Cost(
            2.0 * s.rad_draws * s.rad_n * s.rad_functions,
            RANDOM * s.rad_draws * s.rad_n,
            3,
            F32 * s.rad_draws * (s.rad_n + s.rad_functions),
        )
        for d in s.rad_dims
    )
    return {
        "isoperimetry of Lipschitz test functions": iso,
        "experiment 1: memorizing networks over (n, d, k)": exp1,
        "gradient ascent and spectral bounds (largest cell)": asc,
        "experiment 2: d swept at k = n and k = 10n/d": exp2,
        "experiment 2's ablation (six training variants)": ablation,
        "the projected RBF (tight side)": proj,
        "Rademacher complexities of distance functions": rad,
    }


def _geomspace(a: float, b: float, num: int) -> list[float]:
    if num <= 1:
        return [float(b)]
    return [a * (b / a) ** (i / (num - 1)) for i in range(num)]


def _deep_macs(d: int, width: int, depth: int) -> tuple[float, float, float]:
    sizes = [d] + [width] * (depth - 1) + [1]
    macs = mlp_macs(sizes)
    return macs, macs, float(sum(sizes[1:]))


def _weight_bounded(s: SimpleNamespace) -> dict[str, Cost]:
    n_max, tasks = max(s.ns), len(s.seeds) * len(s.ns)
    free_depth = max(s.control_depths)

    def search(max_depth: int) -> Cost:
        # smallest_fitting_depth: at depth D every task not fitted yet trains
        # (restarts each), all at once, on n_max masked points; about half the tasks are
        # still unfitted on average over the depths searched
        c = Cost()
        for D in range(1, max_depth + 1):
            macs, params, act = _deep_macs(s.d, s.width, D)
            c = c + train(
                n_max,
                macs,
                params,
                s.steps,
                nets=max(1, tasks * s.restarts // 2),
                act=act,
            )
        return c

    lip = Cost()
    for D in range(1, s.max_depth + 1):
        macs, _, act = _deep_macs(s.d, s.width, D)
        lip = lip + (
            ascent(s.ascent_starts, s.ascent_steps, macs, act)
            + gradients(s.n_fresh, macs, act)
        ) * (2 * tasks / s.max_depth)
    rad = Cost()
    for D in list(s.rad_depths) * 2 + [1] + [s.rad_depth] * len(s.ns):
        macs, params, act = _deep_macs(s.d, s.width, D)
        rad = rad + train(s.rad_n, macs, params, s.rad_steps, nets=s.rad_draws, act=act)
    return {
        "smallest fitting depth, weight-bounded": search(s.max_depth),
        "smallest fitting depth, unconstrained control": search(free_depth),
        "Lipschitz bounds of the fitted networks": lip,
        "Rademacher estimates by projected Adam": rad,
    }


def _envelope(s: SimpleNamespace) -> dict[str, Cost]:
    n, D = s.synthetic_n, s.ambient
    synth = total(
        distances(n, n, D, chunk=512) + Cost(0, 3.0 * n * n + RANDOM * n * D, 2, 0)
        for _ in range(len(s.synthetic_dims) + 1)
    )
    digits = distances(1797, 1797, 64, chunk=512) * 2
    mnist = distances(s.mnist_n, s.mnist_n, 784, chunk=s.knn_chunk) + Cost(
        2.0 * s.mnist_n * 784**2, 0, 2, F64 * s.mnist_n * 784
    )
    return {
        "intrinsic dimension of synthetic clouds": synth,
        "intrinsic dimension of the 8 x 8 digits": digits,
        "intrinsic dimension of MNIST (when it can be downloaded)": mnist,
    }


def _conv_width(d: int, k: int, target: float) -> int:
    c = 1
    while c * (k + 1) + c * (c * k + 1) + c * d + 1 < target and c < 10**5:
        c += 1
    return c


def _beyond(s: SimpleNamespace) -> dict[str, Cost]:
    law = Cost()
    for d in s.dims:
        for n in s.ns:
            law = law + Cost(
                0,
                12.0 * n * n * s.seeds + 40.0 * n * s.cell_seeds * 11,
                4 * s.seeds,
                F64 * 3.0 * min(n, 4096) * n,
            )
    grids = total(
        Cost(0, 12.0 * n * n, 4, F64 * 3.0 * min(n, 4096) * n)
        for n in s.ns
        for _ in s.dims
    )
    n_a, d_a = s.arch_n, s.arch_d
    arch, flips = Cost(), Cost()
    side = round(math.sqrt(d_a))
    kk = s.kernel_size**2
    for f in s.arch_targets:
        target = f * n_a * d_a
        k2 = max(1, round((target - 1) / (d_a + 2)))
        m2, p2, a2 = two_layer(d_a, k2)
        c = _conv_width(side * side, kk, target)
        mc = d_a * (c * kk + c * c * kk + c)
        pc, ac = target, 2.0 * c * d_a
        # the MLP with s.depth hidden layers of width w: (D − 1)w² + (d + D + 1)w + 1
        # parameters
        D = s.depth
        b = d_a + D + 1
        if D == 1:  # no w² term: (d + 2)w + 1 parameters
            w = max(1, round((target - 1) / b))
        else:
            root = math.sqrt(b * b + 4 * (D - 1) * (target - 1))
            w = max(1, round((root - b) / (2 * D - 2)))
        mm = d_a * w + (D - 1) * w * w + w
        # Adam steps until memorized at the quick scale (lr 2·10⁻³): 84–294 for
        # P ≤ nd/8 … 2nd (the largest networks the fewest), 371 once; budget 2000.
        steps = expected_steps(s.arch_steps, 300 if f < 0.5 else 150, s.arch_lr, 2e-3)
        nets = ((m2, p2, a2), (mm, target, float(D * w)), (mc, pc, ac))
        for macs, params, act in nets:
            arch = arch + (
                train(n_a, macs, params, steps, act=act)
                + gradients(s.n_fresh, macs, act)
            ) * len(s.arch_seeds)
            flips = flips + attack(s.n_flip, macs, s.flip_steps, s.flip_bisection, act)
    norms = Cost()
    for d in s.norm_dims:
        macs, params, act = two_layer(d, s.norm_n)
        norms = norms + (
            train(s.norm_n, macs, params, s.arch_steps, act=act)
            + gradients(s.n_fresh, macs, act) * 2
            + distances(s.norm_n, s.norm_n, d) * 2
        )
    rbf = (
        distances(s.n_mc, s.rbf_n, s.rbf_k, chunk=50_000, dtype_bytes=F64)
        + draws(s.n_mc * s.rbf_k, F64)
        + Cost(
            0,
            6.0 * s.n_grad_check * s.rbf_n * s.rbf_k,
            2,
            F64 * 3 * min(s.n_grad_check, 50_000) * s.rbf_n,
        )
        + distances(s.rbf_n, s.rbf_n, s.rbf_k, dtype_bytes=F64)
        * (1 + len(s.radius_fractions))
    )
    return {
        "the n^(1/d) law on cube grids": grids,
        "the n^(1/d) law on random points, with cell bounds": law,
        "the max-gradient experiment for other architectures": arch,
        "other norms: l1 and l2 gradients of memorizers": norms,
        "an RBF memorizer in k of d coordinates": rbf,
        "smallest flipping perturbations (attack vs certificate)": flips,
    }


def _frontier(s: SimpleNamespace) -> dict[str, Cost]:
    """The penalized sweep (every width, λ and seed at once), then the Lipschitz
    brackets of every network.

    A step of the penalized trainer costs about the forward and backward pass on the n
    data points plus three passes over the n_penalty penalty points
    (forward, the input gradient, and its gradient in the parameters).
    """
    n, d = s.n, s.d
    widths = [
        max(1, round(a * n / d)) if a else max(1, round(b * n))
        for a, b in s.width_factors
    ]
    nets = len(s.seeds) * (len(s.lams) + len(s.lams_data))
    sweep, brackets = Cost(), Cost()
    for k in widths:
        macs, params, act = two_layer(d, k)
        # measured at quick scale: about 100 of 2000 steps per network on average
        # (weighted by width: the wide networks memorize first; the ones that never
        # memorize are narrow or heavily penalized)
        sweep = sweep + train(
            n + 3 * s.n_penalty,
            macs,
            params,
            expected_steps(s.steps, 100, s.lr),
            nets=nets,
            act=act,
        )
        brackets = (
            brackets
            + (
                gradients(s.n_fresh + n, macs, act)
                + ascent(2 * s.ascent_starts, s.ascent_steps, macs, act)
            )
            * nets
        )
    slopes = distances(n, n, d) * nets
    homemade = (
        train(
            s.homemade_n + 3 * s.n_penalty,
            *two_layer(s.homemade_d, 2 * s.homemade_n)[:2],
            s.homemade_steps,
        )
        * 2
    )
    return {
        "one network by a plain Adam loop (the method on the page)": homemade,
        "penalized training over widths, λ and seeds": sweep,
        "Lipschitz brackets of every network": brackets + slopes,
    }


#: block of PRESETS -> its cost function. A block missing here is planned as "unknown"
#: (blocks_without_cost).
COSTS: dict[str, Callable[[SimpleNamespace], dict[str, Cost]]] = {
    "intro": _intro,
    "memorization": _memorization,
    "kirszbraun": _kirszbraun,
    "baum": _baum,
    "rbf": _rbf,
    "universal": _universal,
    "frontier": _frontier,
    "weight_bounded": _weight_bounded,
    "envelope": _envelope,
    "beyond": _beyond,
}

#: block -> the chapter notebook (book/<stem>.ipynb) whose set-up cell reports it.
CHAPTERS: dict[str, str] = {
    "intro": "00_adversarial_examples",
    "memorization": "01_memorization_model",
    "kirszbraun": "02_kirszbraun",
    "baum": "03_baum",
    "rbf": "04_rbf_memorizer",
    "universal": "05_universal_law",
    "frontier": "05b_frontier",
    "weight_bounded": "06_weight_bounded",
    "envelope": "07_imagenet_envelope",
    "beyond": "08_beyond",
}

#: Experiments a reader may not run (no download offline): counted in the plan, left out
#: of the calibration.
OPTIONAL = {("envelope", "intrinsic dimension of MNIST (when it can be downloaded)")}


def blocks_without_cost() -> list[str]:
    """The blocks of PRESETS with no working cost function
    (none yet, or one that no longer fits their sizes).
    """
    return sorted(
        b for b in PRESETS if any(experiment_costs(b, s) is None for s in SCALE_NAMES)
    )


def experiment_costs(block: str, scale: Scale | str) -> dict[str, Cost] | None:
    """Cost of every experiment of ``block`` at ``scale``; None when the block has no
    cost function, or when its sizes lack a key the function reads
    (a block edited since: planned as unknown, listed by the tests)."""
    sc = scale if isinstance(scale, Scale) else get_scale(scale)
    fn = COSTS.get(block)
    if fn is None or block not in sc.presets:
        return None
    try:
        return fn(sc[block])
    except AttributeError:
        return None


# --------------------------------------------------------------------------------------
# Devices


@dataclass(frozen=True)
class DeviceProfile:
    """What the time estimate needs to know about a device."""

    name: str
    kind: str  # "cpu", "cuda" or "mps"
    flops_per_s: float  # measured (or nominal) sustained float32 matrix-product rate
    memory_bytes: float | None  # GPU memory; None for the CPU (RAM is not checked)
    efficiency: float  # share of flops_per_s the experiments' products reach
    elements_per_s: float  # element-wise rate
    latency_s: float  # per sequential step
    startup_s: float  # per chapter: kernel, imports, figures

    def seconds(self, cost: Cost) -> float:
        return (
            cost.flops / (self.flops_per_s * self.efficiency)
            + cost.elements / self.elements_per_s
            + cost.launches * self.latency_s
        )


#: Per kind of device: ``efficiency`` (share of the probe's matrix-product rate R
#: reached by the experiments' smaller and skinnier products), ``elements_share``
#: (element-wise rate as a share of R), and the cost of a sequential step and of a
#: chapter's start-up (kernel, imports, figures). On a CPU these two are work that slows
#: down with the CPU share the process gets, so they are stated in flop-equivalents at
#: the measured rate (``latency_flops``, ``startup_flops``); on a GPU, launch latency
#: and start-up are fixed seconds. CPU: chosen on a grid to minimize the squared
#: log-ratio of measured to predicted wall time over the nine chapters at the quick
#: scale on two CPU cores shared with other jobs (load 13-18; benchmarks/cost_model.py
#: compare): measured/predicted from 0.49 to 2.6, 7 of 9 chapters within 2x. Small
#: sequential operations (the adversarial-examples chapter's attacks) are the least well
#: predicted on a loaded machine. CUDA/MPS: assumptions until a chapter has been timed
#: on one (a T4 streams ~250 GB/s, ~1/250 of its 8 TFLOP/s in float32 element
#: operations; a small optimizer step costs ~0.3 ms of kernel launches).
PROFILE_CONSTANTS = {
    "cpu": dict(
        efficiency=0.35, elements_share=1 / 10, latency_flops=2e8, startup_flops=8e11
    ),
    "cuda": dict(
        efficiency=0.5, elements_share=1 / 250, latency_s=3e-4, startup_s=15.0
    ),
    "mps": dict(efficiency=0.4, elements_share=1 / 100, latency_s=5e-4, startup_s=10.0),
}


def _profile(name: str, kind: str, rate: float, memory: float | None) -> DeviceProfile:
    k = PROFILE_CONSTANTS[kind]
    latency = k["latency_s"] if "latency_s" in k else k["latency_flops"] / rate
    startup = k["startup_s"] if "startup_s" in k else k["startup_flops"] / rate
    return DeviceProfile(
        name,
        kind,
        rate,
        memory,
        k["efficiency"],
        rate * k["elements_share"],
        latency,
        startup,
    )


#: A free Colab GPU, nominally: an NVIDIA T4, 16 GB, about 8 TFLOP/s in float32
#: (the colab preset is sized for it).
T4 = _profile("Colab T4 (nominal)", "cuda", 8.0e12, 15.0 * 2**30)


def device_profile(
    device: torch.device | str | None = None, rate: float | None = None
) -> DeviceProfile:
    """This device's profile: its matrix-product rate measured by
    :func:`lawlib.hardware.matmul_throughput`.

    ``device`` may also be ``"t4"`` for the nominal Colab GPU (:data:`T4`).
    """
    if isinstance(device, str) and device.lower() == "t4":
        return T4
    from .device import describe_device, pick_device
    from .hardware import matmul_throughput

    dev = pick_device() if device is None else torch.device(device)
    if rate is None:
        rate = matmul_throughput(dev, size=2048 if dev.type != "cpu" else 1024)
    memory = None
    if dev.type == "cuda":
        memory = float(torch.cuda.get_device_properties(dev).total_memory)
    return _profile(describe_device(dev), dev.type, rate, memory)


# --------------------------------------------------------------------------------------
# Plans


def chapter_seconds(
    block: str,
    scale: Scale | str,
    profile: DeviceProfile,
    include_optional: bool = True,
) -> float | None:
    """Estimated seconds of the chapter that reads ``block``, on ``profile``; None when
    the block has no cost.
    """
    costs = experiment_costs(block, scale)
    if costs is None:
        return None
    return profile.startup_s + sum(
        profile.seconds(c)
        for name, c in costs.items()
        if include_optional or (block, name) not in OPTIONAL
    )


def chapter_memory(block: str, scale: Scale | str) -> float | None:
    costs = experiment_costs(block, scale)
    return (
        None if costs is None else max((c.memory for c in costs.values()), default=0.0)
    )


#: Seconds per chapter (by the cost model) a scale may take: full 2 hours, colab 10
#: minutes.
_BUDGETS = {"full": 2 * 3600.0, "colab": 10 * 60.0}


def choose_scale(profile: DeviceProfile) -> str:
    """The largest scale whose every chapter fits ``profile``'s memory and its time
    budget.

    Budgets (seconds per chapter, by the cost model): ``full`` 2 hours, ``colab`` 10
    minutes; otherwise ``quick``. Used by :func:`lawlib.scale.get_scale` on a GPU
    instead of "CUDA is there".
    """
    budgets = _BUDGETS
    for name in ("full", "colab"):
        if name not in SCALE_NAMES:
            continue
        sc = get_scale(name)
        fits = True
        for block in sc.presets:
            secs = chapter_seconds(block, sc, profile)
            mem = chapter_memory(block, sc)
            if secs is None:
                continue  # unknown: decided by the other chapters
            if secs > budgets[name] or (
                profile.memory_bytes is not None and mem > 0.8 * profile.memory_bytes
            ):
                fits = False
                break
        if fits:
            return name
    return "quick"


def format_seconds(t: float | None) -> str:
    """A duration for a reader: seconds below 90 s, minutes below 90 min, else hours
    ("unknown" for None)."""
    if t is None:
        return "unknown"
    if t < 90:
        return f"{t:.0f} s"
    if t < 5400:
        return f"{t / 60:.0f} min"
    return f"{t / 3600:.1f} h"


def _fmt_flops(f: float) -> str:
    for unit, v in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if f >= v:
            return f"{f / v:.1f} {unit}"
    return f"{f:.0f} "


def _fmt_bytes(b: float) -> str:
    for unit, v in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if b >= v:
            return f"{b / v:.1f} {unit}"
    return f"{b:.0f} B"


def plan(
    scale: Scale | str | None = None,
    device: torch.device | str | DeviceProfile | None = None,
    file=None,
) -> dict[str, float | None]:
    """Print, per chapter and experiment, the flops, the peak memory and the estimated
    time; return chapter totals.
    """
    prof = device if isinstance(device, DeviceProfile) else device_profile(device)
    if scale is None:
        scale = choose_scale(prof) if prof.kind != "cpu" else "quick"
    sc = scale if isinstance(scale, Scale) else get_scale(scale)
    out = file or sys.stdout
    print(
        f"scale {sc.name} on {prof.name}: {prof.flops_per_s / 1e9:.0f} GFLOP/s "
        "measured, efficiency "
        f"{prof.efficiency:.2f}, {prof.latency_s * 1e3:.1f} ms per step, "
        f"{prof.startup_s:.0f} s start-up per chapter",
        file=out,
    )
    print(
        f"{'chapter / experiment':62s} {'flops':>10s} {'memory':>9s} {'time':>8s}",
        file=out,
    )
    totals = {}
    for block in sc.presets:
        stem = CHAPTERS.get(block, block)
        costs = experiment_costs(block, sc)
        secs = chapter_seconds(block, sc, prof)
        totals[stem] = secs
        if costs is None:
            print(
                f"{stem + ' (' + block + ')':62s} {'unknown':>10s} {'unknown':>9s} "
                f"{'unknown':>8s}",
                file=out,
            )
            continue
        flops = sum(c.flops for c in costs.values())
        mem = max(c.memory for c in costs.values())
        print(
            f"{stem + ' (' + block + ')':62s} {_fmt_flops(flops) + 'flop':>10s} "
            f"{_fmt_bytes(mem):>9s} "
            f"{format_seconds(secs):>8s}",
            file=out,
        )
        for name, c in costs.items():
            print(
                f"    {name[:58]:58s} {_fmt_flops(c.flops) + 'flop':>10s} "
                f"{_fmt_bytes(c.memory):>9s} "
                f"{format_seconds(prof.seconds(c)):>8s}",
                file=out,
            )
    known = [t for t in totals.values() if t is not None]
    print(
        f"{'total (chapters with a cost model)':62s} {'':>10s} {'':>9s} "
        f"{format_seconds(sum(known)):>8s}",
        file=out,
    )
    missing = blocks_without_cost()
    if missing:
        print("no cost model yet for: " + ", ".join(missing), file=out)
    return totals


class _CallableModule(types.ModuleType):
    """``lawlib.plan(scale, device)`` calls :func:`plan`; ``lawlib.plan.COSTS`` etc.
    stay module attributes.
    """

    def __call__(
        self, scale: Scale | str | None = None, device=None, file=None
    ) -> dict[str, float | None]:
        return plan(scale, device, file)


sys.modules[__name__].__class__ = _CallableModule


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m lawlib.plan",
        description="Flops, memory and time per experiment.",
    )
    ap.add_argument(
        "--scale",
        choices=SCALE_NAMES,
        default=None,
        help="default: what setup() would choose here",
    )
    ap.add_argument(
        "--device",
        default=None,
        help="cpu, cuda, mps or t4 (a nominal Colab GPU); default: this device",
    )
    a = ap.parse_args(argv)
    plan(a.scale, a.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
