"""Build the student edition of the site: every exercise, no solution.

    python tools/student.py [--out DIR]  # default DIR: _build/student/html
                                         # (./book.sh student)

The same book as ``./book.sh build`` with sphinx-exercise's ``hide_solutions``
on, so every ``{solution}`` block is left out of the pages and of the search
index; the sources the download buttons serve (``_sources/``) lose their
solution blocks too; and a banner on every page says which edition it is. (The
Colab buttons still open the chapters of the public repository, solutions
included.)

Executing the chapters is most of the cost of a build, so this one reuses the
executed notebooks of the last ``./book.sh build`` (``_build/jupyter_execute``):
they seed a Jupyter cache kept next to the output (``DIR/../.jupyter_cache``), and
the build runs in ``cache`` mode. A chapter whose code changed since that build
(or that it lacks) is executed here, at the scale in ``LAWLIB_SCALE``. After
``./book.sh build`` the student edition therefore shows the same outputs as the
full site and costs only Sphinx's reading and writing (about a minute).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = (
    ROOT / "_build" / "jupyter_execute"
)  # where ./book.sh build leaves the executed chapters
BANNER = "Student edition: the exercises are here, their solutions are not."


def seed_cache(cache_dir: Path, executed: Path = EXECUTED) -> list[str]:
    """Put every executed notebook of the last full build (without errors) into the
    Jupyter cache.

    The cache matches a chapter by the hash of its code cells, so an executed
    notebook is used only for a chapter whose code is unchanged. Returns the
    notebooks added.
    """
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    added = []
    for nb_path in sorted(executed.rglob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        if any(
            o.get("output_type") == "error"
            for c in nb["cells"]
            for o in c.get("outputs", [])
        ):
            continue
        source = ROOT / nb_path.relative_to(executed)
        cache.cache_notebook_file(
            str(nb_path), uri=str(source), check_validity=False, overwrite=True
        )
        added.append(str(nb_path.relative_to(executed)))
    return added


# A MyST solution block: an opening fence of backticks or colons, then everything up to
# the same fence.
SOLUTION = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$\n?", flags=re.M | re.S
)


def strip_solutions(text: str) -> str:
    """``text`` (MyST Markdown) without its ``{solution}`` blocks."""
    return SOLUTION.sub("", text)


def strip_sources(html_dir: Path) -> list[str]:
    """Remove the solutions from the sources the site serves
    (the download buttons' notebooks and pages).
    """
    changed = []
    for path in sorted((html_dir / "_sources").rglob("*")):
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text())
            for cell in nb["cells"]:
                if cell["cell_type"] == "markdown":
                    text = "".join(cell["source"])
                    if SOLUTION.search(text):
                        parts = strip_solutions(text).split("\n")
                        cell["source"] = [p + "\n" for p in parts[:-1]] + (
                            [parts[-1]] if parts[-1] else []
                        )
            new = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        elif path.suffix in (".md", ".txt"):
            new = strip_solutions(path.read_text())
        else:
            continue
        if new != path.read_text():
            path.write_text(new)
            changed.append(str(path.relative_to(html_dir)))
    return changed


def overrides(cache_dir: Path) -> dict:
    """The Sphinx settings that turn the book's _config.yml into the student edition."""
    return {
        "external_toc_path": (ROOT / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        "hide_solutions": True,
        "nb_execution_mode": "cache",
        "nb_execution_cache_path": str(cache_dir),
        "html_theme_options": {"announcement": BANNER},
    }


def build(out: Path) -> int:
    """Build the student edition into ``out`` with warnings as errors; return Sphinx's
    status (0 = success).
    """
    from jupyter_book.sphinx import build_sphinx

    out = out.resolve()
    cache_dir = out.parent / ".jupyter_cache"
    seeded = seed_cache(cache_dir)
    print(
        f"==> student edition: {len(seeded)} executed chapter(s) from the last full "
        "build in the cache",
        flush=True,
    )
    result = build_sphinx(
        ROOT,
        out,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides(cache_dir),
        builder="html",
        warningiserror=True,
        keep_going=True,
    )
    if isinstance(result, Exception):
        return 1
    stripped = strip_sources(out)
    print(
        f"==> solutions removed from {len(stripped)} downloadable source(s)", flush=True
    )
    return int(result)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "_build" / "student" / "html",
        help="where the HTML goes (default: _build/student/html)",
    )
    args = parser.parse_args()
    status = build(args.out)
    if status == 0:
        print(
            f"==> the student edition is in {args.out} (open {args.out / 'index.html'})"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
