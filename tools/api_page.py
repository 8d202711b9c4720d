"""Generate the book's API page (book/api.md) from lawlib itself.

Every public name of every lawlib module (its ``__all__``), the first line of
its docstring, the chapters that call it (found by scanning the notebooks for
``lawlib.<name>``, or ``<module>.<name>`` for a chapter module of
``lawlib.chapters``, never written by hand) and where its source is. Each module's
source is shown in a folded block, so a reader can read lawlib on the site.

    python tools/api_page.py          # rewrite book/api.md
    python tools/api_page.py --check  # exit 1 when book/api.md is stale (tested)
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "api.md"
sys.path.insert(0, str(ROOT))


def module_names(root: Path = ROOT) -> list[str]:
    """The dotted names of the modules under ``root/lawlib``, subpackages included.

    A name with a part that starts with ``_`` is left out (private modules), and so
    is ``lawlib`` itself; a subpackage's ``__init__.py`` stands for the subpackage.
    Ordered as the page lists them: core first, then chapter modules.
    """
    names = []
    for path in (root / "lawlib").rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if len(parts) < 2 or any(p.startswith("_") for p in parts):
            continue
        names.append(".".join(parts))
    return sorted(names, key=lambda n: (n.count("."), n))


def modules() -> list[str]:
    """Every lawlib module with a public ``__all__``, in package order.

    Core modules first, then those of subpackages such as ``lawlib.chapters``.
    """
    return [
        name
        for name in module_names()
        if getattr(importlib.import_module(name), "__all__", None)
    ]


def chapters() -> dict[str, str]:
    """Notebook stem → the code of that notebook (all code cells joined)."""
    out = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        code = "\n".join(
            "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
        )
        out[path.stem] = code
    return out


def first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    line = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
    line = re.sub(r":(?:func|class|mod|meth|data|attr):`~?([^`]+)`", r"`\1`", line)
    return line.replace("``", "`")


def as_text(line: str) -> str:
    """A docstring line for the page: one with a formula written as in the source
    (``^``, ``_``, a backslash or ``$``) is shown as code, so that no TeX is left
    as text for the reader."""
    if re.search(r"[_^\\$]", line):
        return f"`{line.replace('`', '')}`"
    return line


def constant_text(obj: object) -> str:
    """A constant for the page: its value when short, else its type and size (a long
    value cut off mid-word, or a function's repr, tells a reader nothing)."""
    shown = " ".join(repr(obj).split())
    if len(shown) <= 60 and " at 0x" not in shown and "<" not in shown:
        return f"a constant, `{shown}`."
    kind = type(obj).__name__
    if isinstance(obj, str):
        return f"a constant: a string of {len(obj)} characters."
    if hasattr(obj, "__len__"):
        return f"a constant: a {kind} of {len(obj)} entries."
    return f"a constant: a {kind}."


def callers(module: str, name: str, code: dict[str, str]) -> list[str]:
    """Chapters whose code calls ``name`` of ``module`` (a whole word).

    A core module's name (``lawlib.<module>``) is found as ``lawlib.<name>`` or
    ``lawlib.<module>.<name>``. A module of a subpackage (``lawlib.chapters.<leaf>``)
    is found as ``lawlib.chapters.<leaf>.<name>``, or as ``<alias>.<name>`` after the
    notebook imported it (``from lawlib.chapters import <leaf> [as <alias>]``,
    ``import lawlib.chapters.<leaf> as <alias>``), or as the name itself imported
    with ``from lawlib.chapters.<leaf> import <name>``.
    """
    if module.count(".") < 2:
        short = module.split(".", 1)[1]
        pattern = re.compile(rf"\blawlib\.(?:{re.escape(short)}\.)?{re.escape(name)}\b")
        return [stem for stem, text in code.items() if pattern.search(text)]
    return [stem for stem, text in code.items() if _calls(module, name, text)]


def _imported(source: str, text: str) -> list[tuple[str, str, int]]:
    """``(name, alias, end)`` for each name of ``from <source> import ...`` in ``text``.

    ``end`` is where the import statement ends; a parenthesized list may span lines.
    """
    pattern = (
        rf"^[ \t]*from[ \t]+{re.escape(source)}[ \t]+import[ \t]+"
        r"(?:\((?P<many>[^)]*)\)|(?P<one>[^\n#]*))"
    )
    out = []
    for found in re.finditer(pattern, text, flags=re.M):
        listed = re.sub(r"#[^\n]*", "", found["many"] or found["one"] or "")
        for item in listed.split(","):
            words = item.split()
            if words:
                out.append((words[0], words[-1], found.end()))
    return out


def _calls(module: str, name: str, text: str) -> bool:
    """Whether ``text`` calls ``name`` of the subpackage module ``module``."""
    package, leaf = module.rsplit(".", 1)
    word = re.escape(name)
    if re.search(rf"\b{re.escape(module)}\.{word}\b", text):
        return True
    aliases = [(a, end) for n, a, end in _imported(package, text) if n == leaf]
    plain = rf"^[ \t]*import[ \t]+{re.escape(module)}[ \t]+as[ \t]+(\w+)"
    aliases += [(m[1], m.end()) for m in re.finditer(plain, text, flags=re.M)]
    if any(re.search(rf"\b{a}\.{word}\b", text[end:]) for a, end in aliases):
        return True
    return any(n == name for n, _, _ in _imported(module, text))


def render() -> str:
    code = chapters()
    lines = [
        "# lawlib: the API",
        "",
        "Every public name of `lawlib`, the package the chapters import, with the",
        "first line of its docstring, the line of its module where its source starts",
        "and the chapters that call it. Each module's source is folded below its list:",
        "reading it is part of the course.",
        "",
    ]
    for module in modules():
        mod = importlib.import_module(module)
        rel = module.replace(".", "/") + ".py"
        if not (ROOT / rel).exists():
            rel = module.replace(".", "/") + "/__init__.py"
        lines += [f"## `{module}`", "", as_text(first_line(mod)), ""]
        for name in mod.__all__:
            obj = getattr(mod, name)
            try:
                where = f"line {inspect.getsourcelines(obj)[1]}"
            except (TypeError, OSError):
                where = rel
            used = ", ".join(f"{{doc}}`{stem}`" for stem in callers(module, name, code))
            if inspect.isclass(obj) or inspect.isroutine(obj):
                what = as_text(first_line(obj))
            else:
                what = constant_text(obj)
            lines.append(
                f"- **`{name}`** ({where}): {what} *Called in* {used}."
                if used
                else f"- **`{name}`** ({where}): {what} *Not called by a chapter.*"
            )
        lines += [
            "",
            # a colon fence: a backtick fence's info string may not contain backticks
            f"::::{{dropdown}} Source of `{rel}`",
            f"```{{literalinclude}} ../{rel}",
            ":language: python",
            ":linenos:",
            "```",
            "::::",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="fail when book/api.md is stale"
    )
    args = parser.parse_args()
    text = render()
    if args.check:
        if not PAGE.exists() or PAGE.read_text() != text:
            print("book/api.md is stale: run python tools/api_page.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
