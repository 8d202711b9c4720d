"""Benchmarks of the book (measurements, not tests). Run with the book's environment:

    .venv/bin/python benchmarks/run.py perf [--repeats 3] [--only sweep32,dist]
    .venv/bin/python benchmarks/run.py chapters
    .venv/bin/python benchmarks/run.py distances
    .venv/bin/python benchmarks/run.py constructions
    .venv/bin/python benchmarks/run.py batched
    .venv/bin/python benchmarks/run.py all

``perf``: the ratio to the flop-bound limit (below); ``chapters``: the wall time of
every chapter at $LAWLIB_SCALE (default quick); ``distances``: the chunked minimum
pairwise distance at n = 10^5, d = 100; ``constructions``: build and evaluate each
memorizer at n = 10^4, d = 100; ``batched``: 32 networks (n = 2000, d = 100,
k = 10..2000), batched against one at a time; ``all``: everything but ``perf``.

Results are printed as a table and written to benchmarks/results-<name>.json
(git-ignored).

``perf`` is the one that says how close lawlib is to this machine's limit. For each
workload it counts the useful floating-point operations from the shapes (the matrix
products the mathematics needs; see ``WORKLOADS``), measures the sustained rate of a
square matrix product (``lawlib.hardware.matmul_throughput``) right before and after
each timed run, and reports

    ratio = wall time / (useful flop / measured peak)     (1 = at the flop-bound limit)

with GFLOP/s, the peak memory beyond the input (VmHWM after resetting it through
/proc/self/clear_refs), and the median and range over interleaved repeats (each
repeat is a fresh child process that first runs a small warm-up). Because the peak
is measured in the same process, next to the workload, the ratio stays meaningful
on a loaded machine even when wall times do not. ``--lawlib DIR`` times another
checkout of the package (e.g. an older commit extracted with ``git archive``).
"""

from __future__ import annotations

import json
import os
import platform
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
    """Execute every chapter in a fresh kernel (as the build and nbval do) and time it
    (tools/run_notebook.py).
    """
    os.environ.setdefault("LAWLIB_SCALE", "quick")
    rows = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        out = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "run_notebook.py"), str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(
            {
                "chapter": path.stem,
                "scale": os.environ["LAWLIB_SCALE"],
                "seconds": report["seconds"],
            }
        )
        print(f"{path.stem:40s} {report['seconds']:7.1f} s", flush=True)
    return rows


_DIST_CHILD = """
import resource, sys, time, torch, lawlib
n, d = int(sys.argv[1]), int(sys.argv[2])
x = lawlib.sample_sphere(n, d, seed=0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); r = lawlib.min_pairwise_distance(x); dt = time.perf_counter() -
t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, r.value, r.i, r.j, peak / 1024, base / 1024)
"""


def bench_distances(n: int = 100_000, d: int = 100) -> list[dict]:
    """Minimum pairwise distance of n points in d dimensions on the CPU: time and peak
    resident memory.

    Run in a child process so that its peak memory (ru_maxrss) is its own.
    """
    out = subprocess.run(
        [sys.executable, "-c", _DIST_CHILD, str(n), str(d)],
        capture_output=True,
        text=True,
        check=True,
    )
    dt, value, i, j, peak_mb, base_mb = out.stdout.split()
    row = {
        "n": n,
        "d": d,
        "seconds": round(float(dt), 1),
        "min_distance": round(float(value), 4),
        "pair": [int(i), int(j)],
        "peak_rss_mb": round(float(peak_mb)),
        "rss_before_mb": round(float(base_mb)),
        "full_matrix_would_need_mb": round(n * n * 4 / 2**20),
    }
    print(
        f"min pairwise distance, n = {n}, d = {d}: {row['seconds']} s, value "
        f"{row['min_distance']}, "
        f"peak RSS {row['peak_rss_mb']} MB (a full float32 matrix: "
        f"{row['full_matrix_would_need_mb']} MB)"
    )
    return [row]


