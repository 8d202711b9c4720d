"""Small Sphinx fixes for the book's site.

* Jupyter Book 1 registers sphinx-thebe's configuration script twice, so every
  page declared ``const THEBE_JS_URL`` twice and the browser logged a
  SyntaxError. Drop repeated script entries from each page's context.
"""

from __future__ import annotations


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for js in scripts:
        key = (str(getattr(js, "filename", js) or ""), repr(sorted(getattr(js, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique



def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=1)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
