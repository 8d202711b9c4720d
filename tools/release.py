"""The book's version, and the git tag Colab installs lawlib from.

    python tools/release.py check          # exit 1 unless every place below agrees
    python tools/release.py bump 0.3.0     # write 0.3.0 / v0.3.0 everywhere, then sync the set-up cells

A class that opens a chapter in Colab must keep working all term, whatever is
pushed to ``main`` later. So the Colab launch buttons open the chapter at the
release tag ``v<version>`` and its set-up cell installs lawlib from that same
tag. The version lives in four places, which this tool writes together and the
tests (tests/test_teaching.py) check together:

* ``pyproject.toml``: ``version = "X.Y.Z"``
* ``lawlib/__init__.py``: ``__version__ = "X.Y.Z"``
* ``_config.yml``: ``repository.branch: vX.Y.Z`` (the launch buttons) and
  ``repository.lawlib_ref: vX.Y.Z`` (the set-up cell, via ``tools/notebooks.py sync``)

Release procedure (README.md, "Releasing for a class"): ``bump``, commit, tag
that commit ``vX.Y.Z``, push the commit and the tag, publish the site built
from it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

# place: (file, pattern whose group 2 is the value (groups 1 and 3 are kept), the prefix before the version)
PLACES = {
    "pyproject.toml version": ("pyproject.toml", r'^(version\s*=\s*")([^"]*)(")', ""),
    "lawlib.__version__": ("lawlib/__init__.py", r'^(__version__\s*=\s*")([^"]*)(")', ""),
    "_config.yml repository.branch": ("_config.yml", r"^(  branch:\s*)(\S+)(.*)$", "v"),
    "_config.yml repository.lawlib_ref": ("_config.yml", r"^(  lawlib_ref:\s*)(\S+)(.*)$", "v"),
}
VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def found() -> dict[str, str]:
    """What each place says, as written (``?`` if the place is missing)."""
    out = {}
    for name, (file, pattern, _) in PLACES.items():
        m = re.search(pattern, (ROOT / file).read_text(), flags=re.M)
        out[name] = m.group(2).strip("'\"") if m else "?"
    return out


def version() -> str:
    """The book's version, as pyproject.toml gives it."""
    return found()["pyproject.toml version"]


def problems() -> list[str]:
    """Disagreements between the four places, and set-up cells that install from another ref."""
    where, v = found(), version()
    bad = [f"{name} is {value!r}, expected {PLACES[name][2] + v!r} (pyproject.toml version {v})"
           for name, value in where.items() if value != PLACES[name][2] + v]
    if not VERSION.match(v):
        bad.append(f"pyproject.toml version {v!r} is not X.Y.Z")
    want = f"@v{v}\""
    for p in notebooks.chapters():
        cell = notebooks.first_code_cell(json.loads(p.read_text()))
        if cell is None or want not in "".join(cell["source"]):
            bad.append(f"{p.name}: the set-up cell does not install lawlib from {want} (run tools/notebooks.py sync)")
    return bad


def bump(new: str) -> None:
    """Write ``new`` (X.Y.Z) into the four places and the set-up cell of every chapter."""
    if not VERSION.match(new):
        raise SystemExit(f"version must be X.Y.Z, got {new!r}")
    for name, (file, pattern, prefix) in PLACES.items():
        path = ROOT / file
        text, n = re.subn(pattern, lambda m: m.group(1) + prefix + new + m.group(3), path.read_text(),
                          count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"{file}: could not find {name}")
        path.write_text(text)
    for p in notebooks.chapters():
        if notebooks.sync(p):
            print("synced", p.name)
    print(f"version {new}: now commit, then: git tag v{new} && git push origin main v{new}")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "bump":
        bump(argv[2])
        return 0
    if len(argv) == 2 and argv[1] == "check":
        bad = problems()
        print("\n".join(bad) if bad else f"version {version()} everywhere")
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