def bench_constructions(n: int = 10_000, d: int = 100, m: int = 10_000) -> list[dict]:
    """Construction time and evaluation time (at m fresh points) of every memorizer, on
    each device.
    """
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
            rows.append(
                {
                    "construction": name,
                    "device": device,
                    "n": n,
                    "d": d,
                    "build_s": round(t1 - t0, 2),
                    "eval_s_per_10k_points": round((t2 - t1) * 10_000 / m, 2),
                    "max_fit_error": err,
                }
            )
            print(
                f"{name:18s} {device:4s} build {t1 - t0:7.2f} s   evaluate {m} points "
                f"{t2 - t1:6.2f} s   "
                f"max |f(x_i) - y_i| = {err:.1e}",
                flush=True,
            )
    return rows


def bench_batched(n: int = 2000, d: int = 100, steps: int = 300) -> list[dict]:
    """A sweep of 32 two-layer networks (16 widths from 10 to 2000, two seeds each),
    trained to memorization (at most ``steps`` Adam steps) by lawlib.train_batched
    and one at a time by lawlib.train_until_memorized."""
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
            net = lawlib.two_layer_relu(
                d, k, batch_norm=True, generator=lawlib.make_generator(s)
            ).to(device)
            taken.append(lawlib.train_until_memorized(net, x, y, steps).steps)
        sync()
        t2 = time.perf_counter()
        same = int(
            (np.array(taken) == res.steps).sum()
        )  # float32 sums in another order may shift a stop by a step
        rows.append(
            {
                "device": device,
                "networks": len(widths),
                "n": n,
                "d": d,
                "memorized": int(res.memorized.sum()),
                "adam_steps": int(res.steps.sum()),
                "batched_s": round(t1 - t0, 2),
                "one_at_a_time_s": round(t2 - t1, 2),
                "speed_up": round((t2 - t1) / (t1 - t0), 2),
                "same_step_counts": f"{same}/{len(widths)}",
            }
        )
        print(
            f"{device:4s} batched {t1 - t0:7.2f} s   one at a time {t2 - t1:7.2f} s   "
            f"ratio {(t2 - t1) / (t1 - t0):5.2f}   "
            f"memorized {res.memorized.sum()}/{len(widths)}   same step counts: "
            f"{same}/{len(widths)}",
            flush=True,
        )
    return rows


# ----------------------------------------------------------------------------- perf:
# ratio to the flop-bound limit

SWEEP = dict(n=2000, d=100, steps=300)


def sweep_widths() -> list[int]:
    """The benchmark sweep: 16 widths from 10 to 2000 (geometric), two seeds each (32
    networks).
    """
    import numpy as np

    return [int(k) for k in np.round(np.geomspace(10, 2000, 16))] * 2


def sweep_flop(widths, steps, n: int, d: int) -> float:
    """Useful flop of a training sweep: per Adam step of a width-k network the first
    layer's forward
    product x Wᵀ (2nkd) and its weight gradient Gᵀ x (2nkd); plus one more forward
    per network, the check that stops it (or records it after the last step). The
    output layer (O(nk)) and the element-wise work are left out: they are
    memory-bound, and the limit is the matrix products."""
    return float(sum(2.0 * n * d * k * (2 * s + 1) for k, s in zip(widths, steps)))


def pair_flop(n: int, d: int) -> float:
    """Useful flop of an extreme over the n(n−1)/2 pairs i < j: one d-term inner product
    (2d flop) each.
    """
    return n * (n - 1) / 2 * 2.0 * d


def _status(key: str) -> float:
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return float(line.split()[1]) / 1024  # MiB
    return float("nan")


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current resident size (Linux ≥ 4.0)
        return True
    except OSError:
        return False


