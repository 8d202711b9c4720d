"""The book's version, and the git tag Colab installs lawlib from.

    python tools/release.py check          # exit 1 unless every place below agrees
    python tools/release.py check --publish [--tag v0.3.0] [--repository owner/name]
                                           # ... and the book can be published from it
    python tools/release.py bump 0.3.0     # write 0.3.0 / v0.3.0 everywhere, then
                                           # sync the set-up cells

A class that opens a chapter in Colab must keep working all term, whatever is
pushed to ``main`` later. So the Colab launch buttons open the chapter at the
release tag ``v<version>`` and its set-up cell installs lawlib from that same
tag. The version lives in five places, which this tool writes together and the
tests (tests/test_teaching.py) check together:

* ``pyproject.toml``: ``version = "X.Y.Z"``
* ``lawlib/__init__.py``: ``__version__ = "X.Y.Z"``
* ``_config.yml``: ``repository.branch: vX.Y.Z`` (the launch buttons) and
  ``repository.lawlib_ref: vX.Y.Z`` (the set-up cell, via ``tools/notebooks.py sync``)
* ``CITATION.cff``: ``version: X.Y.Z`` (how to cite)

Release procedure (README.md, "Releasing for a class"): ``bump``, commit, tag
that commit ``vX.Y.Z``, push the commit and the tag; the GitHub Actions
workflow ``.github/workflows/publish.yml`` then tests, builds and publishes the
site and the student edition, after ``check --publish`` has passed:

* everything above agrees;
* ``_config.yml`` ``repository.url`` (the one place the address lives) is not
  a placeholder, and ``repository.published`` is ``true`` (while it is
  ``false`` the site hides its launch buttons and says it is not published);
* the tag being published (``--tag``, default ``$GITHUB_REF_NAME``) is
  ``v`` + pyproject's version;
* in GitHub Actions, the address is the repository the workflow runs in
  (``--repository``, default ``$GITHUB_REPOSITORY``).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

# place: (file, pattern whose group 2 is the value (groups 1 and 3 are kept), the prefix
# before the version)
PLACES = {
    "pyproject.toml version": ("pyproject.toml", r'^(version\s*=\s*")([^"]*)(")', ""),
    "lawlib.__version__": (
        "lawlib/__init__.py",
        r'^(__version__\s*=\s*")([^"]*)(")',
        "",
    ),
    "_config.yml repository.branch": ("_config.yml", r"^(  branch:\s*)(\S+)(.*)$", "v"),
    "_config.yml repository.lawlib_ref": (
        "_config.yml",
        r"^(  lawlib_ref:\s*)(\S+)(.*)$",
        "v",
    ),
    "CITATION.cff version": ("CITATION.cff", r"^(version:\s*)(\S+)(.*)$", ""),
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
    """Disagreements between the four places, and set-up cells that install from another
    ref.
    """
    where, v = found(), version()
    bad = [
        f"{name} is {value!r}, expected {PLACES[name][2] + v!r} (pyproject.toml "
        f"version {v})"
        for name, value in where.items()
        if value != PLACES[name][2] + v
    ]
    if not VERSION.match(v):
        bad.append(f"pyproject.toml version {v!r} is not X.Y.Z")
    want = f'@v{v}"'
    for p in notebooks.chapters():
        cell = notebooks.first_code_cell(json.loads(p.read_text()))
        if cell is None or "".join(cell["source"]) != notebooks.setup_source(p):
            bad.append(
                f"{p.name}: the set-up cell is not the generated one (run "
                "tools/notebooks.py sync)"
            )
        elif notebooks.published() and want not in "".join(cell["source"]):
            bad.append(
                f"{p.name}: the set-up cell does not install lawlib from {want} (run "
                "tools/notebooks.py sync)"
            )
    return bad


# Addresses that are known not to be the book's: the one the template shipped with, and
# the like.
PLACEHOLDER_URLS = (
    "https://github.com/law-of-robustness/lecture-notes",
    "https://github.com/USER/REPO",
    "https://github.com/OWNER/REPO",
    "https://github.com/executablebooks/jupyter-book",
)


def repository() -> dict:
    """``repository`` of ``_config.yml``: ``url`` and ``published``
    (read without a YAML dependency).
    """
    out: dict = {}
    in_repo = False
    for line in (ROOT / "_config.yml").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            in_repo = line.startswith("repository:")
            continue
        if in_repo and ":" in line:
            key, value = line.strip().split(":", 1)
            value = value.split(" #", 1)[0].strip().strip("'\"")
            out[key] = value
    return out


def publish_problems(
    tag: str | None = None, github_repository: str | None = None
) -> list[str]:
    """What stops the book being published from ``tag`` (see the module docstring)."""
    bad = problems()
    repo = repository()
    url = repo.get("url", "").rstrip("/")
    parsed = urlparse(url)
    if (
        not url
        or parsed.scheme != "https"
        or len(parsed.path.strip("/").split("/")) != 2
    ):
        bad.append(
            f"_config.yml repository.url {url!r} is not an https://host/owner/name "
            "address"
        )
    elif any(url.lower() == p.lower() for p in PLACEHOLDER_URLS):
        bad.append(
            f"_config.yml repository.url is the placeholder {url}: set it to the "
            "book's repository"
        )
    if repo.get("published", "false").lower() != "true":
        bad.append(
            "_config.yml repository.published is not true: set it once the repository "
            "is public"
        )
    v = version()
    tag = tag if tag is not None else os.environ.get("GITHUB_REF_NAME", "")
    if not tag:
        bad.append(f"no tag given (--tag v{v}, or GITHUB_REF_NAME)")
    elif tag != f"v{v}":
        bad.append(
            f"the tag {tag!r} does not match pyproject.toml's version {v} (expected "
            f"v{v})"
        )
    github_repository = (
        github_repository
        if github_repository is not None
        else os.environ.get("GITHUB_REPOSITORY", "")
    )
    if (
        github_repository
        and parsed.path.strip("/").lower() != github_repository.lower()
    ):
        bad.append(
            f"_config.yml repository.url {url} is not the repository being built "
            f"({github_repository})"
        )
    return bad


def bump(new: str) -> None:
    """Write ``new`` (X.Y.Z) into the four places and the set-up cell of every
    chapter."""
    if not VERSION.match(new):
        raise SystemExit(f"version must be X.Y.Z, got {new!r}")
    for name, (file, pattern, prefix) in PLACES.items():
        path = ROOT / file
        text, n = re.subn(
            pattern,
            lambda m: m.group(1) + prefix + new + m.group(3),
            path.read_text(),
            count=1,
            flags=re.M,
        )
        if n != 1:
            raise SystemExit(f"{file}: could not find {name}")
        path.write_text(text)
    for p in notebooks.chapters():
        if notebooks.sync(p):
            print("synced", p.name)
    print(
        f"version {new}: now commit, then: git tag v{new} && git push origin main "
        f"v{new}"
    )


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "bump":
        bump(argv[2])
        return 0
    if len(argv) >= 2 and argv[1] == "check":
        import argparse

        parser = argparse.ArgumentParser(prog="release.py check")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="also check that the book can be published",
        )
        parser.add_argument(
            "--tag",
            default=None,
            help="the tag being published (default $GITHUB_REF_NAME)",
        )
        parser.add_argument(
            "--repository",
            default=None,
            help="owner/name being built (default $GITHUB_REPOSITORY)",
        )
        args = parser.parse_args(argv[2:])
        bad = (
            publish_problems(args.tag, args.repository) if args.publish else problems()
        )
        ok = f"version {version()} everywhere" + (
            f"; ready to publish v{version()}" if args.publish else ""
        )
        print("\n".join(bad) if bad else ok)
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
