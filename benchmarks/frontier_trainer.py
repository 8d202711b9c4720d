"""Benchmark: lawlib.frontier.train_penalized (one batched model) against training the same networks one at a
time with torch.optim.Adam and a double-backward penalty, on the quick grid of the chapter "Can training reach
the law?". Prints wall and CPU times and their ratio. Usage: python benchmarks/frontier_trainer.py [--steps N]
(the machine's load inflates wall times; CPU times are reported too)."""

from __future__ import annotations

import argparse
import time

import torch

import lawlib
from lawlib import frontier as fr


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
            z = fr.penalty_points(
                S.n_penalty, x, "gaussian", S.noise, points
            ).requires_grad_()
            (g,) = torch.autograd.grad(net(z).sum(), z, create_graph=True)
            loss = loss + lam * g.square().sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="Adam steps (default: the quick scale's)",
    )
    args = parser.parse_args()
    S = lawlib.get_scale("quick")["frontier"]
    steps = args.steps or S.steps
    n, d = S.n, S.d
    widths = sorted({int(a * n / d + b * n) for a, b in S.width_factors})
    grid = [(k, lam, s) for k in widths for lam in S.lams for s in S.seeds]
    x, y = lawlib.gaussian_sign_data(n, d, seed=0)
    t0, c0 = time.perf_counter(), time.process_time()
    res = fr.train_penalized(
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
    batched = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    for k, lam, s in grid:
        one_at_a_time(x, y, k, lam, s, S, steps)
    single = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{len(grid)} networks (n = {n}, d = {d}, widths {widths}, {steps} steps max, "
        f"{int(res.memorized.sum())} memorized, {torch.get_num_threads()} threads)"
    )
    print(f"batched:        wall {batched[0]:7.1f} s   cpu {batched[1]:7.1f} s")
    print(f"one at a time:  wall {single[0]:7.1f} s   cpu {single[1]:7.1f} s")
    print(
        f"ratio (one at a time / batched): wall {single[0] / batched[0]:.1f}x   cpu {single[1] / batched[1]:.1f}x"
    )


if __name__ == "__main__":
    main()
