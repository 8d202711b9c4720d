"""The cost model against the clock (a measurement, not a test).

    .venv/bin/python benchmarks/cost_model.py measure [--scale quick] [chapter ...]
    .venv/bin/python benchmarks/cost_model.py compare [--scale quick]
    .venv/bin/python benchmarks/cost_model.py fit  # the CPU constants of lawlib.plan

``measure`` executes each chapter in a fresh kernel (tools/run_notebook.py, as the build
does) and records its wall time and the peak resident memory of the run, with the commit
and the machine, in ``benchmarks/results-cost-<scale>.json``
(rows are merged by chapter). ``compare`` prints, per chapter, the time
:mod:`lawlib.plan` predicts at the matrix-product rate measured around that chapter's
run (the machine is shared, so the rate a chapter got is what its time depends on) and
the measured time, and their ratio. ``fit`` chooses the CPU constants of
:data:`lawlib.plan.PROFILE_CONSTANTS` on a grid, minimizing the squared log-ratios
(in-sample: the same runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


_CHILD = """
import json, resource, subprocess, sys
out = subprocess.run(
    [sys.executable, sys.argv[1], sys.argv[2], "--timeout", sys.argv[3]],
    capture_output=True, text=True,
)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": out.returncode, "peak_rss_mb": round(ru.ru_maxrss / 1024),
                  "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
                  "stdout": out.stdout[-2000:], "stderr": out.stderr[-20000:]}))
