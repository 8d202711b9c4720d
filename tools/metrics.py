"""Size metrics of the book's code, for issue reports and the README's size budget.

    python tools/metrics.py            # a Markdown report on standard output

Reports, per lawlib module, its lines and exported names (``__all__``), split
into the shared core (``lawlib/*.py``) and the chapter modules
(``lawlib/chapters/*.py``); per chapter, the median and 90th percentile of the
*visible* code-cell lengths (cells folded with ``hide-input``/``remove-input``
and the generated set-up cell are left out) and the widest code line; and the
longest public function of lawlib.
"""

from __future__ import annotations

import ast
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = {"hide-input", "remove-input", "remove-cell", "hide-cell"}


def module_rows() -> list[tuple[str, int, int]]:
    """(module path, non-blank lines, names in ``__all__``) for every lawlib module."""
    rows = []
    for path in sorted((ROOT / "lawlib").rglob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        exported = 0
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                exported = len(ast.literal_eval(node.value))
        lines = sum(1 for line in text.splitlines() if line.strip())
        rows.append((str(path.relative_to(ROOT)), lines, exported))
    return rows


def visible_cells(path: Path) -> list[list[str]]:
    """The visible code cells of one notebook (set-up cell and folded cells left
    out)."""
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    out = []
    for cell in cells[1:]:  # the first code cell is the generated set-up cell
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN:
            continue
        lines = [ln for ln in "".join(cell["source"]).splitlines() if ln.strip()]
        out.append(lines)
    return out


def percentile(values: list[int], q: float) -> float:
    """The q-quantile by linear interpolation (numpy's default), without numpy."""
    values = sorted(values)
    pos = (len(values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def longest_public_functions(k: int = 5) -> list[tuple[int, str]]:
    """The k longest public functions or methods of lawlib, in lines."""
    found = []
    for path in sorted((ROOT / "lawlib").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                length = node.end_lineno - node.lineno + 1
                found.append((length, f"{path.relative_to(ROOT)}:{node.name}"))
    return sorted(found, reverse=True)[:k]


def main() -> int:
    rows = module_rows()
    print("| module | lines | exported |\n|---|---|---|")
    for kind, test in (
        ("core", lambda p: "/chapters/" not in p),
        ("chapters", lambda p: "/chapters/" in p),
    ):
        part = [r for r in rows if test(r[0])]
        for name, lines, exported in part:
            print(f"| {name} | {lines} | {exported} |")
        if part:
            total = sum(r[1] for r in part), sum(r[2] for r in part)
            print(f"| **{kind} total** | {total[0]} | {total[1]} |")
    print("\n| chapter | visible code cells | median lines | 90th pct | widest line |")
    print("|---|---|---|---|---|")
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = visible_cells(path)
        lengths = [len(c) for c in cells] or [0]
        widest = max((len(ln) for c in cells for ln in c), default=0)
        print(
            f"| {path.stem} | {len(cells)} | {statistics.median(lengths):g} "
            f"| {percentile(lengths, 0.9):.0f} | {widest} |"
        )
    print("\nlongest public functions (lines):")
    for length, name in longest_public_functions():
        print(f"- {length}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