def _trim() -> None:
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def _child(workload: str) -> dict:
    """Run one timed repeat of ``workload`` in this (fresh) process; return its row."""
    import torch

    import lawlib
    from lawlib import hardware

    dtype = torch.float64 if workload.endswith("64") else torch.float32
    if os.environ.get("LAWLIB_BENCH_THREADS"):
        # one thread: on a shared machine an OpenMP team whose other thread is
        # descheduled spins at a
        # barrier, so CPU time (and wall time) measure the neighbours; one thread
        # measures the code
        torch.set_num_threads(int(os.environ["LAWLIB_BENCH_THREADS"]))

    def peak() -> float:
        return hardware.matmul_throughput("cpu", dtype, cached=False)

    def cpu_peak(size: int = 1024, seconds: float = 0.6) -> float:
        """Flop per CPU-second (all threads) of square products: unlike wall time, this
        does not
        depend on how many other processes share the cores."""
        a = torch.randn(size, size, dtype=dtype)
        b = torch.randn(size, size, dtype=dtype)
        c = torch.mm(a, b)
        reps, t_wall, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t_wall < seconds:
            torch.mm(a, b, out=c)
            reps += 1
        return reps * 2.0 * size**3 / max(time.process_time() - c0, 1e-9)

    if workload.startswith("sweep"):
        n, d, steps = SWEEP["n"], SWEEP["d"], SWEEP["steps"]
        widths = sweep_widths()
        seeds = list(range(len(widths)))
        x, y = lawlib.gaussian_sign_data(n, d, seed=0, dtype=dtype)
        if workload.startswith("sweep_alone"):

            def run():
                taken = []
                for k, s in zip(widths, seeds):
                    net = lawlib.two_layer_relu(
                        d, k, batch_norm=True, generator=lawlib.make_generator(s)
                    ).to(dtype)
                    taken.append(lawlib.train_until_memorized(net, x, y, steps).steps)
                return {"steps": taken}

            warm = lambda: lawlib.train_until_memorized(  # noqa: E731
                lawlib.two_layer_relu(d, 20, batch_norm=True).to(dtype), x, y, 3
            )
        else:

            def run():
                res = lawlib.train_batched(
                    x, y, widths, seeds, steps=steps, progress=False
                )
                return {
                    "steps": res.steps.tolist(),
                    "memorized": int(res.memorized.sum()),
                }

            def warm():
                return lawlib.train_batched(
                    x, y, [10, 200], [0, 1], steps=3, progress=False
                )

        shape = {"networks": len(widths), "n": n, "d": d, "max_steps": steps}
        flop_of = lambda out: sweep_flop(widths, out["steps"], n, d)  # noqa: E731
    elif workload.startswith(("dist", "inner")):
        n, d = 100_000, 100
        x = lawlib.sample_sphere(n, d, seed=0).to(dtype)
        fn = (
            lawlib.min_pairwise_distance
            if workload.startswith("dist")
            else lawlib.max_inner_product
        )

        def run():
            r = fn(x)
            return {"value": r.value, "pair": [r.i, r.j]}

        warm = lambda: fn(x[:3000])  # noqa: E731
        shape = {"n": n, "d": d}
        flop_of = lambda out: pair_flop(n, d)  # noqa: E731
    else:
        raise SystemExit(f"unknown workload {workload}")

    warm()
    _trim()
    p0 = peak()
    q0 = cpu_peak()
    _trim()
    rss0 = _status("VmRSS")
    exact_peak = _reset_peak_rss()
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        out = run()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    hwm = _status("VmHWM") if exact_peak else float("nan")
    p1 = peak()
    q1 = cpu_peak()
    cpu_rate = (q0 + q1) / 2
    flop = flop_of(out)
    rate = (p0 + p1) / 2
    row = {
        "workload": workload,
        "threads": torch.get_num_threads(),
        "dtype": str(dtype).replace("torch.", ""),
        **shape,
        "seconds": dt,
        "gflop": flop / 1e9,
        "gflops": flop / dt / 1e9,
        "peak_gflops": rate / 1e9,
        "peak_before_after": [p0 / 1e9, p1 / 1e9],
        "limit_s": flop / rate,
        "ratio": dt / (flop / rate),
        "cpu_seconds": cpu,
        "cpu_peak_gflop_per_cpu_s": cpu_rate / 1e9,
        "cpu_ratio": cpu
        / (
            flop / cpu_rate
        ),  # CPU time over the CPU time the flop need at the probe's rate
        "extra_memory_mb": hwm - rss0,
        "rss_before_mb": rss0,
        **out,
    }
    if "steps" in row:
        row["adam_steps"] = int(sum(row.pop("steps")))
    return row


