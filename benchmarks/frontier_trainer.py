"""Benchmark: the penalized sweep of the chapter "Can training reach the law?" against
this machine's matrix-multiply limit.

Trains the chapter's grid (every width × λ × seed, ``frontier.train_penalized``)
and counts its useful flops from the shapes and the steps each network took: per Adam
step 2knd for the forward pass and 2knd for ∂W, one more forward for the stopping check,
and for a penalized network 6kTd (the activation pattern at the T penalty points, the
input gradients G, and H_ℓ = Σ_t m_ℓt G_t, which gives both ∂a and ∂W of the penalty).
The flop-bound limit is that count divided by the float32 matrix-multiply rate measured
in the same run (``lawlib.hardware.matmul_throughput``, before each repeat); the ratio
time/limit is the figure of merit (1 = the machine's pace). Median and range over the
repeats, for each thread count, with the load average. ``--reference`` also times one
network at a time (torch.optim.Adam, double-backward penalty).

Usage: python benchmarks/frontier_trainer.py [--scale quick] [--repeats 3]
[--threads 2,1] [--steps N] [--reference]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import lawlib
from lawlib.chapters import frontier as fr
from lawlib.hardware import matmul_throughput


def one_at_a_time(x, y, k, lam, seed, S, steps):
    net = lawlib.two_layer_relu(x.shape[1], k, generator=lawlib.make_generator(seed))
    opt = torch.optim.Adam(net.parameters(), lr=S.lr)
    points = lawlib.make_generator(1)
    for _ in range(steps):
        with torch.no_grad():
            if bool(lawlib.memorizes(net(x), y, S.eps)):
                break
        loss = (net(x) - y).square().mean()
        if lam > 0:
            z = fr.penalty_points(S.n_penalty, x, "gaussian", S.noise, points)
            z.requires_grad_()
            (g,) = torch.autograd.grad(net(z).sum(), z, create_graph=True)
            loss = loss + lam * g.square().sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def useful_flops(res, n: int, d: int, n_penalty: int) -> float:
    """The matrix-product flops the sweep cannot avoid (see the module docstring)."""
    total = 0.0
    for k, lam, s in zip(res.widths, res.lams, res.steps):
        total += (2 * s + 1) * 2.0 * k * n * d  # forward (+ the stopping check), ∂W
        if lam > 0:
            total += s * 6.0 * k * n_penalty * d
    return total


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} [{min(values):.2f}, {max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="quick", help="lawlib scale preset")
    parser.add_argument("--steps", type=int, default=None, help="Adam steps at most")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", default="2,1", help="thread counts to measure")
    parser.add_argument("--reference", action="store_true", help="time one at a time")
    args = parser.parse_args()
    S = lawlib.get_scale(args.scale)["frontier"]
    steps = args.steps or S.steps
    n, d = S.n, S.d
    widths = sorted({int(a * n / d + b * n) for a, b in S.width_factors})
    grid = [(k, lam, s) for k in widths for lam in S.lams for s in S.seeds]
    x, y = lawlib.gaussian_sign_data(n, d, seed=0)
    print(
        f"lawlib from {os.path.dirname(lawlib.__file__)}; {len(grid)} networks "
        f"(n = {n}, d = {d}, widths {widths}, λ {list(S.lams)}, T = {S.n_penalty}, "
        f"{steps} steps at most)"
    )

    def sweep():
        return fr.train_penalized(
            x,
            y,
            *zip(*grid),
            n_penalty=S.n_penalty,
            noise=S.noise,
            point_seed=1,
            steps=steps,
            lr=S.lr,
            eps=S.eps,
            progress=False,
        )

    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        sweep()  # warm-up
        walls, rates, ratios, peaks, loads = [], [], [], [], []
        for _ in range(args.repeats):
            peak = matmul_throughput(dtype=torch.float32, cached=False)
            loads.append(os.getloadavg()[0])
            t0 = time.perf_counter()
            res = sweep()
            wall = time.perf_counter() - t0
            flops = useful_flops(res, n, d, S.n_penalty)
            walls.append(wall)
            peaks.append(peak / 1e9)
            rates.append(flops / wall / 1e9)
            ratios.append(wall / (flops / peak))
        print(
            f"{threads} thread(s): {int(res.memorized.sum())}/{len(grid)} memorized, "
            f"{flops / 1e9:.1f} GFLOP useful, load {summary(loads)}\n"
            f"  wall (s)              {summary(walls)}\n"
            f"  useful GFLOP/s        {summary(rates)}\n"
            f"  matmul peak GFLOP/s   {summary(peaks)}\n"
            f"  time / flop limit     {summary(ratios)}"
        )
        if args.reference:
            t0 = time.perf_counter()
            for k, lam, s in grid:
                one_at_a_time(x, y, k, lam, s, S, steps)
            single = time.perf_counter() - t0
            print(f"  one at a time (s)     {single:7.2f} ({single / wall:.1f}x)")


if __name__ == "__main__":
    main()
