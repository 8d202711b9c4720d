"""The cost model against the clock (a measurement, not a test).

    .venv/bin/python benchmarks/cost_model.py measure [--scale quick] [chapter ...]
    .venv/bin/python benchmarks/cost_model.py compare [--scale quick]

``measure`` executes each chapter in a fresh kernel (tools/run_notebook.py, as
the build does) and records its wall time and the peak resident memory of the
run, with the commit and the machine, in
``benchmarks/results-cost-<scale>.json`` (rows are merged by chapter).
``compare`` prints, per chapter, the time :mod:`lawlib.plan` predicts on this
device and the measured time, and their ratio.
"""

from __future__ import annotations

import argparse
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


def commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=ROOT).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


_CHILD = """
import json, resource, subprocess, sys
out = subprocess.run([sys.executable, sys.argv[1], sys.argv[2], "--timeout", sys.argv[3]],
                     capture_output=True, text=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": out.returncode, "peak_rss_mb": round(ru.ru_maxrss / 1024),
                  "cpu_s": round(ru.ru_utime + ru.ru_stime, 1), "stdout": out.stdout[-2000:],
                  "stderr": out.stderr[-3000:]}))
"""


def measure_one(path: Path, scale: str, timeout: int = 14400) -> dict:
    """Run one chapter in its own process tree; wall time and the largest process's peak RSS."""
    env = dict(os.environ, LAWLIB_SCALE=scale, LAWLIB_PROGRESS="0", PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT / "tools" / "run_notebook.py"), str(path),
                          str(timeout)], capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    row = {"chapter": path.stem, "scale": scale, "ok": rep["rc"] == 0, "peak_rss_mb": rep["peak_rss_mb"],
           "wall_s": round(wall, 1), "cpu_s": rep["cpu_s"]}
    if rep["rc"] == 0:
        row["seconds"] = json.loads(rep["stdout"].strip().splitlines()[-1])["seconds"]
    else:
        row["error"] = rep["stderr"][-1500:]
    return row


def results_path(scale: str) -> Path:
    return OUT / f"results-cost-{scale}.json"


def machine() -> dict:
    import torch

    from lawlib.hardware import matmul_throughput

    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "torch": torch.__version__, "load_average": os.getloadavg(),
            "matmul_gflops": round(matmul_throughput("cpu") / 1e9, 1)}


def measure(scale: str, names: list[str]) -> None:
    paths = sorted((ROOT / "book").glob("*.ipynb"))
    if names:
        paths = [p for p in paths if any(p.stem.startswith(n) for n in names)]
    f = results_path(scale)
    data = json.loads(f.read_text()) if f.exists() else {"rows": {}}
    for p in paths:
        mach = machine()
        row = measure_one(p, scale)
        row.update(commit=commit(), machine=mach, when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
        data["rows"][p.stem] = row
        f.write_text(json.dumps(data, indent=1) + "\n")
        print(f"{p.stem:32s} {row.get('seconds', float('nan')):8.1f} s  cpu {row['cpu_s']:8.1f} s  peak {row['peak_rss_mb']:6d} MB  "
              f"{'ok' if row['ok'] else 'FAILED'}", flush=True)


def compare(scale: str) -> None:
    import torch

    from lawlib.plan import chapter_totals

    f = results_path(scale)
    rows = json.loads(f.read_text())["rows"] if f.exists() else {}
    totals = chapter_totals(scale, torch.device("cpu"))
    print(f"{'chapter':32s} {'predicted':>10s} {'measured':>10s} {'ratio':>7s}")
    for stem, pred in totals.items():
        row = rows.get(stem)
        meas = row.get("seconds") if row else None
        ratio = f"{meas / pred:7.2f}" if meas and pred else "      -"
        ms = f"{meas:9.1f}s" if meas else "         -"
        print(f"{stem:32s} {pred:9.1f}s {ms} {ratio}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("measure", "compare"))
    ap.add_argument("chapters", nargs="*")
    ap.add_argument("--scale", default="quick")
    a = ap.parse_args(argv)
    (measure if a.what == "measure" else lambda s, _n: compare(s))(a.scale, a.chapters)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