def _import_time(env: dict) -> float:
    code = (
        "import time; t = time.perf_counter(); import lawlib; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
    )  # not cwd: python -c puts it first on sys.path
    return float(out.stdout.split()[-1])


def _heavy_modules(env: dict) -> list[str]:
    code = (
        "import sys, lawlib; print(' '.join(m for m in ('scipy', 'scipy.stats', "
        "'sklearn', 'matplotlib', "
        "'matplotlib.pyplot', 'pandas', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
    )  # not cwd: python -c puts it first on sys.path
    return out.stdout.split()


def _git(*args: str, cwd: Path) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def perf_machine() -> dict:
    import numpy
    import torch

    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    caches = {}
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for idx in sorted(base.glob("index*")):
        try:
            caches[
                f"L{(idx / 'level').read_text().strip()} "
                f"{(idx / 'type').read_text().strip()}"
            ] = (idx / "size").read_text().strip()
        except OSError:
            pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "caches": caches,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "blas": "MKL" if torch.backends.mkl.is_available() else "other",
        "gpu": gpu or "none: no GPU was available to this run, CPU only",
    }


WORKLOADS = {
    "sweep32": "train_batched, 32 networks, n=2000, d=100, widths 10..2000, <=300 "
    "steps, float32",
    "sweep64": "the same sweep in float64",
    "dist": "min_pairwise_distance, n=1e5, d=100, float32",
    "inner": "max_inner_product, n=1e5, d=100, float32",
    "sweep_alone32": "the sweep one network at a time (train_until_memorized), "
    "float32 (not in the default set)",
}
DEFAULT = ["sweep32", "sweep64", "dist", "inner"]


