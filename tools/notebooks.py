"""Keep the book's notebooks tidy: one set-up cell everywhere, no outputs.

    python tools/notebooks.py sync   # write the canonical set-up cell into each chapter
    python tools/notebooks.py strip  # remove outputs and execution counts
    python tools/notebooks.py check  # exit 1 if either is out of date (a test runs it)

The set-up cell takes the repository address from ``_config.yml``
(``repository.url``), the one place it lives. While ``repository.published``
is ``false`` that address is a placeholder: the cell then never installs from
it, and where lawlib is missing it says that the book is not published yet and
how to install lawlib from a local checkout (``LAWLIB_SOURCE``). Each chapter's
cell passes its own name to ``lawlib.setup`` so that it prints the chapter's
estimated time on the reader's device.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SETUP_TAG = "lawlib-setup"
SETUP_TAGS = (
    SETUP_TAG,
    "hide-input",
)  # the site folds the set-up code away; its output stays visible


def _repository_field(key: str) -> str | None:
    """``repository.<key>`` from ``_config.yml`` (read without a YAML dependency), None
    when absent.
    """
    in_repo = False
    for line in (ROOT / "_config.yml").read_text().splitlines():
        if line.startswith("repository:"):
            in_repo = True
        elif in_repo and line.strip().startswith(f"{key}:"):
            value = line.split(":", 1)[1]
            return (value if key == "url" else value.split("#")[0]).strip().strip("'\"")
        elif in_repo and line and not line.startswith(" "):
            break
    return None


def repository_url() -> str:
    """``repository.url`` from ``_config.yml``."""
    url = _repository_field("url")
    if url is None:
        raise SystemExit("_config.yml has no repository.url")
    return url


def install_ref() -> str:
    """The git ref Colab installs lawlib from (``repository.lawlib_ref`` in
    ``_config.yml``).
    """
    return _repository_field("lawlib_ref") or "main"


def published() -> bool:
    """``repository.published`` from ``_config.yml`` (absent means published)."""
    value = _repository_field("published")
    return value is None or value.lower() not in ("false", "no", "off", "0")


UNPUBLISHED = (
    '"This book is not published yet, so lawlib cannot be installed from "\n'
    '            "its repository. Install it from a local checkout of the book "\n'
    '            "(pip install -e /path/to/checkout), or set LAWLIB_SOURCE="\n'
    '            "/path/to/checkout and run this cell again."'
)


def setup_source(path: Path | None = None) -> str:
    """The canonical set-up cell.

    For ``path`` (a chapter) it passes the chapter's name to ``lawlib.setup``. The
    cell is as ``ruff format`` writes it, no line wider than 88 characters.
    """
    url = repository_url().rstrip("/")
    call = (
        f'lawlib.setup(chapter="{path.stem}")' if path is not None else "lawlib.setup()"
    )
    imports = "import importlib.util\nimport os\nimport subprocess\nimport sys\n"
    if published():
        head = f"""\
# Set-up. In Colab (or anywhere lawlib is missing) install it from the book's
# repository, without touching the installed torch/numpy; then pick the device and
# the scale and print them. LAWLIB_SOURCE overrides where lawlib comes from.
{imports}
REPOSITORY = "git+{url}@{install_ref()}"
LAWLIB_SOURCE = os.environ.get("LAWLIB_SOURCE", REPOSITORY)
if importlib.util.find_spec("lawlib") is None:"""
    else:
        head = f"""\
# Set-up. The book is not published yet (its repository address is a placeholder):
# where lawlib is missing, install it from a local checkout (LAWLIB_SOURCE=/path/to/it)
# without touching the installed torch/numpy; then pick the device and the scale.
{imports}
LAWLIB_SOURCE = os.environ.get("LAWLIB_SOURCE", "")
if importlib.util.find_spec("lawlib") is None:
    if not LAWLIB_SOURCE:
        raise RuntimeError(
            {UNPUBLISHED}
        )"""
    return (
        head
        + f"""
    print("Installing lawlib from", LAWLIB_SOURCE, "...")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", LAWLIB_SOURCE],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(
            "Could not install lawlib from "
            + LAWLIB_SOURCE
            + ":\\n"
            + done.stderr[-3000:]
        )
    importlib.invalidate_caches()

import lawlib

# Device, scale, this chapter's time here (LAWLIB_DEVICE, LAWLIB_SCALE override).
DEVICE, SCALE = {call}
lawlib.use_style()"""
    )


def chapters() -> list[Path]:
    return sorted(p for p in BOOK.glob("*.ipynb"))


def first_code_cell(nb: dict) -> dict | None:
    return next((c for c in nb["cells"] if c["cell_type"] == "code"), None)


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


def sync(path: Path) -> bool:
    nb = json.loads(path.read_text())
    cell = first_code_cell(nb)
    if cell is None:
        raise SystemExit(f"{path}: no code cell")
    want = _lines(setup_source(path))
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    changed = cell["source"] != want or any(t not in tags for t in SETUP_TAGS)
    cell["source"] = want
    tags.extend(t for t in SETUP_TAGS if t not in tags)
    if changed:
        write(path, nb)
    return changed


def strip(path: Path) -> bool:
    nb = json.loads(path.read_text())
    changed = False
    for c in nb["cells"]:
        if c["cell_type"] == "code" and (
            c.get("outputs") or c.get("execution_count") is not None
        ):
            c["outputs"], c["execution_count"] = [], None
            changed = True
    if changed:
        write(path, nb)
    return changed


def write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def problems() -> list[str]:
    out = []
    for p in chapters():
        want = _lines(setup_source(p))
        nb = json.loads(p.read_text())
        cell = first_code_cell(nb)
        if cell is None or "".join(cell["source"]) != "".join(want):
            out.append(
                f"{p.name}: the first code cell is not the canonical set-up cell (run "
                "tools/notebooks.py sync)"
            )
        for c in nb["cells"]:
            if c["cell_type"] == "code" and (
                c.get("outputs") or c.get("execution_count") is not None
            ):
                out.append(
                    f"{p.name}: a code cell carries outputs or an execution count (run "
                    "tools/notebooks.py strip)"
                )
                break
    return out


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "sync":
        for p in chapters():
            if sync(p):
                print("synced", p.name)
    elif cmd == "strip":
        for p in chapters():
            if strip(p):
                print("stripped", p.name)
    elif cmd == "check":
        bad = problems()
        print("\n".join(bad) if bad else "notebooks ok")
        return 1 if bad else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
