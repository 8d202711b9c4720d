"""Benchmarks of the book (measurements, not tests). Run with the book's environment:

    .venv/bin/python benchmarks/run.py chapters          # wall time of every chapter at $LAWLIB_SCALE (default quick)
    .venv/bin/python benchmarks/run.py distances         # chunked min pairwise distance, n = 10^5, d = 100
    .venv/bin/python benchmarks/run.py constructions     # build + evaluate each memorizer, n = 10^4, d = 100
    .venv/bin/python benchmarks/run.py batched           # 32 networks (n = 2000, d = 100, k = 10..2000): batched vs one at a time
    .venv/bin/python benchmarks/run.py all

Results are printed as a table and written to benchmarks/results-<name>.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent


def machine() -> dict:
    import torch

    return {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def bench_chapters() -> list[dict]:
    """Execute every chapter in a fresh kernel (as the build and nbval do) and time it (tools/run_notebook.py)."""
    os.environ.setdefault("LAWLIB_SCALE", "quick")
    rows = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "run_notebook.py"), str(path)],
                             capture_output=True, text=True, check=True)
        report = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"chapter": path.stem, "scale": os.environ["LAWLIB_SCALE"], "seconds": report["seconds"]})
        print(f"{path.stem:40s} {report['seconds']:7.1f} s", flush=True)
    return rows


_DIST_CHILD = """
import resource, sys, time, torch, lawlib
n, d = int(sys.argv[1]), int(sys.argv[2])
x = lawlib.sample_sphere(n, d, seed=0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); r = lawlib.min_pairwise_distance(x); dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, r.value, r.i, r.j, peak / 1024, base / 1024)
"""


def bench_distances(n: int = 100_000, d: int = 100) -> list[dict]:
    """Minimum pairwise distance of n points in d dimensions on the CPU: time and peak resident memory.

    Run in a child process so that its peak memory (ru_maxrss) is its own.
    """
    out = subprocess.run([sys.executable, "-c", _DIST_CHILD, str(n), str(d)], capture_output=True, text=True, check=True)
    dt, value, i, j, peak_mb, base_mb = out.stdout.split()
    row = {
        "n": n, "d": d, "seconds": round(float(dt), 1), "min_distance": round(float(value), 4), "pair": [int(i), int(j)],
        "peak_rss_mb": round(float(peak_mb)), "rss_before_mb": round(float(base_mb)),
        "full_matrix_would_need_mb": round(n * n * 4 / 2**20),
    }
    print(f"min pairwise distance, n = {n}, d = {d}: {row['seconds']} s, value {row['min_distance']}, "
          f"peak RSS {row['peak_rss_mb']} MB (a full float32 matrix: {row['full_matrix_would_need_mb']} MB)")
    return [row]


def bench_constructions(n: int = 10_000, d: int = 100, m: int = 10_000) -> list[dict]:
    """Construction time and evaluation time (at m fresh points) of every memorizer, on each device."""
    import torch

    import lawlib

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    builders = {
        "McShane": lambda x, y: lawlib.McShaneExtension(x, y),
        "RBF": lambda x, y: lawlib.RBFMemorizer(x, y),
        "neuron-per-point": lambda x, y: lawlib.NeuronPerPoint(x, y),
        "Baum": lambda x, y: lawlib.baum_network(x, y),
    }
    rows = []
    for device in devices:
        x = lawlib.sample_sphere(n, d, seed=0, device=device)
        y = lawlib.random_signs(n, seed=1, device=device)
        z = lawlib.sample_sphere(m, d, seed=2, device=device)
        for name, build in builders.items():
            sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
            t0 = time.perf_counter()
            f = build(x, y)
            sync()
            t1 = time.perf_counter()
            with torch.no_grad():
                f(z)
            sync()
            t2 = time.perf_counter()
            with torch.no_grad():
                err = float((f(x).to(y.dtype) - y).abs().max())
            rows.append({"construction": name, "device": device, "n": n, "d": d, "build_s": round(t1 - t0, 2),
                         "eval_s_per_10k_points": round((t2 - t1) * 10_000 / m, 2), "max_fit_error": err})
            print(f"{name:18s} {device:4s} build {t1 - t0:7.2f} s   evaluate {m} points {t2 - t1:6.2f} s   "
                  f"max |f(x_i) - y_i| = {err:.1e}", flush=True)
    return rows


def bench_batched(n: int = 2000, d: int = 100, steps: int = 300) -> list[dict]:
    """A sweep of 32 two-layer networks (16 widths from 10 to 2000, two seeds each), trained to memorization
    (at most ``steps`` Adam steps) by lawlib.train_batched and one at a time by lawlib.train_until_memorized."""
    import numpy as np
    import torch

    import lawlib

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    widths = [int(k) for k in np.round(np.geomspace(10, 2000, 16))] * 2
    seeds = list(range(len(widths)))
    rows = []
    for device in devices:
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        x, y = lawlib.gaussian_sign_data(n, d, seed=0, device=device)
        t0 = time.perf_counter()
        res = lawlib.train_batched(x, y, widths, seeds, steps=steps, progress=False)
        sync()
        t1 = time.perf_counter()
        taken = []
        for k, s in zip(widths, seeds):
            net = lawlib.two_layer_relu(d, k, batch_norm=True, generator=lawlib.make_generator(s)).to(device)
            taken.append(lawlib.train_until_memorized(net, x, y, steps).steps)
        sync()
        t2 = time.perf_counter()
        same = int((np.array(taken) == res.steps).sum())  # float32 sums in another order may shift a stop by a step
        rows.append({"device": device, "networks": len(widths), "n": n, "d": d, "memorized": int(res.memorized.sum()),
                     "adam_steps": int(res.steps.sum()), "batched_s": round(t1 - t0, 2),
                     "one_at_a_time_s": round(t2 - t1, 2), "speed_up": round((t2 - t1) / (t1 - t0), 2),
                     "same_step_counts": f"{same}/{len(widths)}"})
        print(f"{device:4s} batched {t1 - t0:7.2f} s   one at a time {t2 - t1:7.2f} s   ratio {(t2 - t1) / (t1 - t0):5.2f}   "
              f"memorized {res.memorized.sum()}/{len(widths)}   same step counts: {same}/{len(widths)}", flush=True)
    return rows


BENCHES = {"chapters": bench_chapters, "distances": bench_distances, "constructions": bench_constructions,
           "batched": bench_batched}


def main(argv: list[str]) -> int:
    names = argv[1:] or ["all"]
    if names == ["all"]:
        names = list(BENCHES)
    for name in names:
        if name not in BENCHES:
            print(__doc__)
            return 2
        rows = BENCHES[name]()
        (OUT / f"results-{name}.json").write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