def bench_perf(argv: list[str] | None = None) -> dict:
    import argparse
    import statistics

    ap = argparse.ArgumentParser(prog="run.py perf")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--only",
        default=",".join(DEFAULT),
        help="comma-separated workloads: " + ", ".join(WORKLOADS),
    )
    ap.add_argument(
        "--lawlib",
        default=str(ROOT),
        help="the checkout(s) whose lawlib is timed, comma-separated (interleaved in "
        "every round)",
    )
    ap.add_argument(
        "--labels",
        default="",
        help="a label per --lawlib checkout (default: the paths)",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads in the timed runs (0: torch's default)",
    )
    ap.add_argument(
        "--imports", type=int, default=5, help="how many `import lawlib` timings"
    )
    ap.add_argument("--out", default=str(OUT / "results-perf.json"))
    args = ap.parse_args(argv or [])
    srcs = [Path(p).resolve() for p in args.lawlib.split(",")]
    labels = args.labels.split(",") if args.labels else [str(p) for p in srcs]
    envs = [
        dict(
            os.environ,
            PYTHONPATH=str(p),
            LAWLIB_PROGRESS="0",
            **({"LAWLIB_BENCH_THREADS": str(args.threads)} if args.threads else {}),
        )
        for p in srcs
    ]
    src = srcs[-1]
    names = [w for w in args.only.split(",") if w]
    for w in names:
        if w not in WORKLOADS:
            raise SystemExit(
                f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}"
            )
    info = perf_machine()
    print(
        f"machine: {info['cpu']}, {info['cpus']} cores, torch {info['torch']} "
        f"({info['blas']}), "
        f"GPU: {info['gpu']}",
        flush=True,
    )
    for p, lab in zip(srcs, labels):
        print(
            f"{lab}: lawlib from {p} (commit "
            f"{_git('rev-parse', '--short', 'HEAD', cwd=p) or 'unknown'})",
            flush=True,
        )
    rows: list[dict] = []
    imports: list[float] = []
    for r in range(
        args.repeats
    ):  # interleaved: every workload once per round, so load drifts hit all alike
        for w in names:
            for e, lab in zip(envs, labels):
                out = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--child", w],
                    env=e,
                    capture_output=True,
                    text=True,
                )
                if out.returncode != 0:
                    raise SystemExit(f"{w} failed:\n{out.stderr[-3000:]}")
                row = json.loads(out.stdout.strip().splitlines()[-1])
                row["repeat"], row["label"] = r, lab
                rows.append(row)
                print(
                    f"  round {r}: {lab:7s} {w:8s} {row['seconds']:7.2f} s  "
                    f"{row['gflops']:6.1f} GFLOP/s  "
                    f"peak {row['peak_gflops']:5.1f}  ratio {row['ratio']:5.2f}  "
                    "CPU-time ratio "
                    f"{row['cpu_ratio']:5.2f}  +{row['extra_memory_mb']:.0f} MB",
                    flush=True,
                )
                Path(args.out).write_text(
                    json.dumps(
                        {"machine": info, "labels": labels, "rows": rows}, indent=1
                    )
                )
        if args.imports:
            for _ in range(max(1, args.imports // max(args.repeats, 1))):
                for e, lab in zip(envs, labels):
                    imports.append((lab, _import_time(e)))
    summary: dict = {}
    print(
        "\nworkload         useful GFLOP  time s (range)        GFLOP/s (range)    "
        "ratio (range)      "
        "CPU-time ratio (range)  +memory MB"
    )
    for lab in labels:
        for w in names:
            sel = [row for row in rows if row["workload"] == w and row["label"] == lab]
            s = summary.setdefault(lab, {})[w] = {
                "what": WORKLOADS[w],
                "repeats": len(sel),
                "gflop": sel[0]["gflop"],
            }
            for key in (
                "seconds",
                "gflops",
                "peak_gflops",
                "ratio",
                "cpu_ratio",
                "extra_memory_mb",
                "limit_s",
            ):
                vals = [row[key] for row in sel]
                s[key] = {
                    "median": statistics.median(vals),
                    "min": min(vals),
                    "max": max(vals),
                }

            def m(k, f, s=s):
                return f"{s[k]['median']:{f}} ({s[k]['min']:{f}}–{s[k]['max']:{f}})"

            print(
                f"{lab[:7]:7s} {w:8s} {s['gflop']:12.0f}  {m('seconds', '6.1f'):21s} "
                f"{m('gflops', '5.1f'):18s} "
                f"{m('ratio', '4.2f'):18s} {m('cpu_ratio', '4.2f'):23s} "
                f"{s['extra_memory_mb']['median']:6.0f}"
            )
    for e, lab in zip(envs, labels):
        vals = [t for la, t in imports if la == lab]
        if vals:
            i = summary.setdefault(lab, {})["import_lawlib_s"] = {
                "median": statistics.median(vals),
                "min": min(vals),
                "max": max(vals),
                "runs": len(vals),
            }
            heavy = summary[lab]["loaded_by_import"] = _heavy_modules(e)
            print(
                f"{lab}: import lawlib {i['median']:.2f} s "
                f"({i['min']:.2f}–{i['max']:.2f}, {i['runs']} runs); "
                f"heavy modules it loads: {', '.join(heavy) or 'none'}"
            )
    print(f"GPU: {info['gpu']}")
    result = {
        "commit": _git("rev-parse", "HEAD", cwd=src),
        "dirty": bool(_git("status", "--porcelain", "lawlib", cwd=src)),
        "lawlib": [str(p) for p in srcs],
        "labels": labels,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": info,
        "summary": summary,
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"written to {args.out}")
    return result


BENCHES = {
    "chapters": bench_chapters,
    "distances": bench_distances,
    "constructions": bench_constructions,
    "batched": bench_batched,
}


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "--child":
        print(json.dumps(_child(argv[2])))
        return 0
    if len(argv) >= 2 and argv[1] == "perf":
        bench_perf(argv[2:])
        return 0
    names = argv[1:] or ["all"]
    if names == ["all"]:
        names = list(BENCHES)
    for name in names:
        if name not in BENCHES:
            print(__doc__)
            return 2
        rows = BENCHES[name]()
        (OUT / f"results-{name}.json").write_text(
            json.dumps({"machine": machine(), "rows": rows}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
