"""Execute one notebook top to bottom in a fresh kernel, as "Run all" does, and report
on it.

    python tools/run_notebook.py book/01_memorization_model.ipynb \\
        [--cwd DIR] [--timeout SECONDS]

Prints one JSON line: wall time, attempts, the set-up cell's output, and the
installed torch and numpy versions before and after the run (the Colab test
checks that installing lawlib left them alone). Each cell's start is logged to
stderr. A cell that times out (a kernel message lost, seen rarely with nbclient
even though the cell itself finished) is retried once from the top.

Used by tests/test_colab.py and benchmarks/run.py; needs only nbformat and nbclient.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError


def versions() -> dict[str, str]:
    return {name: md.version(name) for name in ("torch", "numpy")}


def run(path: Path, cwd: Path, timeout: int) -> dict:
    before = versions()
    start = time.perf_counter()

    def log(cell, cell_index):
        print(
            f"[{time.perf_counter() - start:7.1f} s] {path.name}: cell {cell_index}",
            file=sys.stderr,
            flush=True,
        )

    for attempt in (1, 2):
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            on_cell_start=log,
            resources={"metadata": {"path": str(cwd)}},
        )
        try:
            client.execute()
            break
        except CellTimeoutError:
            print(
                f"{path.name}: attempt {attempt} timed out; running it again",
                file=sys.stderr,
                flush=True,
            )
            if attempt == 2:
                raise
    setup = next(c for c in nb.cells if c.cell_type == "code")
    return {
        "notebook": path.stem,
        "seconds": round(time.perf_counter() - t0, 1),
        "attempts": attempt,
        "setup_output": "".join(o.get("text", "") for o in setup.outputs),
        "before": before,
        "after": versions(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument(
        "--cwd",
        type=Path,
        default=None,
        help="working directory of the kernel (default: the notebook's)",
    )
    parser.add_argument(
        "--timeout", type=int, default=600, help="seconds a single cell may take"
    )
    args = parser.parse_args()
    report = run(
        args.notebook.resolve(),
        (args.cwd or args.notebook.parent).resolve(),
        args.timeout,
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