"""


def measure_one(path: Path, scale: str, timeout: int = 1800) -> dict:
    """Run one chapter in its own process tree; wall time and the largest process's peak
    RSS.
    """
    env = dict(
        os.environ, LAWLIB_SCALE=scale, LAWLIB_PROGRESS="0", PYTHONPATH=str(ROOT)
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(ROOT / "tools" / "run_notebook.py"),
            str(path),
            str(timeout),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    wall = time.perf_counter() - t0
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    row = {
        "chapter": path.stem,
        "scale": scale,
        "ok": rep["rc"] == 0,
        "peak_rss_mb": rep["peak_rss_mb"],
        "wall_s": round(wall, 1),
        "cpu_s": rep["cpu_s"],
    }
    starts = [
        (int(m.group(2)), float(m.group(1)))
        for m in re.finditer(r"\[\s*([\d.]+) s\] \S+: cell (\d+)", rep["stderr"])
    ]
    row["cell_starts_s"] = (
        starts  # when each cell started (seconds): where the time went
    )
    if rep["rc"] == 0:
        row["seconds"] = json.loads(rep["stdout"].strip().splitlines()[-1])["seconds"]
    else:
        row["error"] = rep["stderr"][-1500:]
    return row


def results_path(scale: str) -> Path:
    return OUT / f"results-cost-{scale}.json"


def machine() -> dict:
    import torch

    from lawlib import hardware

    # measure again (cached=False): the share of the machine this process gets changes
    return {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average": os.getloadavg(),
        "matmul_gflops": round(
            hardware.matmul_throughput("cpu", cached=False) / 1e9, 1
        ),
    }


def measure(scale: str, names: list[str], timeout: int = 1800) -> None:
    paths = sorted((ROOT / "book").glob("*.ipynb"))
    if names:
        paths = [p for p in paths if any(p.stem.startswith(n) for n in names)]
    f = results_path(scale)
    data = json.loads(f.read_text()) if f.exists() else {"rows": {}}
    for p in paths:
        mach, at = machine(), commit()  # the commit the run starts from
        row = measure_one(p, scale, timeout)
        after = machine()
        mach["matmul_gflops_after"] = after["matmul_gflops"]
        row.update(
            commit=at,
            machine=mach,
            when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        )
        data["rows"][p.stem] = row
        f.write_text(json.dumps(data, indent=1) + "\n")
        print(
            f"{p.stem:32s} {row.get('seconds', float('nan')):8.1f} s  cpu "
            f"{row['cpu_s']:8.1f} s  peak {row['peak_rss_mb']:6d} MB  "
            f"{'ok' if row['ok'] else 'FAILED'}",
            flush=True,
        )


def _rate(row: dict) -> float:
    """The CPU rate the chapter got: the geometric mean of the probes before and after
    it (flop/s).
    """
    m = row["machine"]
    before, after = m["matmul_gflops"], m.get("matmul_gflops_after", m["matmul_gflops"])
    return (before * after) ** 0.5 * 1e9


def _work(stem: str, scale: str) -> tuple[float, float, float] | None:
    from lawlib import plan

    block = next((b for b, s in plan.CHAPTERS.items() if s == stem), None)
    costs = plan.experiment_costs(block, scale) if block else None
    if costs is None:
        return None
    kept = [
        c for name, c in costs.items() if (block, name) not in plan.OPTIONAL
    ]  # offline here: no MNIST
    return (
        sum(c.flops for c in kept),
        sum(c.elements for c in kept),
        sum(c.launches for c in kept),
    )


def compare(scale: str) -> None:
    from lawlib import plan

    f = results_path(scale)
    rows = json.loads(f.read_text())["rows"] if f.exists() else {}
    print(
        f"{'chapter':28s} {'GFLOP/s':>8s} {'predicted':>10s} {'measured':>10s} "
        f"{'ratio':>6s}"
    )
    ratios = []
    for stem, row in rows.items():
        if not row.get("ok"):
            print(f"{stem:28s} failed")
            continue
        rate = _rate(row)
        prof = plan._profile("cpu", "cpu", rate, None)
        block = next((b for b, s in plan.CHAPTERS.items() if s == stem), None)
        pred = (
            plan.chapter_seconds(block, scale, prof, include_optional=False)
            if block
            else None
        )
        if pred is None:
            print(f"{stem:28s} no cost model")
            continue
        ratios.append(row["seconds"] / pred)
        print(
            f"{stem:28s} {rate / 1e9:8.1f} {pred:9.1f}s {row['seconds']:9.1f}s "
            f"{ratios[-1]:6.2f}"
        )
    if ratios:
        print(f"measured / predicted: from {min(ratios):.2f} to {max(ratios):.2f}")


def fit(scale: str = "quick") -> None:
    """The CPU constants on a grid that minimize Σ log²(measured / predicted) over the
    measured chapters.
    """
    import itertools
    import math

    rows = json.loads(results_path(scale).read_text())["rows"]
    data = [
        (_rate(r), r["seconds"], _work(stem, scale))
        for stem, r in rows.items()
        if r.get("ok") and _work(stem, scale) is not None
    ]
    grid = itertools.product(
        (0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.7),
        (1 / 10, 1 / 20, 1 / 30, 1 / 60, 1 / 100, 1 / 175, 1 / 300),
        (1e7, 2e7, 5e7, 1e8, 2e8),
        (3e11, 5e11, 8e11),
    )
    best = None
    for eff, share, lat, start in grid:
        ratios = [
            w / (start / r + f / (r * eff) + e / (r * share) + n * lat / r)
            for r, w, (f, e, n) in data
        ]
        score = sum(math.log(q) ** 2 for q in ratios)
        if best is None or score < best[0]:
            best = (score, eff, share, lat, start, ratios)
    _, eff, share, lat, start, ratios = best
    print(
        f"efficiency={eff}, elements_share=1/{1 / share:.0f}, latency_flops={lat:.2g}, "
        f"startup_flops={start:.2g}"
    )
    print("measured / predicted per chapter:", [round(q, 2) for q in ratios])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("measure", "compare", "fit"))
    ap.add_argument("chapters", nargs="*")
    ap.add_argument("--scale", default="quick")
    ap.add_argument(
        "--timeout", type=int, default=1800, help="seconds a cell may run (measure)"
    )
    a = ap.parse_args(argv)
    if a.what == "measure":
        measure(a.scale, a.chapters, a.timeout)
    elif a.what == "compare":
        compare(a.scale)
    else:
        fit(a.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
