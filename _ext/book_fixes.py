"""Small Sphinx fixes and additions for the book's site.

* Jupyter Book 1 registers sphinx-thebe's configuration script twice, so every
  page declared ``const THEBE_JS_URL`` twice and the browser logged a
  SyntaxError. Drop repeated script entries from each page's context.
* ``_vendor/js/book-fixes.js`` on every page: makes the sidebar toggles work
  (pydata-sphinx-theme 0.17.1 with sphinx-book-theme 1.3.0 bind their handlers
  to a hidden copy of each toggle).
* Publishing state. The repository address lives in one place,
  ``_config.yml`` ``repository.url``; ``repository.published`` says whether the
  book has been published there. While it is ``false`` the launch buttons
  (Colab, Binder), the repository and issues buttons are left out, since they
  would lead to an address that does not exist yet, and every chapter says
  plainly that the book is not yet published.
* Every page's footer says which version (release tag, git commit) of the book
  it was built from.
* The execution-statistics table (myst-nb's ``nb-exec-table``) names each chapter
  by its title, not its file name, and says "ran" or "failed" in words (its
  emoji showed as an empty box where the font lacks it).
* The role ``{optional-doc}`name``` links to a page of the book by its title,
  like ``{doc}``, and writes plain text (the name) without a warning when
  that page is not in this build (a chapter being written on another branch).
* Chapter numbers start at ``book_first_chapter`` (default 0: the book's
  chapters are 0 to 8, as in its design). Sphinx numbers the chapters of a
  numbered table of contents from 1; this shifts every section number, and so
  every figure, theorem and exercise number ("Exercise 0.3", "Figure 5.2"),
  by ``1 - book_first_chapter``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from docutils import nodes

UNPUBLISHED_NOTE = (
    '<div class="admonition note book-unpublished" role="note">'
    '<p class="admonition-title">Not yet published</p>'
    "<p>This book is not yet published; run the chapters locally (see the README: "
    "<code>./book.sh build</code>, or open <code>book/</code> in Jupyter).</p></div>"
)


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for js in scripts:
        key = (
            str(getattr(js, "filename", js) or ""),
            repr(sorted(getattr(js, "attributes", {}).items())),
        )
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique


def book_config(root: Path) -> dict:
    """The book's ``_config.yml`` (Jupyter Book's own file, read directly for the keys
    it does not pass on).
    """
    path = root / "_config.yml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def is_published(root: Path) -> bool:
    return bool((book_config(root).get("repository") or {}).get("published", False))


def build_info(root: Path) -> str:
    """``version 0.2.0 (release tag v0.2.0, commit abc1234)`` for the page footer."""
    version = "unknown"
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        m = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(), flags=re.M)
        if m:
            version = m.group(1)

    def git(*args: str) -> str:
        try:
            out = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    tag = git("describe", "--tags", "--exact-match", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    if tag == f"v{version}" and not dirty:
        where = f"release {tag}"
    else:
        where = f"version {version}, not a tagged release"
    details = (
        f", commit {commit}{' with local changes' if dirty else ''}" if commit else ""
    )
    return f"Built from {where}{details}."


def _configure(app, config):
    root = Path(app.srcdir)
    opts = config.html_theme_options
    if not is_published(root):
        opts["launch_buttons"] = {}
        for key in (
            "use_repository_button",
            "use_issues_button",
            "use_edit_page_button",
        ):
            opts[key] = False
    info = build_info(root)
    app.env_build_info = info  # type: ignore[attr-defined]
    footer = f'<p class="book-build-info">{info}</p>'
    opts["extra_footer"] = (opts.get("extra_footer") or "") + footer


def _unpublished_note(app, pagename, templatename, context, doctree):
    """Under the title of every chapter (a notebook), while the book is unpublished."""
    if doctree is None or is_published(Path(app.srcdir)):
        return
    try:
        source = str(app.env.doc2path(pagename))
    except Exception:  # a generated page
        return
    if not source.endswith(".ipynb") or "body" not in context:
        return
    body = context["body"]
    i = body.find("</h1>")
    if i >= 0:
        context["body"] = body[: i + 5] + UNPUBLISHED_NOTE + body[i + 5 :]


def _shift(number, by):
    if not number:
        return number
    return type(number)([number[0] + by, *number[1:]])


def _patch_chapter_numbers(app):
    """Make the first numbered chapter ``book_first_chapter``
    (see the module docstring).
    """
    by = int(app.config.book_first_chapter) - 1
    if by == 0:
        return
    # Jupyter Book's collector (sphinx-external-toc) renumbers after Sphinx's: shift
    # after it
    try:
        from sphinx_external_toc.collectors import (
            TocTreeCollectorWithStyles as TocTreeCollector,
        )
    except ImportError:
        from sphinx.environment.collectors.toctree import TocTreeCollector

    original = TocTreeCollector.assign_section_numbers
    if getattr(original, "_book_shifted", False):
        return

    def assign_section_numbers(self, env):
        rewrite = original(self, env)
        for secnums in env.toc_secnumbers.values():
            for anchor, number in list(secnums.items()):
                secnums[anchor] = _shift(number, by)
        for tree in list(env.tocs.values()) + list(env.titles.values()):
            for node in tree.findall(
                lambda n: isinstance(n, nodes.Element) and n.get("secnumber")
            ):
                node["secnumber"] = _shift(node["secnumber"], by)
        return rewrite

    assign_section_numbers._book_shifted = True  # type: ignore[attr-defined]
    TocTreeCollector.assign_section_numbers = assign_section_numbers


def _patch_execution_table() -> None:
    from myst_nb.ext import execution_tables as et

    if getattr(et.make_stat_table, "_book_titles", False):
        return
    et._key2transform["succeeded"] = lambda ok: "ran" if ok else "failed"
    et._key2header["succeeded"] = "Status"
    original = et.make_stat_table

    def make_stat_table(parent_docname, metadata):
        from sphinx.addnodes import pending_xref

        table = original(parent_docname, metadata)
        for xref in table.findall(pending_xref):
            if xref.get("reftype") == "doc":
                xref["refexplicit"] = (
                    False  # the std domain then writes the document's title
                )
        return table

    make_stat_table._book_titles = True  # type: ignore[attr-defined]
    et.make_stat_table = make_stat_table


def _optional_doc_role(
    name, rawtext, text, lineno, inliner, options=None, content=None
):
    from sphinx.addnodes import pending_xref

    env = inliner.document.settings.env
    node = pending_xref(
        rawtext,
        refdomain="std",
        reftype="doc",
        reftarget=text,
        refexplicit=False,
        refwarn=True,
        refdoc=env.docname,
        book_optional=True,
    )
    node += nodes.inline(text, text, classes=["xref", "std", "std-doc"])
    return [node], []


def _optional_doc_missing(app, env, node, contnode):
    """An ``{optional-doc}`` to a page that is not built: its name in italics, no
    warning.
    """
    if node.get("book_optional"):
        return nodes.emphasis(text=node["reftarget"].rsplit("/", 1)[-1])
    return None


def setup(app):
    app.add_role("optional-doc", _optional_doc_role)
    app.connect("missing-reference", _optional_doc_missing)
    _patch_execution_table()
    app.add_config_value("book_first_chapter", 0, "env")
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _patch_chapter_numbers)
    app.connect("html-page-context", _dedupe_scripts, priority=1)
    app.connect("html-page-context", _unpublished_note)
    app.add_js_file("book-fixes.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
