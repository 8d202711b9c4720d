"""Regenerate every figure of the book as PDF and PNG, for slides.

    python tools/figures.py [--scale quick|full] [--out DIR] [NOTEBOOK ...]
    (./book.sh figures)

Executes each chapter of the table of contents (or the notebooks named) top to
bottom in a fresh kernel, like tools/run_notebook.py, with one extra first cell
that is never saved into the notebook: it wraps matplotlib's ``show`` so that
every figure the chapter shows, widget frames included, is also written to
``DIR/<chapter>-figNN.pdf`` (vector) and ``.png`` (200 dpi), numbered in the
order the reader meets them. Figures keep the book's style (white background,
large labels). ``--scale`` sets ``LAWLIB_SCALE`` for the run; without it the
scale is lawlib's default (``quick`` on a CPU, ``full`` on a GPU). ``DIR``
defaults to ``figures/`` (ignored by git). A chapter's old figures are removed
before it runs, so the folder always matches the chapters.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import run_notebook  # noqa: E402

DPI = 200

# The injected first cell. It saves each open figure once, just before matplotlib
# shows it: through plt.show() and through the inline backend's end-of-cell flush.
HOOK = """\
import functools as _functools
import matplotlib.pyplot as _plt
import matplotlib_inline.backend_inline as _inline
from pathlib import Path as _Path
import weakref as _weakref

_SAVE_TO, _STEM, _DPI = _Path({out!r}), {stem!r}, {dpi!r}
_saved = _weakref.WeakSet()
_count = [0]


def _save_open_figures():
    for _num in _plt.get_fignums():
        _fig = _plt.figure(_num)
        if _fig in _saved or not _fig.get_axes():
            continue
        _saved.add(_fig)
        _count[0] += 1
        _name = _SAVE_TO / f"{{_STEM}}-fig{{_count[0]:02d}}"
        _fig.savefig(_name.with_suffix(".pdf"))
        _fig.savefig(_name.with_suffix(".png"), dpi=_DPI)


def _saving(show):
    # wraps: keeps the attributes the inline backend keeps on its show (_draw_called,
    # _to_draw)
    @_functools.wraps(show)
    def wrapped(*args, **kwargs):
        _save_open_figures()
        return show(*args, **kwargs)
    return wrapped


_plt.show = _saving(_plt.show)
_inline.show = _saving(_inline.show)
"""


def toc_chapters() -> list[Path]:
    """The chapters (notebooks) of ``_toc.yml``, in reading order."""
    toc = (ROOT / "_toc.yml").read_text()
    names = re.findall(r"file:\s*(\S+)", toc)
    return [ROOT / f"{n}.ipynb" for n in names if (ROOT / f"{n}.ipynb").exists()]


def figures_of(out: Path, stem: str) -> list[Path]:
    return sorted(p for p in out.glob(f"{stem}-fig*") if p.suffix in (".pdf", ".png"))


def run_chapter(path: Path, out: Path, timeout: int = 900) -> list[Path]:
    """Execute one chapter with the saving hook; return the files written."""
    for old in figures_of(out, path.stem):
        old.unlink()
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(
        0, nbformat.v4.new_code_cell(HOOK.format(out=str(out), stem=path.stem, dpi=DPI))
    )
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        nbformat.write(nb, copy)
        run_notebook.run(
            copy, path.parent, timeout
        )  # the kernel works in book/, as in the site build
    return figures_of(out, path.stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="chapters to run (default: every chapter in _toc.yml)",
    )
    parser.add_argument(
        "--scale",
        choices=("quick", "full"),
        help="LAWLIB_SCALE for the run (default: lawlib's)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "figures",
        help="output folder (default: figures/)",
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds a single cell may take"
    )
    args = parser.parse_args(argv)
    if args.scale:
        os.environ["LAWLIB_SCALE"] = args.scale  # the kernels inherit it
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    chapters = [p.resolve() for p in args.notebooks] or toc_chapters()
    failed = []
    for path in chapters:
        start = time.perf_counter()
        try:
            files = run_chapter(path, out, args.timeout)
        except Exception as exc:  # report every chapter, then fail
            failed.append(path.name)
            print(
                f"{path.name}: FAILED ({type(exc).__name__}: {str(exc)[-2000:]})",
                file=sys.stderr,
                flush=True,
            )
            continue
        n = sum(1 for f in files if f.suffix == ".png")
        print(
            f"{path.name}: {n} figure(s) in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        if n == 0:
            failed.append(path.name)
            print(f"{path.name}: no figure was shown", file=sys.stderr, flush=True)
    print(f"==> figures in {out} (scale {os.environ.get('LAWLIB_SCALE') or 'default'})")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
